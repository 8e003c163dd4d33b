package api

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// newID stamps a fresh UUIDv7: the proposer chooses ids, never Apply.
func newID() (event.ID, error) { return event.NewID(time.Now(), rand.Reader) }

func (s *Server) listASNs(c *fiber.Ctx) error {
	see := sees(c)
	var out []master.ASN
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.ASNs(func(a *master.ASN) bool { return see(a.Client) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) getASN(c *fiber.Ctx) error {
	var v master.ASN
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.ASN(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

// importASN records an ASN: every item becomes expected at the site.
func (s *Server) importASN(c *fiber.Ctx) error {
	var a master.ASN
	if err := decode(c, &a); err != nil {
		return err
	}
	return s.proposeASN(c, a)
}

func (s *Server) proposeASN(c *fiber.Ctx, a master.ASN) error {
	if !sees(c)(a.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, a.Client)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	cmd := command.ASN{ASN: a, User: user(c).ID, At: s.clock.Now(), IDs: make([]event.ID, len(a.Items))}
	for i := range cmd.IDs {
		id, err := newID()
		if err != nil {
			return err
		}
		cmd.IDs[i] = id
	}
	raw, err := s.propose(c, command.TypeASN, cmd)
	if err != nil {
		return err
	}
	var res command.ASNResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"asn": a.ID, "items": len(a.Items), "verdicts": toVerdicts(res.Verdicts)})
}

func (s *Server) listOrders(c *fiber.Ctx) error {
	see := sees(c)
	var out []master.Order
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Orders(func(o *master.Order) bool { return see(o.Client) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) getOrder(c *fiber.Ctx) error {
	var v master.Order
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Order(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

func (s *Server) putOrder(c *fiber.Ctx) error {
	var v master.Order
	if err := decode(c, &v); err != nil {
		return err
	}
	if !sees(c)(v.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, v.Client)
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeOrder, v)
}

func (s *Server) listShipments(c *fiber.Ctx) error {
	see := sees(c)
	var out []master.Shipment
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Shipments(func(x *master.Shipment) bool { return see(x.Client) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) getShipment(c *fiber.Ctx) error {
	var v master.Shipment
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Shipment(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

func (s *Server) putShipment(c *fiber.Ctx) error {
	var v master.Shipment
	if err := decode(c, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return badField("id", "required")
	}
	if !sees(c)(v.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, v.Client)
	}
	for i, k := range v.Containers {
		if err := k.Validate(); err != nil {
			return badField(fmt.Sprintf("containers[%d]", i), "%v", err)
		}
	}
	return s.putRecord(c, command.TypeShipment, v)
}
