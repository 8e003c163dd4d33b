package api

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// MaxSubmit is the most events one request may carry.
const MaxSubmit = event.MaxBatch

type submitRequest struct {
	Events []event.Event `json:"events"`
}

func (s *Server) submitEvents(c *fiber.Ctx) error {
	var req submitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Events) == 0 {
		return badField("events", "no events")
	}
	if len(req.Events) > MaxSubmit {
		return fmt.Errorf("%w: %d events, at most %d per request", fiber.ErrRequestEntityTooLarge, len(req.Events), MaxSubmit)
	}
	u := user(c)
	for i := range req.Events {
		if err := bindEvent(u, &req.Events[i]); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
		if err := checkEvent(&req.Events[i]); err != nil {
			return badField(fmt.Sprintf("events[%d].%s", i, err.Field), "%s", err.Reason)
		}
	}
	if err := s.eventsOwned(req.Events); err != nil {
		return err
	}
	vs, err := s.node.SubmitEvents(c.UserContext(), req.Events, false)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"verdicts": toVerdicts(vs)})
}

// APIDevicePrefix begins the device names the HTTP API accepts from a
// user who is not an admin: "api:<user>" or "api:<user>:<name>".
const APIDevicePrefix = "api:"

// syncPath is where handhelds push their events (syncsite.Path).
const syncPath = "/api/v1/sync"

// bindEvent ties a submitted event to the request's user: the event acts
// as that user (so the rules' authority checks see who really sent it),
// for a client the user is granted, in a device sequence of the user's
// own. An admin may name any device (imports, tools) except a device id
// of the form certificates carry: handhelds reach the site through the
// sync endpoint, which takes the device from its certificate, and no
// user may take a place in their sequences.
func bindEvent(u *master.User, ev *event.Event) error {
	switch ev.User {
	case "":
		ev.User = u.ID
	case u.ID:
	default:
		return fmt.Errorf("%w: the event names user %q, the request is by %q", ErrForbidden, ev.User, u.ID)
	}
	if _, err := certs.ParseDeviceID(ev.Device); err == nil {
		return fmt.Errorf("%w: device %s is a handheld known by its certificate: its events come only through %s",
			ErrForbidden, ev.Device, syncPath)
	}
	if !u.Sees(ev.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, ev.Client)
	}
	if u.Role != master.RoleAdmin && !ownDevice(u.ID, ev.Device) {
		return fmt.Errorf("%w: device %q: a user submits under %q or %q", ErrForbidden, ev.Device,
			APIDevicePrefix+u.ID, APIDevicePrefix+u.ID+":<name>")
	}
	return nil
}

// checkEvent is what apply checks, before anything is proposed: the
// event's envelope, limits and identifiers (event.Validate) and that its
// entry can be read back (event.Admit). An event the site would only
// record as rejected is refused here instead, naming the field.
func checkEvent(ev *event.Event) *event.FieldError {
	var fe *event.FieldError
	if err := ev.Validate(); err != nil {
		if errors.As(err, &fe) {
			return fe
		}
		return &event.FieldError{Field: "event", Reason: err.Error(), Err: err}
	}
	if err := ev.Admit(); err != nil {
		return &event.FieldError{Field: "event", Reason: err.Error(), Err: err}
	}
	return nil
}

// ownDevice reports whether device is one of user's API devices.
func ownDevice(user, device string) bool {
	own := APIDevicePrefix + user
	return device == own || strings.HasPrefix(device, own+":")
}

func (s *Server) getEvent(c *fiber.Ctx) error {
	id, err := event.ParseID(param(c, "id"))
	if err != nil {
		return badField("id", "not an event id")
	}
	var rec state.Record
	err = s.read(c, func(r *state.Reader) error { var err error; rec, err = r.Event(id); return err })
	if err == nil && !sees(c)(rec.Event.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return toRecord(&rec) })
}

// unitKey reads a unit key from the path: the element string
// ("01"+GTIN+"21"+serial or "00"+SSCC), URL-escaped when needed.
func unitKey(c *fiber.Ctx) (event.Key, error) {
	k, err := event.ParseKey(param(c, "key"))
	if err != nil {
		return "", badField("key", "%v", err)
	}
	return k, nil
}

type unitView struct {
	Unit      unitWire     `json:"unit"`
	Inherited string       `json:"inheritedHolds,omitempty"`
	History   []recordWire `json:"history"`
}

func (s *Server) getUnit(c *fiber.Ctx) error {
	k, err := unitKey(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "history", 1000, 100000)
	if err != nil {
		return err
	}
	var v unitView
	err = s.read(c, func(r *state.Reader) error {
		st, err := r.Unit(k)
		if err != nil {
			return err
		}
		if !st.Known() || !sees(c)(st.Client) {
			return ErrNotFound
		}
		inh, err := r.Inherited(st)
		if err != nil {
			return err
		}
		v.Unit, v.Inherited = toUnit(st, inh), inh.String()
		hist, err := r.History(k, limit)
		if err != nil {
			return err
		}
		v.History = make([]recordWire, len(hist))
		for i := range hist {
			v.History[i] = toRecord(&hist[i])
		}
		return nil
	})
	return respond(c, err, func() any { return v })
}

func (s *Server) unitFilter(c *fiber.Ctx, defLimit int) (state.UnitFilter, error) {
	f := state.UnitFilter{GTIN: c.Query("gtin"), Lot: c.Query("lot"), Location: c.Query("location"),
		Held: c.Query("held") == "1" || c.Query("held") == "true", After: c.Query("after"), Client: sees(c)}
	_, lotGiven := c.Queries()["lot"]
	f.AnyLot = !lotGiven
	if p := c.Query("parent"); p != "" {
		k, err := event.ParseKey(p)
		if err != nil {
			return f, badField("parent", "%v", err)
		}
		f.Parent = k
	}
	if st := c.Query("status"); st != "" {
		v, err := unit.ParseStatus(st)
		if err != nil || v == unit.StatusNone {
			return f, badField("status", "unknown status %q", st)
		}
		f.Status = v
	}
	if f.Lot != "" && f.GTIN == "" {
		return f, badField("gtin", "a lot query needs the GTIN too")
	}
	var err error
	f.Limit, err = queryInt(c, "limit", defLimit, 100000)
	if f.Limit == 0 {
		f.Limit = defLimit
	}
	return f, err
}

func (s *Server) listUnits(c *fiber.Ctx) error {
	f, err := s.unitFilter(c, 1000)
	if err != nil {
		return err
	}
	var out list[unitWire]
	err = s.read(c, func(r *state.Reader) error {
		page, err := r.Units(f)
		if err != nil {
			return err
		}
		out, err = unitsOut(r, page)
		return err
	})
	return respond(c, err, func() any { return out })
}

// lotUnits answers a recall question: every unit of GTIN + lot.
func (s *Server) lotUnits(c *fiber.Ctx) error {
	f, err := s.unitFilter(c, 100000)
	if err != nil {
		return err
	}
	f.GTIN, f.Lot, f.AnyLot = param(c, "gtin"), param(c, "lot"), false
	var out list[unitWire]
	err = s.read(c, func(r *state.Reader) error {
		page, err := r.Units(f)
		if err != nil {
			return err
		}
		out, err = unitsOut(r, page)
		return err
	})
	return respond(c, err, func() any { return out })
}
