package notifyclock_test

import (
	"context"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/notifyclock"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// On a real one-node site the leader proposes the overdue step once the
// 24 hours ran out, and only once.
func TestOverdueOnce(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	leader := site.WaitLeader(10 * time.Second)
	propose := func(typ command.Type, v any) {
		data, err := command.EncodeJSON(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leader.Node.Propose(context.Background(), data, false); err != nil {
			t.Fatal(err)
		}
	}
	found := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	propose(command.TypeClient, master.Client{ID: "acme", Name: "Acme"})
	propose(command.TypeProduct, master.Product{GTIN: "00300010123455", Client: "acme", Name: "Pill", CompanyPrefixLen: 7})
	propose(command.TypeInvestigation, command.InvestigationStep{ID: "INV-1", Action: command.ActionOpen, By: "lead", At: hlc.FromTime(found.Add(-time.Hour)),
		Client: "acme", Scope: state.ScopeProduct, GTIN: "00300010123455", Trigger: command.TriggerSuspicion, Note: "suspect"})
	propose(command.TypeInvestigation, command.InvestigationStep{ID: "INV-1", Action: command.ActionIllegitimate, By: "lead", At: hlc.FromTime(found)})

	now := found.Add(23 * time.Hour)
	w := notifyclock.New(notifyclock.Config{Node: leader.Node, Now: func() time.Time { return now }})
	if n, err := w.Step(context.Background()); err != nil || n != 0 {
		t.Fatalf("before the time: %d %v", n, err)
	}
	now = found.Add(25 * time.Hour)
	if n, err := w.Step(context.Background()); err != nil || n != 1 {
		t.Fatalf("after the time: %d %v", n, err)
	}
	if n, err := w.Step(context.Background()); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
	var v state.Investigation
	var x unit.Exception
	err := leader.Node.State().View(func(r *state.Reader) error {
		var err error
		if v, err = r.Investigation("INV-1"); err != nil {
			return err
		}
		x, err = r.Exception(v.Overdue)
		return err
	})
	// A product with no unit at the site has no unit to hang the
	// exception on: the investigation is flagged without one.
	if v.OverdueAt == 0 || v.Overdue != "" || err == nil {
		t.Fatalf("investigation %+v exception %+v %v", v, x, err)
	}
	if len(v.Steps) != 3 || v.Steps[2].Action != command.ActionOverdue {
		t.Fatalf("steps %+v", v.Steps)
	}
}
