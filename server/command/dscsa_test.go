package command

import (
	"errors"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/shared/unit/workflowcases"
)

// dscsaSite is a site with the shared cases' products, ASN-1 announced
// and received (C1 with U1 and U2, loose U3; lot L1).
func dscsaSite(t *testing.T) (*state.Store, *log, *evs) {
	t.Helper()
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	c := workflowcases.Cases()[0]
	entries := [][]byte{jsonEntry(t, TypeClient, master.Client{ID: workflowcases.Client}),
		jsonEntry(t, TypeClient, master.Client{ID: "other"}),
		jsonEntry(t, TypePartner, master.Partner{ID: "p1", Name: "Wholesaler", GLN: "0300010000015"})}
	for _, p := range c.Products {
		entries = append(entries, jsonEntry(t, TypeProduct, p))
	}
	for _, r := range l.apply(t, entries...) {
		if r != nil {
			t.Fatalf("master data: %v", r)
		}
	}
	s := &evs{base: c.Event}
	day := append([]event.Event{}, c.Before...)
	day = append(day, s.ev(event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Inferred: true}, workflowcases.C1))
	for _, v := range l.apply(t, EncodeEvents(&Events{Received: hlc.New(1_790_000_100_000, 0), Events: day}))[0].([]Verdict) {
		if v.Status != StatusApplied {
			t.Fatalf("verdict %+v", v)
		}
	}
	return st, l, s
}

func unitOf(t *testing.T, st *state.Store, k event.Key) (unit.State, event.Holds) {
	t.Helper()
	var u unit.State
	var inh event.Holds
	err := st.View(func(r *state.Reader) (err error) {
		if u, err = r.Unit(k); err != nil {
			return err
		}
		inh, err = r.Inherited(u)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, inh
}

// TestRecallHoldsTheLotAndCountsReturns: a recall holds its lot at once,
// is one per lot (a second request answers the first), refuses another
// client's product, and counts the units that come back.
func TestRecallHoldsTheLotAndCountsReturns(t *testing.T) {
	st, l, s := dscsaSite(t)
	at := hlc.New(1_790_000_200_000, 0)
	id := state.RecallID(workflowcases.GTIN, "L1")
	rc := state.Recall{ID: id, Client: workflowcases.Client, GTIN: workflowcases.GTIN, Lot: "L1", By: "lead", At: at, Note: "FDA class II"}
	for name, bad := range map[string]state.Recall{
		"another client's product":    {ID: id, Client: "other", GTIN: workflowcases.GTIN, Lot: "L1", By: "lead", At: at},
		"no lot":                      {ID: state.RecallID(workflowcases.GTIN, ""), Client: workflowcases.Client, GTIN: workflowcases.GTIN, By: "lead", At: at},
		"an id that is not the lot's": {ID: "RC-x", Client: workflowcases.Client, GTIN: workflowcases.GTIN, Lot: "L1", By: "lead", At: at},
	} {
		if err, ok := l.apply(t, jsonEntry(t, TypeRecall, bad))[0].(error); !ok || !errors.Is(err, ErrRejected) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// U3 left on a shipment before the recall.
	if r := l.apply(t, jsonEntry(t, TypeOrder, master.Order{ID: "SO-1", Client: workflowcases.Client,
		Lines: []master.OrderLine{{ID: "1", GTIN: workflowcases.GTIN, Qty: 1}}}))[0]; r != nil {
		t.Fatal(r)
	}
	sscc := event.SSCC("003000100000000015")
	out := []event.Event{s.ev(event.KindPick, event.Context{Order: "SO-1", Line: "1"}, workflowcases.U3),
		s.ev(event.KindPack, event.Context{Parent: sscc}, workflowcases.U3),
		s.ev(event.KindShip, event.Context{Shipment: "SHP-1"}, sscc)}
	for _, v := range l.apply(t, EncodeEvents(&Events{Received: at, Events: out}))[0].([]Verdict) {
		if v.Status != StatusApplied || v.Result.Verdict == unit.VerdictRefused {
			t.Fatalf("verdict %+v", v)
		}
	}
	if got, ok := l.apply(t, jsonEntry(t, TypeRecall, rc))[0].(state.Recall); !ok || got.ID != id {
		t.Fatalf("recall: %v", got)
	}
	if _, inh := unitOf(t, st, workflowcases.U1); !inh.Has(event.HoldRecall) {
		t.Fatalf("U1 of the recalled lot inherits %s", inh)
	}
	again := rc
	again.By, again.Note = "someone", "again"
	if got := l.apply(t, jsonEntry(t, TypeRecall, again))[0].(state.Recall); got.By != "lead" || got.Note != "FDA class II" {
		t.Fatalf("second recall of the lot: %+v", got)
	}
	ret := EncodeEvents(&Events{Received: at + 1<<20, Events: []event.Event{
		s.ev(event.KindReturn, event.Context{To: "QUARANTINE", Lot: "L1", Expiry: "280331"}, workflowcases.U3)}})
	l.apply(t, ret, ret)
	var got state.Recall
	if err := st.View(func(r *state.Reader) (err error) { got, err = r.Recall(id); return }); err != nil {
		t.Fatal(err)
	}
	if len(got.Returned) != 1 || got.Returned[0] != workflowcases.U3 {
		t.Fatalf("returned %v", got.Returned)
	}
}

// TestInvestigationLifecycle: opening quarantines what an investigation
// covers at once (a container and its contents by a hold event, a lot by
// a lot hold); clearing releases it; illegitimate starts the clock,
// notifications and the disposition close it; every step is kept and
// steps out of order are refused.
func TestInvestigationLifecycle(t *testing.T) {
	st, l, _ := dscsaSite(t)
	at := hlc.New(1_790_000_300_000, 0)
	step := func(s InvestigationStep) any {
		s.By, s.At = "lead", at
		at += 1 << 20
		return l.apply(t, jsonEntry(t, TypeInvestigation, s))[0]
	}
	open := InvestigationStep{ID: "INV-1", Action: ActionOpen, Client: workflowcases.Client, Scope: state.ScopeContainer,
		Keys: []event.Key{workflowcases.C1}, Trigger: TriggerException, Exception: "x1", Note: "case opened with a unit missing", Event: event.ID{0x01, 0x77, 1}}
	for name, bad := range map[string]InvestigationStep{
		"no trigger":             {ID: "INV-2", Action: ActionOpen, Client: workflowcases.Client, Scope: state.ScopeContainer, Keys: open.Keys, Note: "x", Event: event.ID{0x01, 0x77, 2}},
		"another client's units": {ID: "INV-2", Action: ActionOpen, Client: "other", Scope: state.ScopeUnits, Keys: []event.Key{workflowcases.U1}, Trigger: TriggerSuspicion, Note: "x", Event: event.ID{0x01, 0x77, 2}},
		"a unit as container":    {ID: "INV-2", Action: ActionOpen, Client: workflowcases.Client, Scope: state.ScopeContainer, Keys: []event.Key{workflowcases.U1}, Trigger: TriggerSuspicion, Note: "x", Event: event.ID{0x01, 0x77, 2}},
		"a lot without its lot":  {ID: "INV-2", Action: ActionOpen, Client: workflowcases.Client, Scope: state.ScopeLot, GTIN: workflowcases.GTIN, Trigger: TriggerSuspicion, Note: "x"},
		"clear an unknown one":   {ID: "INV-9", Action: ActionClear, Note: "x"},
		"declare an unknown one": {ID: "INV-9", Action: ActionIllegitimate},
		"an action with no name": {ID: "INV-1", Action: "archive"},
	} {
		if err, ok := step(bad).(error); !ok || !(errors.Is(err, ErrRejected) || errors.Is(err, ErrNotFound)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if v, ok := step(open).(state.Investigation); !ok || v.Status != state.InvestigationOpen {
		t.Fatalf("open: %v", v)
	}
	for _, k := range []event.Key{workflowcases.C1, workflowcases.U1, workflowcases.U2} {
		if u, _ := unitOf(t, st, k); !u.Holds.Has(event.HoldInvestigation) {
			t.Fatalf("%s after opening: holds %s", k, u.Holds)
		}
	}
	if err, ok := step(InvestigationStep{ID: "INV-1", Action: ActionNotified, To: NoticeFDA}).(error); !ok || !errors.Is(err, ErrRejected) {
		t.Fatalf("a notification of an open investigation: %v", err)
	}
	if v := step(InvestigationStep{ID: "INV-1", Action: ActionIllegitimate, Note: "counterfeit packaging"}).(state.Investigation); v.Status != state.InvestigationIllegitimate || v.Illegitimate == 0 {
		t.Fatalf("illegitimate: %+v", v)
	}
	if err, ok := step(InvestigationStep{ID: "INV-1", Action: ActionClear, Note: "x", Event: event.ID{0x01, 0x77, 3}}).(error); !ok || !errors.Is(err, ErrRejected) {
		t.Fatalf("clearing illegitimate product: %v", err)
	}
	if err, ok := step(InvestigationStep{ID: "INV-1", Action: ActionNotified, To: "nobody"}).(error); !ok || !errors.Is(err, ErrRejected) {
		t.Fatalf("a notification to an unknown partner: %v", err)
	}
	step(InvestigationStep{ID: "INV-1", Action: ActionNotified, To: NoticeFDA})
	step(InvestigationStep{ID: "INV-1", Action: ActionNotified, To: "p1"})
	v := step(InvestigationStep{ID: "INV-1", Action: ActionDispose, Disposition: DispositionDestroyed}).(state.Investigation)
	if v.Status != state.InvestigationClosed || v.Disposition != DispositionDestroyed || len(v.Notices) != 2 || len(v.Steps) != 5 {
		t.Fatalf("closed: %+v", v)
	}
	// A lot investigation: a lot hold at once, released when cleared.
	lot := InvestigationStep{ID: "INV-3", Action: ActionOpen, Client: workflowcases.Client, Scope: state.ScopeLot, GTIN: workflowcases.GTIN, Lot: "L1",
		Trigger: TriggerPartner, Note: "wholesaler reports a suspect lot"}
	step(lot)
	if _, inh := unitOf(t, st, workflowcases.U1); !inh.Has(event.HoldInvestigation) {
		t.Fatalf("U1 under a lot investigation inherits %s", inh)
	}
	if v := step(InvestigationStep{ID: "INV-3", Action: ActionClear, Note: "manufacturer confirmed the lot"}).(state.Investigation); v.Status != state.InvestigationCleared {
		t.Fatalf("cleared: %+v", v)
	}
	if _, inh := unitOf(t, st, workflowcases.U1); inh.Has(event.HoldInvestigation) {
		t.Fatalf("U1 after clearing inherits %s", inh)
	}
}

// TestOverdueNotification: 24 hours after the finding without the FDA
// notification marked sent, the site's overdue step raises one
// high-severity exception (a proposal before the time is refused, a
// repeated one changes nothing); marking the notification sent settles it.
func TestOverdueNotification(t *testing.T) {
	st, l, _ := dscsaSite(t)
	found := hlc.New(1_790_000_300_000, 0)
	step := func(s InvestigationStep) any {
		return l.apply(t, jsonEntry(t, TypeInvestigation, s))[0]
	}
	step(InvestigationStep{ID: "INV-1", Action: ActionOpen, By: "lead", At: found - 1<<20, Client: workflowcases.Client, Scope: state.ScopeLot,
		GTIN: workflowcases.GTIN, Lot: "L1", Trigger: TriggerPartner, Note: "suspect lot"})
	step(InvestigationStep{ID: "INV-1", Action: ActionIllegitimate, By: "lead", At: found})
	day := hlc.New(found.Millis()+state.NotifyWithin.Milliseconds(), 0)
	if err, ok := step(InvestigationStep{ID: "INV-1", Action: ActionOverdue, By: "site", At: day - 1<<16, Event: event.ID{0x01, 0x55, 1}}).(error); !ok || !errors.Is(err, ErrRejected) {
		t.Fatalf("overdue a minute early: %v", err)
	}
	v := step(InvestigationStep{ID: "INV-1", Action: ActionOverdue, By: "site", At: day, Event: event.ID{0x01, 0x55, 2}}).(state.Investigation)
	if v.Overdue == "" || v.OverdueAt != day {
		t.Fatalf("no exception: %+v", v)
	}
	if again := step(InvestigationStep{ID: "INV-1", Action: ActionOverdue, By: "site", At: day + 1<<20, Event: event.ID{0x01, 0x55, 3}}).(state.Investigation); again.Overdue != v.Overdue || len(again.Steps) != len(v.Steps) {
		t.Fatalf("a repeated overdue step: %+v", again)
	}
	exc := func() unit.Exception {
		var x unit.Exception
		if err := st.View(func(r *state.Reader) (err error) { x, err = r.Exception(v.Overdue); return }); err != nil {
			t.Fatal(err)
		}
		return x
	}
	if x := exc(); x.Rule != RuleNotificationOverdue || x.Severity != unit.SeverityHigh || x.Status != unit.ExceptionOpen || x.Client != workflowcases.Client {
		t.Fatalf("exception %+v", x)
	}
	step(InvestigationStep{ID: "INV-1", Action: ActionNotified, By: "lead", At: day + 2<<20, To: NoticeFDA})
	if x := exc(); x.Status != unit.ExceptionResolved || x.By != "lead" {
		t.Fatalf("after the notice %+v", x)
	}
}
