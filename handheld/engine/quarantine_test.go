package engine

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func TestSessions(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.is(Refused)(r.e.StartReceive(demo.ASNUS)) // nobody signed in
	r.is(Refused)(r.e.Scan(r.item(0, 0)))
	r.is(Refused)(r.e.Login("op1", "0000"))
	r.is(Refused)(r.e.Login("nobody", "1111"))
	s := r.is(Accepted)(r.e.Login("op1", "1111"))
	if u := r.e.User(); u == nil || u.ID != "op1" || s.Reason == "" {
		t.Fatalf("user %+v", u)
	}
	// An operator may hold but not release or revert.
	r.is(Accepted)(r.e.StartHold("damaged", ""), nil)
	r.is(Refused)(r.e.StartRelease(""), nil)
	r.is(Refused)(r.e.StartRevert(), nil)
	r.is(Refused)(r.e.ReleaseLot(r.fx.Product(0), "US01A"))
	r.is(Refused)(r.e.StartHold("sad", ""), nil)
	r.is(Accepted)(r.e.Logout(), nil)
	r.is(Refused)(r.e.Scan(r.item(0, 0)))
	// Five wrong PINs lock sign-in for a minute, even with the right PIN.
	for range 5 {
		r.is(Refused)(r.e.Login("lead1", "1234"))
	}
	r.is(Refused)(r.e.Login("lead1", "9999"))
	r.now = r.now.Add(61 * time.Second)
	r.is(Accepted)(r.e.Login("lead1", "9999"))
	r.is(Accepted)(r.e.StartRelease(""), nil)
}

func TestQuarantine(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))

	// A hold on a case reaches everything inside.
	r.is(Accepted)(r.e.StartHold("damaged", "forklift"), nil)
	s := r.is(Accepted)(r.scan(cases[0]))
	if s.Units != 51 || !r.unit(units[cases[0]][7].Key).Holds.Has(event.HoldDamaged) {
		t.Fatalf("case hold: %+v", s)
	}
	r.is(Warning)(r.scan(cases[0]))                                           // already held
	r.is(Refused)(r.e.Scan(demo.UnitScan(r.fx.Product(0), "NOSUCH", "", ""))) // unknown unit

	// Release is for leads; a release of one reason leaves the others.
	r.login("lead1")
	r.is(Accepted)(r.e.StartHold("investigation", ""), nil)
	r.is(Accepted)(r.scan(units[cases[0]][0].Key))
	r.is(Accepted)(r.e.StartRelease("damaged"), nil)
	r.is(Accepted)(r.scan(cases[0]))
	if h := r.unit(units[cases[0]][0].Key).Holds; h.Has(event.HoldDamaged) || !h.Has(event.HoldInvestigation) {
		t.Fatalf("holds after release: %v", h)
	}
	r.is(Accepted)(r.e.StartRelease(""), nil)
	r.is(Accepted)(r.scan(units[cases[0]][0].Key))
	r.is(Warning)(r.scan(units[cases[0]][0].Key)) // nothing left to release

	// A site recall cannot be released on a unit.
	recalled := r.fx.Stock(r.fx.Product(0))[1].Units[0]
	r.is(Refused)(r.scan(recalled))
	r.is(Refused)(r.e.ReleaseLot(r.fx.Product(0), "US01B"))

	// Destroy and decommission need a reason; destroyed units stay destroyed.
	r.is(Refused)(r.e.StartDestroy(""), nil)
	r.is(Accepted)(r.e.StartDestroy("broken vial"), nil)
	r.is(Accepted)(r.scan(units[cases[0]][1].Key))
	r.is(Accepted)(r.e.StartHold("suspect", ""), nil)
	s = r.is(Refused)(r.scan(units[cases[0]][1].Key))
	if !hasRule(s, unit.RuleActionOnInactive) {
		t.Fatalf("act on destroyed: %+v", s)
	}
	r.is(Accepted)(r.e.StartDecommission("sample for lab"), nil)
	r.is(Accepted)(r.scan(units[cases[0]][2].Key))
	if st := r.unit(units[cases[0]][2].Key); st.Status != unit.StatusDecommissioned {
		t.Fatalf("decommissioned %+v", st)
	}
	r.is(Accepted)(r.e.StartRevert(), nil)
	r.is(Accepted)(r.scan(units[cases[0]][2].Key))
	r.now = r.now.Add(time.Hour)
	r.is(Accepted)(r.e.StartDecommission("again"), nil)
	r.is(Accepted)(r.scan(units[cases[0]][2].Key))
	r.now = r.now.Add(11 * 24 * time.Hour)
	r.is(Accepted)(r.e.StartRevert(), nil)
	r.is(Refused)(r.scan(units[cases[0]][2].Key)) // more than 10 days
}

// A lot hold made on the device holds every unit of the lot here and
// every unit of it received later; the lead releases it.
func TestHoldLot(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	lot := units[cases[0]][0].Lot
	s := r.is(Accepted)(r.e.HoldLot(r.fx.Product(0), lot, "suspect", "counterfeit alert"))
	if s.Units != 50 { // the case carries no lot of its own in the lot index
		t.Fatalf("lot hold reached %d", s.Units)
	}
	var hs []master.Hold
	if err := r.st.View(func(tx *store.Tx) (err error) { hs, err = tx.HoldsOn(r.fx.Product(0)); return }); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hs {
		found = found || h.Lot == lot && h.Active
	}
	if !found {
		t.Fatalf("no local lot hold in %+v", hs)
	}
	r.is(Refused)(r.e.HoldLot("00399999999991", "X", "suspect", ""))
	r.is(Refused)(r.e.HoldLot(r.fx.Product(0), lot, "bored", ""))
	r.login("lead1")
	r.is(Accepted)(r.e.ReleaseLot(r.fx.Product(0), lot))
	if h := r.unit(units[cases[0]][3].Key).Holds; h != 0 {
		t.Fatalf("after lot release: %v", h)
	}
	r.is(Warning)(r.e.ReleaseLot(r.fx.Product(0), lot))
}

func TestLookup(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	r.is(Accepted)(r.e.StartHold("suspect", "check"), nil)
	r.is(Accepted)(r.scan(units[cases[0]][0].Key))
	r.is(Accepted)(r.e.StartLookup(), nil)
	// A held unit looks up as a warning: not a unit to use as it is.
	s := r.is(Warning)(r.scan(units[cases[0]][0].Key))
	in := s.Info
	if in == nil || in.Status != unit.StatusInStock || in.Container != cases[0] || in.Holds != "suspect" || in.Product != "Amoxicillin" ||
		in.Location != demo.Dock || len(in.History) != 2 || in.History[0].Kind != event.KindReceive || in.History[1].Kind != event.KindHold {
		t.Fatalf("lookup: %+v", in)
	}
	s = r.is(Accepted)(r.scan(cases[0]))
	if s.Info.ContentCount != 50 || s.Info.Completeness != "inferred" {
		t.Fatalf("case lookup: %+v", s.Info)
	}
	s = r.is(Warning)(r.e.Lookup(r.fx.Stock(r.fx.Product(0))[1].Units[0]))
	if s.Info.Inherited != "recall" {
		t.Fatalf("recalled lookup: %+v", s.Info)
	}
	r.is(Warning)(r.e.Lookup(event.SGTIN(r.fx.Product(0), "NONE")))
	r.is(Refused)(r.e.Lookup(r.fx.Stock(r.fx.Product(3))[0].Units[0])) // EU stock: op1 is not granted
}

func TestReturns(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	para := r.fx.Stock(r.fx.Product(3))[0]
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Accepted)(r.scan(para.Units[0]))
	r.is(Accepted)(r.scan(para.Units[1]))
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	r.is(Accepted)(r.scan(para.Units[0]))
	r.is(Accepted)(r.scan(para.Units[1]))

	// A shipped unit cannot be picked again.
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	if s := r.is(Refused)(r.scan(para.Units[0])); s.Cue != CueAlert && s.Reason == "" {
		t.Fatalf("pick of shipped unit: %+v", s)
	}
	r.is(Accepted)(r.e.StartReturn(), nil)
	s := r.is(Accepted)(r.scan(para.Units[0]))
	if st := r.unit(para.Units[0]); st.Status != unit.StatusInStock || st.Location != "A-01-01" || st.Holds != 0 {
		t.Fatalf("restocked: %+v (%s)", st, s.Reason)
	}
	s = r.is(Warning)(r.e.Scan(demo.UnitScan(para.GTIN, para.Units[1].Serial(), "WRONG", para.Expiry)))
	if st := r.unit(para.Units[1]); !st.Holds.Has(event.HoldSuspect) || st.Location != demo.Quarantine || !hasRule(s, unit.RuleLotMismatch) || s.Cue != CueAlert {
		t.Fatalf("mismatch return: %+v %+v", st, s)
	}
	// A serial never shipped from here is quarantined as suspect (see
	// TestReturnOfUnknownSerial).
	s = r.is(Warning)(r.e.Scan(demo.UnitScan(para.GTIN, "NEVER", para.Lot, para.Expiry)))
	if s.Cue != CueAlert || !hasRule(s, unit.RuleWrongSerial) {
		t.Fatalf("unknown return: %+v", s)
	}
	r.is(Refused)(r.scan(para.Units[2])) // in stock: never left
}

// After a load that did not finish, the engine refuses to work until a
// load completes.
func TestIncompleteReplicaRefuses(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	l, err := r.st.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	l.Cancel()
	e, err := New(r.st, Config{Now: r.clock, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	r.e.user = &r.fx.Snapshot.Users[1]
	s := r.is(Refused)(r.e.StartReceive(demo.ASNUS))
	if s.Reason == "" {
		t.Fatal("no reason")
	}
	if _, err := r.e.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
}

// TestLookupWritesEvent: a look-up of a unit the user sees puts a lookup
// event of that user and device in the outbox, which syncs like any
// other; it changes nothing on the unit and is not in its history. A
// look-up of another client's unit, or of a code no client owns,
// writes nothing.
func TestLookupWritesEvent(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	k := units[cases[0]][0].Key
	before := r.unit(k)
	ob, err := r.st.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    event.Key
		verd   Verdict
		writes bool
	}{
		{"unit in stock", k, Accepted, true},
		{"its case", cases[0], Accepted, true},
		{"again: every look-up counts", k, Accepted, true},
		{"another client's unit", r.fx.Stock(r.fx.Product(3))[0].Units[0], Refused, false},
		{"a code of no product", event.SGTIN("00000000000000", "NONE"), Warning, false},
	}
	last := ob.Last
	for _, tc := range tests {
		s := r.is(tc.verd)(r.e.Lookup(tc.key))
		after, err := r.st.Outbox()
		if err != nil {
			t.Fatal(err)
		}
		if !tc.writes {
			if after.Last != last || len(s.Events) != 0 {
				t.Fatalf("%s: wrote %d events", tc.name, after.Last-last)
			}
			continue
		}
		if after.Last != last+1 || len(s.Events) != 1 || s.Seq != after.Last {
			t.Fatalf("%s: outbox %d -> %d, step %+v", tc.name, last, after.Last, s)
		}
		last = after.Last
		pend, err := r.st.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		ev := pend[len(pend)-1]
		if ev.Kind != event.KindLookup || ev.User != "op1" || ev.Device != "hh-1" || len(ev.Subjects) != 1 || ev.Subjects[0].Key != tc.key || ev.Client == "" {
			t.Fatalf("%s: outbox event %+v", tc.name, ev)
		}
	}
	if after := r.unit(k); after != before {
		t.Fatalf("a look-up changed the unit: %+v -> %+v", before, after)
	}
	s := r.is(Accepted)(r.e.Lookup(k))
	for _, h := range s.Info.History {
		if h.Kind == event.KindLookup {
			t.Fatalf("a look-up is in the unit's history: %+v", s.Info.History)
		}
	}
}
