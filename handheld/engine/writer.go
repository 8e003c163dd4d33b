package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// refusal aborts a step's transaction: nothing is written and the step
// is refused with this reason.
type refusal struct {
	reason string
	cue    Cue
	rules  []unit.Rule
}

func (r *refusal) Error() string { return r.reason }

func refuse(format string, a ...any) error {
	return &refusal{reason: fmt.Sprintf(format, a...), cue: CueRefuse}
}

func alert(format string, a ...any) error {
	return &refusal{reason: fmt.Sprintf(format, a...), cue: CueAlert}
}

// errNothing aborts a step that would change nothing (the effect is
// already there): the step is a warning and nothing is written.
type errNothing struct{ reason string }

func (e *errNothing) Error() string { return e.reason }

// recorder is the replica as Evaluate sees it, noting which units it
// changed.
type recorder struct {
	*store.Tx
	put map[event.Key]bool
}

func (r *recorder) PutUnit(s unit.State) error {
	r.put[s.Key] = true
	return r.Tx.PutUnit(s)
}

// writer collects what one step writes, inside one transaction.
type writer struct {
	e          *Engine
	tx         *store.Tx
	events     []string
	seq        uint64
	units      int
	exceptions []string
	rules      []unit.Rule
	warnings   []string
	alert      bool
}

// emit builds an event of the signed-in user, evaluates it against the
// replica and appends it to the outbox. A refused event, or a conflict
// that left a scanned subject unchanged, aborts the step. An event that
// changes nothing aborts it with errNothing carrying merged.
func (w *writer) emit(kind event.Kind, client string, keys []event.Key, ctx event.Context, merged string) (*event.Event, unit.Result, error) {
	e, tx := w.e, w.tx
	site, err := tx.Site()
	if err != nil {
		return nil, unit.Result{}, err
	}
	last, err := tx.LastSeq()
	if err != nil {
		return nil, unit.Result{}, err
	}
	now := e.cfg.Now()
	id, err := event.NewID(now, e.cfg.Rand)
	if err != nil {
		return nil, unit.Result{}, err
	}
	ev := &event.Event{ID: id, Device: tx.Device(), Epoch: tx.Epoch(), Seq: last + 1, HLC: e.clock.Now(), User: e.user.ID,
		Site: site.ID, Client: client, Kind: kind, Ctx: ctx}
	for _, k := range keys {
		s, err := tx.Unit(k)
		if err != nil {
			return nil, unit.Result{}, err
		}
		ev.Subjects = append(ev.Subjects, event.Subject{Key: k, BaseVersion: s.Version})
	}
	if err := ev.Validate(); err != nil {
		return nil, unit.Result{}, refuse("this cannot be recorded: %v", err)
	}
	rec := &recorder{Tx: tx, put: map[event.Key]bool{}}
	res, err := unit.Evaluate(rec, ev, unit.Env{Authorized: e.user.Role.CanRelease(), Owners: ownersIn(tx)})
	if err != nil {
		return nil, res, err
	}
	rules := w.rulesOf(res.Exceptions())
	if res.Verdict == unit.VerdictRefused {
		return nil, res, &refusal{reason: res.Reason, cue: w.cueFor(rules, keys), rules: rules}
	}
	// A workflow record, or a note (a look-up): kept though it changes no unit.
	record := unit.Records(kind) || unit.Notes(kind)
	for _, s := range res.Subjects {
		if s.Via == "" && s.Verdict == unit.VerdictConflict && !rec.put[s.Key] && !record {
			r := w.rulesOf(s.Exceptions)
			return nil, res, &refusal{reason: s.Reason, cue: w.cueFor(r, keys), rules: r}
		}
	}
	if len(rec.put) == 0 && !record {
		return nil, res, &errNothing{reason: merged}
	}
	touched := make([]event.Key, 0, len(res.Subjects))
	for _, s := range res.Subjects {
		if record {
			break
		}
		touched = append(touched, s.Key)
		if s.Verdict == unit.VerdictConflict && s.Via != "" && !rec.put[s.Key] {
			w.warnings = append(w.warnings, s.Reason)
		}
	}
	if kind == event.KindPack && !slices.Contains(touched, ctx.Parent) {
		touched = append(touched, ctx.Parent)
	}
	if err := tx.Append(ev, touched); err != nil {
		return nil, res, err
	}
	w.events = append(w.events, ev.ID.String())
	w.seq = ev.Seq
	w.units += len(touched)
	for _, id := range res.Exceptions() {
		if !slices.Contains(w.exceptions, id) {
			w.exceptions = append(w.exceptions, id)
		}
	}
	for _, r := range w.rulesOf(res.Exceptions()) {
		if !slices.Contains(w.rules, r) {
			w.rules = append(w.rules, r)
		}
	}
	if res.Verdict == unit.VerdictConflict && res.Reason != "" && !slices.Contains(w.warnings, res.Reason) {
		w.warnings = append(w.warnings, res.Reason)
	}
	return ev, res, nil
}

func (w *writer) rulesOf(ids []string) []unit.Rule {
	var out []unit.Rule
	for _, id := range ids {
		x, err := w.tx.Exception(id)
		if err == nil && !slices.Contains(out, x.Rule) {
			out = append(out, x.Rule)
		}
	}
	return out
}

// cueFor is the sound of a refusal: the alert when it is about a hold, a
// recall or a cloned code (by the rules raised, or because a scanned unit
// is held), the plain refusal otherwise.
func (w *writer) cueFor(rules []unit.Rule, keys []event.Key) Cue {
	for _, r := range rules {
		switch r {
		case unit.RuleHeldUnitMoved, unit.RuleRecalled, unit.RuleDuplicateSerial, unit.RuleShippedWhileHeld:
			return CueAlert
		}
	}
	for _, k := range keys {
		s, err := w.tx.Unit(k)
		if err != nil || !s.Known() {
			continue
		}
		if inh, err := w.tx.Inherited(s); err == nil && s.Holds|inh != 0 {
			return CueAlert
		}
	}
	return CueRefuse
}

// write runs fn in one transaction and turns its outcome into a step:
// refused (nothing written) when fn refuses, a warning when fn found
// nothing to change, accepted or warning when it wrote.
func (e *Engine) write(action string, subject event.Key, fn func(w *writer) (string, error)) (Step, error) {
	var w *writer
	var msg string
	err := e.st.Update(func(tx *store.Tx) error {
		w = &writer{e: e, tx: tx}
		var err error
		msg, err = fn(w)
		return err
	})
	var r *refusal
	var n *errNothing
	switch {
	case errors.As(err, &r):
		e.log.Info("step refused", "action", action, "subject", string(subject), "reason", r.reason)
		return Step{Verdict: Refused, Cue: r.cue, Action: action, Subject: subject, Reason: r.reason, Rules: r.rules}, nil
	case errors.As(err, &n):
		return Step{Verdict: Warning, Cue: CueWarn, Action: action, Subject: subject, Reason: n.reason}, nil
	case errors.Is(err, store.ErrTooBig):
		return refused(action, "this reaches too many units for one scan: do it case by case"), nil
	case err != nil:
		return failed(action, err)
	}
	st := Step{Verdict: Accepted, Cue: CueOK, Action: action, Subject: subject, Reason: msg, Events: w.events, Seq: w.seq,
		Units: w.units, Exceptions: w.exceptions, Rules: w.rules}
	if len(w.warnings) > 0 || len(w.exceptions) > 0 {
		st.Verdict, st.Cue = Warning, CueWarn
		if len(w.warnings) > 0 {
			st.Reason = w.warnings[0] + "; " + msg
		}
	}
	if w.alert {
		st.Cue = CueAlert
	}
	return st, nil
}
