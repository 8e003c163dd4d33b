package api

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// maxActivityWindow bounds the window of an activity summary: it reads
// one index key per receive or ship event in the window.
const maxActivityWindow = 31 * 24 * time.Hour

// clientActivity is what one client received and shipped in a window.
type clientActivity struct {
	Client string `json:"client"`
	// Receipts are receive events, ReceivedUnits the saleable units they
	// took in (through cases and pallets), ASNs the distinct ASNs.
	Receipts      int `json:"receipts"`
	ReceivedUnits int `json:"receivedUnits"`
	ASNs          int `json:"asns"`
	// Shipping are ship events, ShippedUnits the saleable units they
	// shipped, Shipments the distinct shipments.
	Shipping     int `json:"shipping"`
	ShippedUnits int `json:"shippedUnits"`
	Shipments    int `json:"shipments"`
}

// activity answers what each client the user is granted (or the one
// ?client= names) received and shipped with event times (the time the
// device recorded the work) in [from, to): GET /api/v1/activity.
func (s *Server) activity(c *fiber.Ctx) error {
	from, err := timeParam(c, "from")
	if err != nil {
		return err
	}
	to, err := timeParam(c, "to")
	if err != nil {
		return err
	}
	switch {
	case !to.After(from):
		return badField("to", "must be after from")
	case to.Sub(from) > maxActivityWindow:
		return badField("to", "a window of at most %d days", int(maxActivityWindow/(24*time.Hour)))
	}
	see := sees(c)
	only := c.Query("client")
	if only != "" && !see(only) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, only)
	}
	out := []clientActivity{}
	err = s.read(c, func(r *state.Reader) error {
		clients, err := r.Clients(func(x *master.Client) bool { return see(x.ID) && (only == "" || x.ID == only) })
		if err != nil {
			return err
		}
		for _, cl := range clients {
			n, err := r.Activity(cl.ID, from, to)
			if err != nil {
				return err
			}
			out = append(out, clientActivity{Client: cl.ID, Receipts: n.Receipts, ReceivedUnits: n.ReceivedUnits, ASNs: n.ASNs,
				Shipping: n.Shipping, ShippedUnits: n.ShippedUnits, Shipments: n.Shipments})
		}
		return nil
	})
	return respond(c, err, func() any {
		return fiber.Map{"from": from.UTC(), "to": to.UTC(), "clients": out}
	})
}

// timeParam is a required RFC 3339 query parameter.
func timeParam(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, badField(name, "required: a time in RFC 3339, e.g. 2026-12-07T00:00:00+01:00")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badField(name, "%q is not a time in RFC 3339, e.g. 2026-12-07T00:00:00+01:00", v)
	}
	return t, nil
}
