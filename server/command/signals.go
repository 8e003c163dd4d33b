package command

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

// Signals carries the analyzer's findings for the log up to Through.
// Findings are idempotent by id (derived from rule, unit and event): a
// finding already applied, or whose cause a person silenced, changes
// nothing, so a new leader re-proposing what the old one already
// committed repeats nothing.
type Signals struct {
	Through  uint64            `json:"through"`
	Findings []signals.Finding `json:"findings"`
}

// SignalsResult says what became of a Signals command's findings.
type SignalsResult struct {
	Opened   int `json:"opened"`   // new exceptions
	Joined   int `json:"joined"`   // joined an open exception of the same unit and rule
	Repeated int `json:"repeated"` // already applied
	Silenced int `json:"silenced"` // cause judged a false alarm before
	Invalid  int `json:"invalid"`
}

// SignalVerdict is a person's verdict on the finding behind an
// exception. A false alarm silences the finding's cause and resolves the
// exception (lifting the suspect hold the finding put on); a real one
// acknowledges it.
type SignalVerdict struct {
	Exception string          `json:"exception"`
	Verdict   signals.Verdict `json:"verdict"`
	By        string          `json:"by"`
	Note      string          `json:"note,omitempty"`
	At        hlc.Timestamp   `json:"at"`
}

// MaxSignalFindings bounds one Signals command.
const MaxSignalFindings = 256

func (b *batch) signals(val any) any {
	if v, ok := val.(*SignalVerdict); ok {
		return b.signalVerdict(v)
	}
	v := val.(*Signals)
	if len(v.Findings) > MaxSignalFindings {
		return fmt.Errorf("%w: %d findings, at most %d", ErrRejected, len(v.Findings), MaxSignalFindings)
	}
	var res SignalsResult
	for i := range v.Findings {
		b.finding(&v.Findings[i], &res)
	}
	must(b.tx.SetSignalsThrough(v.Through), "signals cursor")
	return res
}

func (b *batch) finding(f *signals.Finding, res *SignalsResult) {
	if f.Validate() != nil {
		res.Invalid++
		return
	}
	id := f.ID()
	_, err := b.tx.Signal(id)
	if err == nil {
		res.Repeated++
		return
	}
	if !errors.Is(err, state.ErrNotFound) {
		must(err, "signal")
	}
	silenced, err := b.tx.Silenced(f.Cause)
	must(err, "silenced cause")
	if silenced {
		res.Silenced++
		return
	}
	rec := state.SignalRecord{Finding: *f, Exception: id}
	x, active, err := b.tx.ActiveException(f.Unit, f.Rule)
	must(err, "exception")
	if active {
		// One open exception per unit and rule: later findings join it.
		ev := &event.Event{ID: f.Event, Device: f.Device}
		if f.Device == "" && len(x.Devices) > 0 {
			ev.Device = x.Devices[0]
		}
		if x.Join(unit.Finding{Rule: f.Rule, Detail: f.Exception().Detail}, ev, f.At) {
			must(b.tx.PutException(x), "exception")
		}
		rec.Exception = x.ID
		res.Joined++
	} else {
		must(b.tx.PutException(f.Exception()), "exception")
		res.Opened++
	}
	if f.Certain {
		rec.Quarantined = b.quarantine(f.Unit, f.At, true)
	}
	must(b.tx.PutSignal(rec), "signal")
}

// quarantine puts (or lifts) the suspect hold on a known unit and
// reports whether it changed the unit.
func (b *batch) quarantine(k event.Key, at hlc.Timestamp, on bool) bool {
	u, err := b.tx.Unit(k)
	must(err, "unit")
	if !u.Known() || u.Holds.Has(event.HoldSuspect) == on {
		return false
	}
	if on {
		u.Holds = u.Holds.With(event.HoldSuspect)
	} else {
		u.Holds = u.Holds.Without(event.HoldSuspect)
	}
	u.Version++
	if at > u.Updated {
		u.Updated = at
	}
	must(b.tx.PutUnit(u), "unit")
	return true
}

func (b *batch) signalVerdict(v *SignalVerdict) any {
	if !v.Verdict.Valid() {
		return fmt.Errorf("%w: verdict must be %q or %q", ErrRejected, signals.VerdictReal, signals.VerdictFalseAlarm)
	}
	if v.By == "" {
		return fmt.Errorf("%w: a verdict needs the person who gave it", ErrRejected)
	}
	rec, err := b.tx.Signal(v.Exception)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("%w: exception %s was not raised by a signal", ErrNotFound, v.Exception)
	}
	must(err, "signal")
	if rec.Verdict != "" {
		if rec.Verdict == v.Verdict {
			return nil
		}
		return fmt.Errorf("%w: exception %s was already judged %s", ErrRejected, v.Exception, rec.Verdict)
	}
	rec.Verdict, rec.By, rec.Note, rec.At = v.Verdict, v.By, v.Note, v.At
	status, note := unit.ExceptionAcknowledged, "confirmed: "+v.Note
	if v.Verdict == signals.VerdictFalseAlarm {
		status, note = unit.ExceptionResolved, "false alarm: "+v.Note
		must(b.tx.SilenceCause(state.SilencedCause{Cause: rec.Finding.Cause, Exception: v.Exception, By: v.By, At: v.At}), "silence cause")
		if rec.Quarantined {
			b.quarantine(rec.Finding.Unit, v.At, false)
		}
	}
	must(b.tx.PutSignal(rec), "signal")
	x, err := b.tx.Exception(rec.Exception)
	must(err, "exception")
	if x.Status != unit.ExceptionResolved && x.Status != status {
		x.Status, x.By, x.Note = status, v.By, note
		if v.At > x.Updated {
			x.Updated = v.At
		}
		must(b.tx.PutException(x), "exception")
	}
	return nil
}
