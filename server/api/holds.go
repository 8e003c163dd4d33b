package api

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// holdWire is a lot or product hold as the API speaks it (reason by name).
type holdWire struct {
	ID     string           `json:"id"`
	Client string           `json:"client"`
	Scope  master.HoldScope `json:"scope"`
	GTIN   string           `json:"gtin"`
	Lot    string           `json:"lot,omitempty"`
	Reason string           `json:"reason"`
	Note   string           `json:"note,omitempty"`
	Active bool             `json:"active"`
	By     string           `json:"by"`
	At     hlc.Timestamp    `json:"at"`
}

func toHoldWire(h master.Hold) holdWire {
	return holdWire{ID: h.ID, Client: h.Client, Scope: h.Scope, GTIN: h.GTIN, Lot: h.Lot, Reason: h.Reason.String(),
		Note: h.Note, Active: h.Active, By: h.By, At: h.At}
}

func (s *Server) listHolds(c *fiber.Ctx) error {
	see := sees(c)
	gtin := c.Query("gtin")
	var out []master.Hold
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Holds(func(h *master.Hold) bool { return see(h.Client) && (gtin == "" || h.GTIN == gtin) })
		return err
	})
	return respond(c, err, func() any {
		w := make([]holdWire, len(out))
		for i, h := range out {
			w[i] = toHoldWire(h)
		}
		return items(w)
	})
}

func (s *Server) getHold(c *fiber.Ctx) error {
	var h master.Hold
	err := s.read(c, func(r *state.Reader) error { var err error; h, err = r.Hold(param(c, "id")); return err })
	if err == nil && !sees(c)(h.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return toHoldWire(h) })
}

// createHold puts a lot or a product on hold (a recall): every unit of
// it inherits the hold at once, on every replica and handheld.
func (s *Server) createHold(c *fiber.Ctx) error {
	var w holdWire
	if err := decode(c, &w); err != nil {
		return err
	}
	reason, err := event.ParseHoldReason(w.Reason)
	if err != nil {
		return badField("reason", "%v", err)
	}
	if !sees(c)(w.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, w.Client)
	}
	// The server names holds; an admin may name one (records carried
	// over from another system), never over another client's hold.
	if w.ID == "" || user(c).Role != master.RoleAdmin {
		id, err := newID()
		if err != nil {
			return err
		}
		w.ID = "H" + id.String()
	}
	h := master.Hold{ID: w.ID, Client: w.Client, Scope: w.Scope, GTIN: w.GTIN, Lot: w.Lot, Reason: reason, Note: w.Note,
		Active: true, By: user(c).ID, At: s.clock.Now()}
	if err := h.Validate(); err != nil {
		return err
	}
	if err := s.idFree(c, "hold", h.ID, h.Client, func(r *state.Reader) (string, error) {
		x, err := r.Hold(h.ID)
		return x.Client, err
	}); err != nil {
		return err
	}
	// A hold covers a product of its own client only (the processor
	// checks again in log order).
	var p master.Product
	err = s.node.State().View(func(r *state.Reader) error { var err error; p, err = r.Product(h.GTIN); return err })
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if err != nil || p.Client != h.Client {
		return badField("gtin", "%s is not a product of client %q", h.GTIN, h.Client)
	}
	if _, err := s.propose(c, command.TypeHold, h); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toHoldWire(h))
}

func (s *Server) releaseHold(c *fiber.Ctx) error {
	var h master.Hold
	err := s.read(c, func(r *state.Reader) error { var err error; h, err = r.Hold(param(c, "id")); return err })
	if err != nil {
		return err
	}
	if !sees(c)(h.Client) {
		return ErrNotFound
	}
	h.Active, h.By, h.At = false, user(c).ID, s.clock.Now()
	if _, err := s.propose(c, command.TypeHold, h); err != nil {
		return err
	}
	return c.JSON(toHoldWire(h))
}
