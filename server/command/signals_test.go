package command

import (
	"errors"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

var sigAt = hlc.New(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli(), 0)

func sampleFinding(rule unit.Rule, serial string, ev byte, certain bool) signals.Finding {
	return signals.Finding{Rule: rule, Unit: event.SGTIN("00300010123455", serial), Event: event.ID{ev, 7},
		Client: "acme", Site: "site", Device: "d1", At: sigAt, Score: 1, Certain: certain,
		Cause: string(rule) + "|" + serial, Detail: "words"}
}

func signalSamples(t testing.TB) map[Type][][]byte {
	f := sampleFinding(signals.RuleNoSupplierData, "S1", 1, false)
	findings := jsonEntry(t, TypeSignals, Signals{Through: 7, Findings: []signals.Finding{f}})
	return map[Type][][]byte{
		TypeSignals: {findings},
		TypeSignalVerdict: {findings, jsonEntry(t, TypeSignalVerdict,
			SignalVerdict{Exception: f.ID(), Verdict: signals.VerdictFalseAlarm, By: "lead", At: sigAt})},
	}
}

// receiveEntry receives one unit so that a clone finding has a unit to
// quarantine.
func receiveEntry(serial string) []byte {
	ev := event.Event{ID: event.ID{0xee, 1}, Device: "d1", Seq: 1, Epoch: 1, HLC: sigAt, User: "admin", Site: "site", Client: "acme",
		Kind: event.KindReceive, Subjects: []event.Subject{{Key: event.SGTIN("00300010123455", serial)}}, Ctx: event.Context{To: "DOCK"}}
	return EncodeEvents(&Events{Received: sigAt, Events: []event.Event{ev}})
}

func TestSignalsApply(t *testing.T) {
	clone := sampleFinding(signals.RuleClonedSerial, "C1", 1, true)
	clone2 := sampleFinding(signals.RuleClonedSerial, "C1", 2, true) // a later sighting, same unit and rule
	format := sampleFinding(signals.RuleSerialFormat, "F1", 3, false)
	format.Score = 0.8
	bad := sampleFinding(unit.RuleOverage, "B1", 4, false)
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, receiveEntry("C1"))
	res := l.apply(t,
		jsonEntry(t, TypeSignals, Signals{Through: 10, Findings: []signals.Finding{clone, format, bad}}),
		jsonEntry(t, TypeSignals, Signals{Through: 9, Findings: []signals.Finding{clone, clone2}}))
	if got := res[0].(SignalsResult); got != (SignalsResult{Opened: 2, Invalid: 1}) {
		t.Fatalf("first: %+v", got)
	}
	if got := res[1].(SignalsResult); got != (SignalsResult{Repeated: 1, Joined: 1}) {
		t.Fatalf("second: %+v", got)
	}
	st.View(func(r *state.Reader) error {
		u, _ := r.Unit(clone.Unit)
		if !u.Holds.Has(event.HoldSuspect) {
			t.Fatalf("clone not quarantined: %+v", u)
		}
		x, err := r.Exception(clone.ID())
		if err != nil || len(x.Events) != 2 || x.Severity != unit.SeverityHigh {
			t.Fatalf("clone exception %+v %v", x, err)
		}
		fx, _ := r.Exception(format.ID())
		if fx.Severity != unit.SeverityLow {
			t.Fatalf("a 0.8 score has severity %s", fx.Severity)
		}
		if through, _ := r.SignalsThrough(); through != 10 {
			t.Fatalf("cursor %d went back", through)
		}
		return nil
	})
	// A false alarm silences the cause, resolves the exception and lifts
	// the hold; the same cause is not raised again.
	res = l.apply(t,
		jsonEntry(t, TypeSignalVerdict, SignalVerdict{Exception: clone.ID(), Verdict: signals.VerdictFalseAlarm, By: "lead", At: sigAt}),
		jsonEntry(t, TypeSignalVerdict, SignalVerdict{Exception: format.ID(), Verdict: signals.VerdictReal, By: "lead", At: sigAt}),
		jsonEntry(t, TypeSignalVerdict, SignalVerdict{Exception: clone.ID(), Verdict: signals.VerdictReal, By: "lead", At: sigAt}),
		jsonEntry(t, TypeSignalVerdict, SignalVerdict{Exception: "Xnope", Verdict: signals.VerdictReal, By: "lead", At: sigAt}),
		jsonEntry(t, TypeSignalVerdict, SignalVerdict{Exception: format.ID(), Verdict: "maybe", By: "lead", At: sigAt}),
		jsonEntry(t, TypeSignals, Signals{Through: 11, Findings: []signals.Finding{sampleFinding(signals.RuleClonedSerial, "C1", 5, true)}}))
	if res[0] != nil || res[1] != nil {
		t.Fatalf("verdicts: %v %v", res[0], res[1])
	}
	if err, _ := res[2].(error); !errors.Is(err, ErrRejected) {
		t.Fatalf("a second, different verdict: %v", res[2])
	}
	if err, _ := res[3].(error); !errors.Is(err, ErrNotFound) {
		t.Fatalf("verdict on an unknown exception: %v", res[3])
	}
	if err, _ := res[4].(error); !errors.Is(err, ErrRejected) {
		t.Fatalf("an unknown verdict: %v", res[4])
	}
	if got := res[5].(SignalsResult); got != (SignalsResult{Silenced: 1}) {
		t.Fatalf("silenced cause: %+v", got)
	}
	st.View(func(r *state.Reader) error {
		u, _ := r.Unit(clone.Unit)
		if u.Holds.Has(event.HoldSuspect) {
			t.Fatal("false alarm left the hold on")
		}
		x, _ := r.Exception(clone.ID())
		fx, _ := r.Exception(format.ID())
		if x.Status != unit.ExceptionResolved || fx.Status != unit.ExceptionAcknowledged {
			t.Fatalf("statuses %s %s", x.Status, fx.Status)
		}
		return nil
	})
}

func TestSignalsTooMany(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	fs := make([]signals.Finding, MaxSignalFindings+1)
	for i := range fs {
		fs[i] = sampleFinding(signals.RuleTwoPlaces, "T", byte(i), false)
	}
	if err, _ := l.apply(t, jsonEntry(t, TypeSignals, Signals{Findings: fs}))[0].(error); !errors.Is(err, ErrRejected) {
		t.Fatalf("too many findings: %v", err)
	}
}
