package engine

import (
	"slices"
	"testing"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/shared/unit/workflowcases"
)

// TestWorkflowCasesOnTheDevice runs the shared workflow cases on the
// handheld's replica, through the evaluation every step makes (the
// store's transaction as unit.Evaluate's store and catalog): the same
// findings under the same ids as the reference store and the site.
func TestWorkflowCasesOnTheDevice(t *testing.T) {
	for _, c := range workflowcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			fx, err := demo.Build(demo.Params{Seed: 1, Pallets: 0, CasesPerPallet: 1, UnitsPerCase: 1})
			if err != nil {
				t.Fatal(err)
			}
			snap := fx.Snapshot
			snap.Products = slices.DeleteFunc(snap.Products, func(p master.Product) bool {
				return slices.ContainsFunc(c.Products, func(q master.Product) bool { return q.GTIN == p.GTIN })
			})
			snap.Products = append(snap.Products, c.Products...)
			snap.ASNs = c.ASNs
			st, err := store.Open(t.TempDir(), store.Options{Device: "hh-1", Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Load(&snap); err != nil {
				t.Fatal(err)
			}
			var before map[string]unit.Exception
			var res unit.Result
			err = st.Update(func(tx *store.Tx) error {
				for i := range c.Before {
					if _, err := unit.Evaluate(tx, &c.Before[i], unit.Env{}); err != nil {
						return err
					}
				}
				if before, err = deviceWorkflowExceptions(tx); err != nil {
					return err
				}
				res, err = unit.Evaluate(tx, &c.Event, unit.Env{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var after map[string]unit.Exception
			if err := st.View(func(tx *store.Tx) (err error) { after, err = deviceWorkflowExceptions(tx); return }); err != nil {
				t.Fatal(err)
			}
			got := map[string]unit.Rule{}
			for id, x := range after {
				if _, old := before[id]; !old {
					got[id] = x.Rule
				}
			}
			want := c.WantIDs()
			if len(got) != len(want) {
				t.Fatalf("raised %v, want %v", got, want)
			}
			for id, r := range want {
				if got[id] != r || !slices.Contains(res.Exceptions(), id) {
					t.Fatalf("missing %s %s; raised %v", r, id, got)
				}
			}
		})
	}
}

func deviceWorkflowExceptions(tx *store.Tx) (map[string]unit.Exception, error) {
	xs, err := tx.Exceptions()
	out := map[string]unit.Exception{}
	for _, x := range xs {
		if slices.Contains(workflowcases.Rules(), x.Rule) {
			out[x.ID] = x
		}
	}
	return out, err
}

// TestCloseShortAndMismatchAreEvents: closing an ASN short and a
// container that does not match write workflow record events to the
// outbox, and the exceptions they raise carry the ids the site derives
// from those events.
func TestCloseShortAndMismatchAreEvents(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	a := r.fx.Snapshot.ASNs[0]
	r.is(Accepted)(r.e.StartReceive(a.ID))
	var pallet, firstCase event.Key
	for _, it := range a.Items {
		if it.Parent == "" {
			pallet = it.Key
		} else if it.Parent == pallet && firstCase == "" {
			firstCase = it.Key
		}
	}
	// Receive one case by its label; the rest of the pallet stays missing.
	r.must(r.scan(firstCase))
	st := r.must(r.e.Close())
	if !hasRule(st, unit.RuleShortage) || len(st.Exceptions) == 0 {
		t.Fatalf("close: %+v", st)
	}
	closes := r.outboxOf(event.KindCloseASN)
	if len(closes) != 1 || closes[0].Ctx.ASN != a.ID || len(closes[0].Subjects) != len(st.Missing) {
		t.Fatalf("close events %+v, missing %v", closes, st.Missing)
	}
	for _, id := range st.Exceptions {
		x := r.exception(id)
		if x.Rule != unit.RuleShortage || id != unit.ExceptionID(x.Rule, x.Unit, closes[0].ID) {
			t.Fatalf("exception %s: %+v", id, x)
		}
	}
	// Open the case and scan all but one unit inside.
	kids := r.children(firstCase)
	r.is(Accepted)(r.e.StartVerify(), nil)
	r.must(r.scan(firstCase))
	for _, k := range kids[1:] {
		r.must(r.scan(k))
	}
	v := r.must(r.e.Close())
	if !hasRule(v, unit.RuleAggregation) || len(v.Missing) != 1 || v.Missing[0] != kids[0] {
		t.Fatalf("verify: %+v", v)
	}
	ms := r.outboxOf(event.KindVerifyMismatch)
	if len(ms) != 1 || ms[0].Subjects[0].Key != firstCase || len(ms[0].Subjects) != len(kids) {
		t.Fatalf("mismatch events %+v", ms)
	}
	if id := unit.ExceptionID(unit.RuleAggregation, firstCase, ms[0].ID); !slices.Contains(v.Exceptions, id) {
		t.Fatalf("exceptions %v, want %s", v.Exceptions, id)
	}
	if !r.unit(firstCase).Holds.Has(event.HoldInvestigation) {
		t.Fatal("mismatched case not held")
	}
}

func (r *rig) outboxOf(k event.Kind) []event.Event {
	r.t.Helper()
	evs, err := r.st.Pending(0)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []event.Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
