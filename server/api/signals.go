package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/signals"
)

// signalVerdictBody is a person's verdict on a signal's exception.
type signalVerdictBody struct {
	Verdict signals.Verdict `json:"verdict"` // real or false_alarm
	Note    string          `json:"note,omitempty"`
}

// signalRecord answers the finding behind an exception: its score, its
// cause, its evidence, and the verdict people gave.
func (s *Server) signalRecord(c *fiber.Ctx) error {
	var rec state.SignalRecord
	err := s.read(c, func(r *state.Reader) error { var err error; rec, err = r.Signal(param(c, "id")); return err })
	if err == nil && !sees(c)(rec.Finding.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return rec })
}

// signalVerdict records a verdict: a false alarm silences the finding's
// cause (the same cause is not raised again) and resolves the exception.
func (s *Server) signalVerdict(c *fiber.Ctx) error {
	var body signalVerdictBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if !body.Verdict.Valid() {
		return badField("verdict", "want %q or %q", signals.VerdictReal, signals.VerdictFalseAlarm)
	}
	id := param(c, "id")
	var rec state.SignalRecord
	if err := s.node.State().View(func(r *state.Reader) error { var err error; rec, err = r.Signal(id); return err }); err != nil {
		return err
	}
	if !sees(c)(rec.Finding.Client) {
		return ErrNotFound
	}
	v := command.SignalVerdict{Exception: id, Verdict: body.Verdict, By: user(c).ID, Note: body.Note, At: s.clock.Now()}
	if _, err := s.propose(c, command.TypeSignalVerdict, v); err != nil {
		return err
	}
	rec.Verdict, rec.By, rec.Note, rec.At = v.Verdict, v.By, v.Note, v.At
	return c.JSON(rec)
}
