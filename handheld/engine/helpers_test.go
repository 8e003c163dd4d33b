package engine

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

type rig struct {
	t   *testing.T
	fx  *demo.Fixture
	st  *store.Store
	e   *Engine
	now time.Time
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRig(t *testing.T, p demo.Params) *rig { t.Helper(); return newRigWith(t, p, nil) }

// newRigWith builds the demo site, lets edit change its snapshot, and
// loads it into a fresh device.
func newRigWith(t *testing.T, p demo.Params, edit func(*demo.Fixture)) *rig {
	t.Helper()
	fx, err := demo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(fx)
	}
	r := &rig{t: t, fx: fx, now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	r.st, err = store.Open(t.TempDir(), store.Options{Device: "hh-1", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	r.e, err = New(r.st, Config{DeviceNumber: 7, Now: r.clock, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.e.Load(&fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) clock() time.Time { return r.now }

func (r *rig) must(s Step, err error) Step {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("step %s: %v", s.Action, err)
	}
	return s
}

// is returns a checker of a step's verdict: r.is(Accepted)(r.scan(k)).
func (r *rig) is(v Verdict) func(Step, error) Step {
	return func(s Step, err error) Step {
		r.t.Helper()
		r.must(s, err)
		if s.Verdict != v {
			r.t.Fatalf("%s %s: verdict %s (%s), want %s", s.Action, s.Subject, s.Verdict, s.Reason, v)
		}
		return s
	}
}

func (r *rig) login(user string) {
	r.t.Helper()
	r.is(Accepted)(r.e.Login(user, r.fx.PIN(user)))
}

func (r *rig) scan(k event.Key) (Step, error) { return r.e.Scan(r.fx.ScanOf(k)) }

func (r *rig) unit(k event.Key) unit.State {
	r.t.Helper()
	var s unit.State
	if err := r.st.View(func(tx *store.Tx) (err error) { s, err = tx.Unit(k); return }); err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) exception(id string) unit.Exception {
	r.t.Helper()
	var x unit.Exception
	if err := r.st.View(func(tx *store.Tx) (err error) { x, err = tx.Exception(id); return }); err != nil {
		r.t.Fatal(err)
	}
	return x
}

func hasRule(s Step, rule unit.Rule) bool {
	for _, r := range s.Rules {
		if r == rule {
			return true
		}
	}
	return false
}

func (r *rig) children(k event.Key) []event.Key {
	r.t.Helper()
	var out []event.Key
	if err := r.st.View(func(tx *store.Tx) (err error) { out, err = tx.Children(k); return }); err != nil {
		r.t.Fatal(err)
	}
	return out
}
