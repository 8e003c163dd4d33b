package unit

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Scenarios from the floor that the rules must get right.

func TestHeldUnitInsideShippedCaseIsShippedWhileHeld(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 3)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "O1", Line: "1"}, caseK), Env{})
	mustEval(t, st, mk("lead", 1, event.KindHold, event.Context{Hold: event.HoldSuspect}, gtinUnit(1)), Env{})
	if u := st.Units[gtinUnit(1)]; u.Parent != caseK {
		t.Fatalf("hold took the unit out of its case in the data: %+v", u)
	}
	r := mustEval(t, st, mk("dev-1", 3, event.KindShip, event.Context{Shipment: "S1"}, caseK), Env{})
	if u := st.Units[gtinUnit(1)]; u.Status != StatusShipped {
		t.Fatalf("held unit stayed behind in the data although its case left: %+v", u)
	}
	found := false
	for _, id := range r.Exceptions() {
		found = found || st.Exceptions[id].Rule == RuleShippedWhileHeld
	}
	if !found {
		t.Fatalf("no SHIPPED_WHILE_HELD: %+v", r)
	}
}

func TestHoldOnPackedPalletKeepsStructureAndReopensEachLineOnce(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 3)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "O1", Line: "1"}, caseK), Env{})
	r := mustEval(t, st, mk("lead", 1, event.KindHold, event.Context{Hold: event.HoldRecall}, caseK), Env{})
	if len(r.Reopen) != 1 || r.Reopen[0] != (OrderLine{"O1", "1"}) {
		t.Fatalf("reopen = %+v, want O1/1 once", r.Reopen)
	}
	for i := range 3 {
		if u := st.Units[gtinUnit(i)]; u.Parent != caseK || !u.Holds.Has(event.HoldRecall) {
			t.Fatalf("unit %d after pallet hold: %+v", i, u)
		}
	}
}

func TestCaseWithAHeldUnitCannotBePicked(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 3)
	mustEval(t, st, mk("lead", 1, event.KindHold, event.Context{Hold: event.HoldDamaged}, gtinUnit(2)), Env{})
	e := mk("dev-1", 2, event.KindPick, event.Context{Order: "O1"}, caseK)
	e.Subjects[0].BaseVersion = st.Units[caseK].Version // the device saw the case as it is
	r := mustEval(t, st, e, Env{})
	if r.Verdict != VerdictRefused || st.Units[caseK].Status != StatusInStock {
		t.Fatalf("case pick with a held unit inside: %+v", r)
	}
	for i := range 3 {
		if st.Units[gtinUnit(i)].Status != StatusInStock {
			t.Fatalf("unit %d moved", i)
		}
	}
	// Done offline (stale base): the same refusal, now an exception.
	r2 := mustEval(t, st, mk("dev-2", 1, event.KindPick, event.Context{Order: "O2"}, caseK), Env{})
	if r2.Verdict != VerdictConflict || len(r2.Exceptions()) != 1 || st.Exceptions[r2.Exceptions()[0]].Rule != RuleHeldUnitMoved {
		t.Fatalf("offline case pick: %+v", r2)
	}
}

func TestRecallReachesUnitsNotOnAnyASN(t *testing.T) {
	st := NewMemStore()
	st.LotHolds["00300010123455|L9"] = event.Holds(0).With(event.HoldRecall)
	r := mustEval(t, st, mk("dev-1", 1, event.KindReceive, event.Context{Lot: "L9", Expiry: "281231"}, gtinUnit(7)), Env{})
	rules := map[Rule]bool{}
	for _, id := range r.Exceptions() {
		rules[st.Exceptions[id].Rule] = true
	}
	if !rules[RuleRecalled] {
		t.Fatalf("receive of a recalled lot raised %v", rules)
	}
}

func TestScannedLotIsThePhysicalFact(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 1) // ASN says lot L1
	st.LotHolds["00300010123455|L2"] = event.Holds(0).With(event.HoldRecall)
	u := event.SGTIN("00300010123455", "NEW1")
	mustEval(t, st, mk("dev-s", 3, event.KindExpect, event.Context{ASN: "A2", Lot: "L1", Expiry: "281231"}, u), Env{})
	r := mustEval(t, st, mk("dev-1", 2, event.KindReceive, event.Context{ASN: "A2", Lot: "L2"}, u), Env{})
	if st.Units[u].Lot != "L2" {
		t.Fatalf("lot on record %q, want the scanned L2", st.Units[u].Lot)
	}
	rules := map[Rule]bool{}
	for _, id := range r.Exceptions() {
		rules[st.Exceptions[id].Rule] = true
	}
	if !rules[RuleLotMismatch] || !rules[RuleRecalled] {
		t.Fatalf("exceptions %v, want LOT_MISMATCH and RECALLED", rules)
	}
	p := mustEval(t, st, mk("dev-1", 3, event.KindPick, event.Context{Order: "O1"}, u), Env{})
	if p.Verdict == VerdictApplied {
		t.Fatal("unit of a recalled lot was picked")
	}
}

func TestPackTargetIsChecked(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 3)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "O1", Line: "1"}, gtinUnit(0), gtinUnit(1), gtinUnit(2)), Env{})
	// A refused pack creates no container.
	bad := mk("dev-1", 3, event.KindPack, event.Context{Order: "O9", Parent: otherC}, gtinUnit(0))
	if r := mustEval(t, st, bad, Env{}); r.Verdict != VerdictRefused {
		t.Fatalf("pack for the wrong order: %+v", r)
	}
	if st.Units[otherC].Known() {
		t.Fatal("a refused pack created its container")
	}
	mustEval(t, st, mk("dev-1", 4, event.KindPack, event.Context{Order: "O1", Parent: otherC}, gtinUnit(0)), Env{})
	mustEval(t, st, mk("dev-1", 5, event.KindShip, event.Context{Shipment: "S1"}, otherC), Env{})
	r := mustEval(t, st, mk("dev-1", 6, event.KindPack, event.Context{Order: "O1", Parent: otherC}, gtinUnit(1)), Env{})
	if r.Verdict != VerdictRefused || st.Units[gtinUnit(1)].Status != StatusPicked {
		t.Fatalf("packing into a container that left: %+v", r)
	}
	mustEval(t, st, mk("dev-1", 7, event.KindPack, event.Context{Order: "O1", Parent: caseK}, gtinUnit(1)), Env{})
	other := mk("dev-2", 1, event.KindPack, event.Context{Order: "O1", Parent: caseK}, gtinUnit(2))
	other.Client = "globex"
	if r := mustEval(t, st, other, Env{}); r.Verdict != VerdictRefused {
		t.Fatalf("packing another client's goods together: %+v", r)
	}
}

func TestClockSkewIsOneExceptionPerEvent(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 5)
	e := mk("dev-9", 1, event.KindMove, event.Context{To: "B-1"}, caseK)
	received := e.HLC
	e.HLC = hlc.New(e.HLC.Millis()+int64(time.Hour/time.Millisecond), 0)
	r := mustEval(t, st, e, Env{Received: received})
	n := 0
	for _, x := range st.Exceptions {
		if x.Rule == RuleClockSkew {
			n++
		}
	}
	if n != 1 || r.Verdict != VerdictApplied {
		t.Fatalf("%d CLOCK_SKEW exceptions for one event (verdict %s)", n, r.Verdict)
	}
	if st.Units[caseK].Updated != received {
		t.Fatalf("display time not clamped: %v", st.Units[caseK].Updated)
	}
}

func TestEventsNeverTouchAnotherClientsUnits(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 2) // client acme
	e := mk("dev-x", 1, event.KindDestroy, event.Context{}, gtinUnit(0))
	e.Client = "globex"
	r := mustEval(t, st, e, Env{Authorized: true})
	if r.Verdict != VerdictRefused || st.Units[gtinUnit(0)].Status != StatusInStock {
		t.Fatalf("another client's event destroyed the unit: %+v", r)
	}
	// Through a container too: globex holding acme's case reaches nothing.
	h := mk("dev-x", 2, event.KindHold, event.Context{Hold: event.HoldSuspect}, caseK)
	h.Client = "globex"
	mustEval(t, st, h, Env{})
	for _, k := range []event.Key{caseK, gtinUnit(0), gtinUnit(1)} {
		if st.Units[k].Holds != 0 {
			t.Fatalf("%s held by another client's event", k)
		}
	}
}

func TestContainerCannotBePackedIntoItsOwnContents(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 2)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "O1", Line: "1"}, gtinUnit(0)), Env{})
	mustEval(t, st, mk("dev-1", 3, event.KindPack, event.Context{Order: "O1", Parent: otherC}, gtinUnit(0)), Env{})
	outer := event.SSCC("003000101234567886")
	mustEval(t, st, mk("dev-1", 4, event.KindPack, event.Context{Order: "O1", Parent: outer}, otherC), Env{})
	if st.Units[otherC].Parent != outer {
		t.Fatalf("inner container not packed: %+v", st.Units[otherC])
	}
	r := mustEval(t, st, mk("dev-1", 5, event.KindPack, event.Context{Order: "O1", Parent: otherC}, outer), Env{})
	if r.Verdict != VerdictRefused || st.Units[outer].Parent != "" {
		t.Fatalf("outer packed into its own contents: %+v, outer %+v", r, st.Units[outer])
	}
}
