package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// investigationWire is an investigation with its clock: when the
// notifications are due, the time left, and whether they are overdue
// (a high-severity exception for whoever reads it).
type investigationWire struct {
	state.Investigation
	Due      *time.Time `json:"due,omitempty"`
	TimeLeft string     `json:"timeLeft,omitempty"`
	Overdue  bool       `json:"overdue,omitempty"`
	Severity string     `json:"severity,omitempty"`
}

func toInvestigationWire(v state.Investigation, now time.Time) investigationWire {
	w := investigationWire{Investigation: v}
	ck := compliance.ClockOf(&v, now)
	if ck.Due.IsZero() {
		return w
	}
	w.Due = &ck.Due
	if ck.Running {
		w.TimeLeft = ck.Left.String()
	}
	if ck.Overdue {
		w.Overdue, w.Severity = true, "high"
	}
	return w
}

// openInvestigation opens an investigation ({client, scope, gtin, lot,
// keys, trigger, exception, description}): what it covers is
// quarantined at once.
func (s *Server) openInvestigation(c *fiber.Ctx) error {
	var body struct {
		Client      string      `json:"client"`
		Scope       string      `json:"scope"`
		GTIN        string      `json:"gtin"`
		Lot         string      `json:"lot"`
		Keys        []event.Key `json:"keys"`
		Trigger     string      `json:"trigger"`
		Exception   string      `json:"exception"`
		Description string      `json:"description"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Description == "" {
		return badField("description", "required: what is suspected and why")
	}
	if !sees(c)(body.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, body.Client)
	}
	for i, k := range body.Keys {
		if err := k.Validate(); err != nil {
			return badField(fmt.Sprintf("keys[%d]", i), "%v", err)
		}
	}
	if body.Exception != "" {
		var x unit.Exception
		err := s.node.State().View(func(r *state.Reader) error { var err error; x, err = r.Exception(body.Exception); return err })
		if errors.Is(err, state.ErrNotFound) || err == nil && x.Client != body.Client {
			return badField("exception", "no exception %q of client %q", body.Exception, body.Client)
		}
		if err != nil {
			return err
		}
	}
	id, err := newID()
	if err != nil {
		return err
	}
	hold, err := newID()
	if err != nil {
		return err
	}
	st := command.InvestigationStep{ID: "INV-" + id.String()[:18], Action: command.ActionOpen, By: user(c).ID, At: s.clock.Now(),
		Note: body.Description, Client: body.Client, Scope: body.Scope, GTIN: body.GTIN, Lot: body.Lot, Keys: body.Keys,
		Trigger: body.Trigger, Exception: body.Exception, Event: hold}
	return s.investigationStep(c, st, fiber.StatusCreated)
}

// investigationAction takes a step of an open investigation: clear
// ({note}), illegitimate ({note}), notified ({to, note}), dispose
// ({disposition, note}).
func (s *Server) investigationAction(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var body struct {
			Note        string `json:"note"`
			To          string `json:"to"`
			Disposition string `json:"disposition"`
		}
		if len(c.Body()) > 0 {
			if err := decode(c, &body); err != nil {
				return err
			}
		}
		var v state.Investigation
		err := s.node.State().View(func(r *state.Reader) error { var err error; v, err = r.Investigation(param(c, "id")); return err })
		if err == nil && !sees(c)(v.Client) {
			err = ErrNotFound
		}
		if err != nil {
			return err
		}
		st := command.InvestigationStep{ID: v.ID, Action: action, By: user(c).ID, At: s.clock.Now(), Note: body.Note,
			To: body.To, Disposition: body.Disposition}
		if action == command.ActionClear {
			if st.Event, err = newID(); err != nil {
				return err
			}
		}
		return s.investigationStep(c, st, fiber.StatusOK)
	}
}

func (s *Server) investigationStep(c *fiber.Ctx, st command.InvestigationStep, status int) error {
	raw, err := s.propose(c, command.TypeInvestigation, st)
	if err != nil {
		return err
	}
	var v state.Investigation
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("investigation answer: %w", err)
	}
	return c.Status(status).JSON(toInvestigationWire(v, time.Now()))
}

// listInvestigations lists investigations (?status=), overdue clocks
// first.
func (s *Server) listInvestigations(c *fiber.Ctx) error {
	see, status := sees(c), c.Query("status")
	var out []state.Investigation
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Investigations(func(v *state.Investigation) bool { return see(v.Client) && (status == "" || v.Status == status) })
		return err
	})
	return respond(c, err, func() any {
		now := time.Now()
		w := make([]investigationWire, len(out))
		for i, v := range out {
			w[i] = toInvestigationWire(v, now)
		}
		slices.SortStableFunc(w, func(a, b investigationWire) int {
			switch {
			case a.Overdue && !b.Overdue:
				return -1
			case b.Overdue && !a.Overdue:
				return 1
			}
			return 0
		})
		return items(w)
	})
}

func (s *Server) getInvestigation(c *fiber.Ctx) error {
	var v state.Investigation
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Investigation(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return toInvestigationWire(v, time.Now()) })
}

// getForm3911 answers the Form 3911 draft: ?format=json (default) or pdf.
func (s *Server) getForm3911(c *fiber.Ctx) error {
	format := c.Query("format", "json")
	if format != "json" && format != "pdf" {
		return badField("format", "want json or pdf")
	}
	var f compliance.Form3911
	err := s.read(c, func(r *state.Reader) error {
		v, err := r.Investigation(param(c, "id"))
		if err != nil {
			return err
		}
		if !sees(c)(v.Client) {
			return ErrNotFound
		}
		f, err = compliance.BuildForm3911(r, v, time.Now())
		return err
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	if format == "pdf" {
		b, err := f.PDF()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", f.Investigation+"-form3911.pdf"))
		return c.Send(b)
	}
	return c.JSON(f)
}

// getNotices answers the drafted notifications of an investigation: to
// FDA (Form 3911) and to each trading partner, with whether each is
// marked sent.
func (s *Server) getNotices(c *fiber.Ctx) error {
	var out []compliance.Notice
	err := s.read(c, func(r *state.Reader) error {
		v, err := r.Investigation(param(c, "id"))
		if err != nil {
			return err
		}
		if !sees(c)(v.Client) {
			return ErrNotFound
		}
		f, err := compliance.BuildForm3911(r, v, time.Now())
		out = compliance.Notices(f)
		return err
	})
	return respond(c, err, func() any { return items(out) })
}
