package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

const (
	ackStatus     = unit.ExceptionAcknowledged
	resolveStatus = unit.ExceptionResolved
)

func (s *Server) listExceptions(c *fiber.Ctx) error {
	f := state.ExceptionFilter{Rule: unit.Rule(c.Query("rule")), After: c.Query("after"), Client: sees(c)}
	if st := c.Query("status"); st != "" {
		if err := f.Status.UnmarshalText([]byte(st)); err != nil {
			return badField("status", "want open, acknowledged or resolved")
		}
	}
	if u := c.Query("unit"); u != "" {
		k, err := event.ParseKey(u)
		if err != nil {
			return badField("unit", "%v", err)
		}
		f.Unit = k
	}
	var err error
	if f.Limit, err = queryInt(c, "limit", 500, 10000); err != nil {
		return err
	}
	var page state.Page[unit.Exception]
	err = s.read(c, func(r *state.Reader) error { var err error; page, err = r.Exceptions(f); return err })
	return respond(c, err, func() any {
		l := items(page.Items)
		l.Next = page.Next
		return l
	})
}

func (s *Server) getException(c *fiber.Ctx) error {
	var x unit.Exception
	err := s.read(c, func(r *state.Reader) error { var err error; x, err = r.Exception(param(c, "id")); return err })
	if err == nil && !sees(c)(x.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return x })
}

type exceptionNote struct {
	Note string `json:"note"`
}

// exceptionTo moves an exception along open → acknowledged → resolved.
func (s *Server) exceptionTo(to unit.ExceptionStatus) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := param(c, "id")
		var note exceptionNote
		if len(c.Body()) > 0 {
			if err := decode(c, &note); err != nil {
				return err
			}
		}
		var x unit.Exception
		if err := s.node.State().View(func(r *state.Reader) error { var err error; x, err = r.Exception(id); return err }); err != nil {
			return err
		}
		if !sees(c)(x.Client) {
			return ErrNotFound
		}
		upd := command.ExceptionUpdate{ID: id, Status: to, By: user(c).ID, Note: note.Note, At: s.clock.Now()}
		if _, err := s.propose(c, command.TypeException, upd); err != nil {
			return err
		}
		if x.Status != to {
			x.Status, x.By, x.Note = to, upd.By, upd.Note
			if upd.At > x.Updated {
				x.Updated = upd.At
			}
		}
		return c.JSON(x)
	}
}
