package unit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

var (
	t0     = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	unitK  = event.SGTIN("00300010123455", "SN1")
	caseK  = event.SSCC("003000101234567893")
	otherC = event.SSCC("003000101234567909")
)

// ev builds a valid event of kind k at t0+offset.
func ev(k event.Kind, ctx event.Context, offset time.Duration) *event.Event {
	e := &event.Event{Device: "dev-a", Epoch: 1, Seq: 1, HLC: hlc.FromTime(t0.Add(offset)),
		User: "u1", Site: "site", Client: "acme", Kind: k, Subjects: []event.Subject{{Key: unitK}}, Ctx: ctx}
	e.ID[0], e.ID[15] = byte(k), byte(offset/time.Second)
	return e
}

func st(s Status, mod ...func(*State)) State {
	x := State{Key: unitK, Client: "acme", Status: s, Version: 3, Lot: "L1", Expiry: "281231", LastDevice: "dev-b"}
	for _, m := range mod {
		m(&x)
	}
	return x
}

func withHold(h event.HoldReason) func(*State) { return func(s *State) { s.Holds = s.Holds.With(h) } }
func withOrder(o, l string) func(*State) {
	return func(s *State) { s.Order, s.Line = o, l }
}
func withParent(p event.Key) func(*State) { return func(s *State) { s.Parent = p } }
func withShipment(sh string) func(*State) { return func(s *State) { s.Shipment = sh } }
func withExpiry(x string) func(*State)    { return func(s *State) { s.Expiry = x } }
func withASN(a string) func(*State)       { return func(s *State) { s.ASN = a } }

type want struct {
	verdict Verdict
	changed bool
	status  Status
	rules   []Rule
	reason  string // substring
}

func TestPrecedenceTable(t *testing.T) {
	// One row per line of DESIGN.md §5's table, plus the base-version and
	// merge rules above it.
	pickB := event.Context{Order: "B", Line: "1"}
	// Rows act with a stale base version (2, the state is at 3): the
	// device had not seen what was committed first. current = base 3.
	tests := []struct {
		name    string
		cur     State
		inh     event.Holds
		ev      *event.Event
		auth    bool
		want    want
		current bool
	}{
		{"base version equals current: apply", st(StatusInStock), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictApplied, true, StatusPicked, nil, ""}, true},
		{"stale base, legal transition: apply", st(StatusInStock), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictApplied, true, StatusPicked, nil, ""}, false},
		{"held, pick with current base: refused at the scan, no exception", st(StatusInStock, withHold(event.HoldSuspect)), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictRefused, false, StatusInStock, nil, "on hold"}, true},
		{"picked for A, pick for B with current base: refused, no exception", st(StatusPicked, withOrder("A", "1")), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictRefused, false, StatusPicked, nil, "already picked for order A"}, true},
		{"same effect already there: merge", st(StatusPicked, withOrder("B", "1")), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictMerged, false, StatusPicked, nil, ""}, false},
		{"picked for A, pick for B: first stays", st(StatusPicked, withOrder("A", "1")), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictConflict, false, StatusPicked, []Rule{RuleDoublePick}, "already picked for order A (device dev-b): put it back"}, false},
		{"picked, hold: hold wins, pick void", st(StatusPicked, withOrder("A", "1")), 0, ev(event.KindHold, event.Context{Hold: event.HoldSuspect}, 0), false,
			want{VerdictConflict, true, StatusInStock, []Rule{RuleHoldOverridesPick}, "pick is void"}, false},
		{"packed, hold: hold wins, pick void", st(StatusPacked, withOrder("A", "1"), withParent(caseK)), 0, ev(event.KindHold, event.Context{Hold: event.HoldRecall}, 0), false,
			want{VerdictConflict, true, StatusInStock, []Rule{RuleHoldOverridesPick}, "order A"}, false},
		{"held, pick: refused", st(StatusInStock, withHold(event.HoldSuspect)), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictConflict, false, StatusInStock, []Rule{RuleHeldUnitMoved}, "on hold (suspect)"}, false},
		{"lot held, pick: refused", st(StatusInStock), event.Holds(0).With(event.HoldRecall), ev(event.KindPick, pickB, 0), false,
			want{VerdictConflict, false, StatusInStock, []Rule{RuleHeldUnitMoved}, "recall"}, false},
		{"held, pack: refused", st(StatusPicked, withOrder("B", "1"), withHold(event.HoldDamaged)), 0, ev(event.KindPack, event.Context{Parent: caseK}, 0), false,
			want{VerdictConflict, false, StatusPicked, []Rule{RuleHeldUnitMoved}, "do not pack"}, false},
		{"shipped, hold: stays shipped, hold attached", st(StatusShipped, withShipment("S1")), 0, ev(event.KindHold, event.Context{Hold: event.HoldRecall}, 0), false,
			want{VerdictConflict, true, StatusShipped, []Rule{RuleShippedWhileHeld}, "after it left"}, false},
		{"shipped, damage hold", st(StatusShipped, withShipment("S1")), 0, ev(event.KindHold, event.Context{Hold: event.HoldDamaged}, 0), false,
			want{VerdictConflict, true, StatusShipped, []Rule{RuleShippedWhileHeld}, "damaged"}, false},
		{"held, ship offline: shipped, hold attached", st(StatusPacked, withHold(event.HoldSuspect), withParent(caseK)), 0, ev(event.KindShip, event.Context{Shipment: "S2"}, 0), false,
			want{VerdictConflict, true, StatusShipped, []Rule{RuleShippedWhileHeld}, "while on hold"}, false},
		{"destroyed, anything: refused", st(StatusDestroyed), 0, ev(event.KindPick, pickB, 0), false,
			want{VerdictConflict, false, StatusDestroyed, []Rule{RuleActionOnInactive}, "is destroyed"}, false},
		{"decommissioned, ship: refused", st(StatusDecommissioned), 0, ev(event.KindShip, event.Context{Shipment: "S"}, 0), false,
			want{VerdictConflict, false, StatusDecommissioned, []Rule{RuleActionOnInactive}, "cannot be shipped"}, false},
		{"decommissioned, authorized revert: active", st(StatusDecommissioned, func(s *State) { s.Since = hlc.FromTime(t0) }), 0, ev(event.KindRevert, event.Context{}, 24*time.Hour), true,
			want{VerdictApplied, true, StatusInStock, nil, ""}, false},
		{"decommissioned, unauthorized revert: refused", st(StatusDecommissioned, func(s *State) { s.Since = hlc.FromTime(t0) }), 0, ev(event.KindRevert, event.Context{}, time.Hour), false,
			want{VerdictRefused, false, StatusDecommissioned, nil, "shift lead"}, false},
		{"decommissioned, revert after 10 days: refused", st(StatusDecommissioned, func(s *State) { s.Since = hlc.FromTime(t0) }), 0, ev(event.KindRevert, event.Context{}, 11*24*time.Hour), true,
			want{VerdictRefused, false, StatusDecommissioned, nil, "more than 10 days"}, false},
		{"decommissioned, revert of recalled: refused", st(StatusDecommissioned, withHold(event.HoldRecall), func(s *State) { s.Since = hlc.FromTime(t0) }), 0, ev(event.KindRevert, event.Context{}, time.Hour), true,
			want{VerdictRefused, false, StatusDecommissioned, nil, "recalled"}, false},
		{"decommissioned, revert of expired: refused", st(StatusDecommissioned, withExpiry("260100"), func(s *State) { s.Since = hlc.FromTime(t0) }), 0, ev(event.KindRevert, event.Context{}, time.Hour), true,
			want{VerdictRefused, false, StatusDecommissioned, nil, "expired"}, false},
		{"decommissioned, destroy: destroyed", st(StatusDecommissioned), 0, ev(event.KindDestroy, event.Context{}, 0), false,
			want{VerdictApplied, true, StatusDestroyed, nil, ""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := uint64(2)
			if tc.current {
				base = tc.cur.Version
			}
			in := Input{Current: tc.cur, Inherited: tc.inh, Event: tc.ev, Subject: event.Subject{Key: unitK, BaseVersion: base}, Authorized: tc.auth}
			check(t, Apply(in), tc.cur, tc.want)
		})
	}
}

func check(t *testing.T, got Outcome, cur State, w want) {
	t.Helper()
	if got.Verdict != w.verdict || got.Changed != w.changed {
		t.Fatalf("verdict %s changed %v, want %s %v (reason %q)", got.Verdict, got.Changed, w.verdict, w.changed, got.Reason)
	}
	if got.State.Status != w.status {
		t.Fatalf("status %s, want %s", got.State.Status, w.status)
	}
	var rules []Rule
	for _, f := range got.Findings {
		rules = append(rules, f.Rule)
	}
	if fmt.Sprint(rules) != fmt.Sprint(w.rules) {
		t.Fatalf("findings %v, want %v", rules, w.rules)
	}
	if w.reason != "" && !strings.Contains(got.Reason, w.reason) {
		t.Fatalf("reason %q does not mention %q", got.Reason, w.reason)
	}
	if got.Changed {
		if got.State.Version != cur.Version+1 {
			t.Fatalf("version %d, want %d", got.State.Version, cur.Version+1)
		}
	} else if got.State != cur {
		// Outcome.State must be the untouched current state.
		t.Fatalf("state changed without Changed: %+v", got.State)
	}
}

func TestHoldOverridesPickReopensLineAndKeepsHold(t *testing.T) {
	cur := st(StatusPacked, withOrder("A", "7"), withParent(caseK))
	out := Apply(Input{Current: cur, Event: ev(event.KindHold, event.Context{Hold: event.HoldSuspect}, 0), Subject: event.Subject{Key: unitK}})
	if out.Reopen == nil || *out.Reopen != (OrderLine{"A", "7"}) {
		t.Fatalf("reopen = %+v", out.Reopen)
	}
	// The pick is void, but the unit is still physically in its case.
	if !out.State.Holds.Has(event.HoldSuspect) || out.State.Order != "" || out.State.Parent != caseK || out.State.Status != StatusInStock {
		t.Fatalf("state after hold = %+v", out.State)
	}
}

func TestShippedWhileHeldIsNeverAutoResolved(t *testing.T) {
	if RuleShippedWhileHeld.Info().AutoResolve || RuleShippedWhileHeld.Info().Severity != SeverityHigh {
		t.Fatal("SHIPPED_WHILE_HELD must be high and never auto-resolved")
	}
	if RuleDoublePick.Info().Severity != SeverityLow {
		t.Fatal("DOUBLE_PICK is low")
	}
}

func TestClockSkewClampsDisplayTime(t *testing.T) {
	e := ev(event.KindMove, event.Context{To: "B-02"}, 2*time.Hour)
	received := hlc.FromTime(t0)
	out := Apply(Input{Current: st(StatusInStock), Event: e, Subject: event.Subject{Key: unitK, BaseVersion: 3}, Received: received})
	if out.Verdict != VerdictApplied || !out.Changed {
		t.Fatalf("verdict %s", out.Verdict)
	}
	if out.Skew != 2*time.Hour {
		t.Fatalf("skew %v, want 2h", out.Skew)
	}
	if out.State.Updated != received {
		t.Fatalf("display time %v, want clamped %v", out.State.Updated, received)
	}
	// Within the bound: no skew, event time kept.
	e2 := ev(event.KindMove, event.Context{To: "B-03"}, time.Minute)
	out2 := Apply(Input{Current: out.State, Event: e2, Subject: event.Subject{Key: unitK}, Received: received})
	if out2.Skew != 0 || out2.State.Updated != e2.HLC {
		t.Fatalf("within bound: %+v", out2)
	}
	// Centuries ahead does not wrap around into the past.
	e3 := ev(event.KindMove, event.Context{To: "B-04"}, 0)
	e3.HLC = hlc.New(t0.UnixMilli()+int64(1)<<46, 0)
	out3 := Apply(Input{Current: out2.State, Event: e3, Subject: event.Subject{Key: unitK}, Received: received})
	if out3.Skew <= 0 || out3.State.Updated != received {
		t.Fatalf("far future: skew %v updated %v", out3.Skew, out3.State.Updated)
	}
}

// TestTransitions covers each kind against each status: what is allowed,
// what merges, and what is refused with a reason.
func TestTransitions(t *testing.T) {
	S := func(s Status, m ...func(*State)) State { return st(s, m...) }
	tests := []struct {
		name string
		cur  State
		k    event.Kind
		ctx  event.Context
		auth bool
		want want
	}{
		{"expect unknown", State{}, event.KindExpect, event.Context{ASN: "ASN1", Lot: "L1", Expiry: "281231", Parent: caseK}, false, want{VerdictApplied, true, StatusExpected, nil, ""}},
		{"expect again same asn", S(StatusExpected, withASN("ASN1")), event.KindExpect, event.Context{ASN: "ASN1"}, false, want{VerdictMerged, false, StatusExpected, nil, ""}},
		{"expect on other asn", S(StatusExpected, withASN("ASN1")), event.KindExpect, event.Context{ASN: "ASN2"}, false, want{VerdictConflict, false, StatusExpected, []Rule{RuleDuplicateSerial}, "ASN2"}},
		{"expect in stock", S(StatusInStock), event.KindExpect, event.Context{ASN: "ASN2"}, false, want{VerdictConflict, false, StatusInStock, []Rule{RuleDuplicateSerial}, "cloned"}},
		{"expect shipped (return inbound)", S(StatusShipped), event.KindExpect, event.Context{ASN: "R1"}, false, want{VerdictApplied, true, StatusExpected, nil, ""}},
		{"receive expected", S(StatusExpected, withASN("ASN1")), event.KindReceive, event.Context{ASN: "ASN1", To: "DOCK"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"receive unknown on asn: overage", State{}, event.KindReceive, event.Context{ASN: "ASN1"}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleOverage}, "not on ASN ASN1"}},
		{"receive lot mismatch", S(StatusExpected, withASN("A")), event.KindReceive, event.Context{ASN: "A", Lot: "L9"}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleLotMismatch}, "lot L9"}},
		{"receive expired: to hold", S(StatusExpected, withASN("A"), withExpiry("251000")), event.KindReceive, event.Context{ASN: "A"}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleExpired}, "expired"}},
		{"receive twice same asn", S(StatusInStock, withASN("A")), event.KindReceive, event.Context{ASN: "A"}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"receive in stock other asn", S(StatusInStock, withASN("A")), event.KindReceive, event.Context{ASN: "B"}, false, want{VerdictConflict, false, StatusInStock, []Rule{RuleDuplicateSerial}, ""}},
		{"receive in stock, second scan without asn", S(StatusInStock, withASN("A")), event.KindReceive, event.Context{}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"receive shipped", S(StatusShipped), event.KindReceive, event.Context{ASN: "B"}, false, want{VerdictConflict, false, StatusShipped, []Rule{RuleDuplicateSerial}, ""}},
		{"verify expected", S(StatusExpected), event.KindVerify, event.Context{}, false, want{VerdictRefused, false, StatusExpected, nil, "only received"}},
		{"verify in stock", S(StatusInStock), event.KindVerify, event.Context{}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"unpack loose", S(StatusInStock), event.KindUnpack, event.Context{}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"unpack wrong parent", S(StatusInStock, withParent(caseK)), event.KindUnpack, event.Context{Parent: otherC}, false, want{VerdictRefused, false, StatusInStock, nil, "not in"}},
		{"unpack packed", S(StatusPacked, withParent(caseK)), event.KindUnpack, event.Context{Parent: caseK}, false, want{VerdictApplied, true, StatusPicked, nil, ""}},
		{"unpack shipped", S(StatusShipped, withParent(caseK)), event.KindUnpack, event.Context{}, false, want{VerdictRefused, false, StatusShipped, nil, "left the building"}},
		{"move in stock", S(StatusInStock), event.KindMove, event.Context{To: "A-01"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"move expected", S(StatusExpected), event.KindMove, event.Context{To: "A-01"}, false, want{VerdictRefused, false, StatusExpected, nil, "not here"}},
		{"pick expected", S(StatusExpected), event.KindPick, event.Context{Order: "O"}, false, want{VerdictRefused, false, StatusExpected, nil, "not been received"}},
		{"pick unknown", State{}, event.KindPick, event.Context{Order: "O"}, false, want{VerdictRefused, false, StatusNone, nil, "unknown"}},
		{"pick shipped", S(StatusShipped, withShipment("S1")), event.KindPick, event.Context{Order: "O"}, false, want{VerdictConflict, false, StatusShipped, []Rule{RuleDuplicateSerial}, "S1"}},
		{"pick expired", S(StatusInStock, withExpiry("251031")), event.KindPick, event.Context{Order: "O"}, false, want{VerdictRefused, false, StatusInStock, nil, "expired"}},
		{"pick expiry DD=00 still good in month", S(StatusInStock, withExpiry("261100")), event.KindPick, event.Context{Order: "O"}, false, want{VerdictApplied, true, StatusPicked, nil, ""}},
		{"unpick picked", S(StatusPicked, withOrder("O", "1")), event.KindUnpick, event.Context{Order: "O"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"unpick other order", S(StatusPicked, withOrder("O", "1")), event.KindUnpick, event.Context{Order: "P"}, false, want{VerdictRefused, false, StatusPicked, nil, "order O"}},
		{"unpick in stock", S(StatusInStock), event.KindUnpick, event.Context{}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"unpick packed", S(StatusPacked), event.KindUnpick, event.Context{}, false, want{VerdictRefused, false, StatusPacked, nil, "nothing to put back"}},
		{"pack picked", S(StatusPicked, withOrder("O", "1")), event.KindPack, event.Context{Parent: caseK, Order: "O"}, false, want{VerdictApplied, true, StatusPacked, nil, ""}},
		{"pack picked for other order", S(StatusPicked, withOrder("O", "1")), event.KindPack, event.Context{Parent: caseK, Order: "P"}, false, want{VerdictRefused, false, StatusPicked, nil, "order O"}},
		{"pack in stock", S(StatusInStock), event.KindPack, event.Context{Parent: caseK}, false, want{VerdictRefused, false, StatusInStock, nil, "pick it before"}},
		{"pack same parent", S(StatusPacked, withParent(caseK)), event.KindPack, event.Context{Parent: caseK}, false, want{VerdictMerged, false, StatusPacked, nil, ""}},
		{"pack loose container onto pallet", S(StatusPacked), event.KindPack, event.Context{Parent: otherC}, false, want{VerdictApplied, true, StatusPacked, nil, ""}},
		{"pack into second container", S(StatusPacked, withParent(caseK)), event.KindPack, event.Context{Parent: otherC}, false, want{VerdictRefused, false, StatusPacked, nil, "already packed"}},
		{"ship packed", S(StatusPacked, withParent(caseK)), event.KindShip, event.Context{Shipment: "S1"}, false, want{VerdictApplied, true, StatusShipped, nil, ""}},
		{"ship twice same shipment", S(StatusShipped, withShipment("S1")), event.KindShip, event.Context{Shipment: "S1"}, false, want{VerdictMerged, false, StatusShipped, nil, ""}},
		{"ship on two shipments", S(StatusShipped, withShipment("S1")), event.KindShip, event.Context{Shipment: "S2"}, false, want{VerdictConflict, false, StatusShipped, []Rule{RuleDuplicateSerial}, "S1"}},
		{"ship expected", S(StatusExpected), event.KindShip, event.Context{Shipment: "S1"}, false, want{VerdictRefused, false, StatusExpected, nil, "not been received"}},
		{"void shipment of packed", S(StatusShipped, withShipment("S1"), withParent(caseK), withOrder("O", "1")), event.KindVoidShip, event.Context{Shipment: "S1"}, false, want{VerdictApplied, true, StatusPacked, nil, ""}},
		{"void shipment of picked", S(StatusShipped, withShipment("S1"), withOrder("O", "1")), event.KindVoidShip, event.Context{Shipment: "S1"}, false, want{VerdictApplied, true, StatusPicked, nil, ""}},
		{"void shipment never picked", S(StatusShipped, withShipment("S1"), withParent(caseK)), event.KindVoidShip, event.Context{Shipment: "S1"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"void shipment held meanwhile", S(StatusShipped, withShipment("S1"), withOrder("O", "1"), withHold(event.HoldRecall)), event.KindVoidShip, event.Context{Shipment: "S1"}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleHoldOverridesPick}, "pick is void"}},
		{"void other shipment", S(StatusShipped, withShipment("S1")), event.KindVoidShip, event.Context{Shipment: "S2"}, false, want{VerdictRefused, false, StatusShipped, nil, "not on shipment S2"}},
		{"hold unknown", State{}, event.KindHold, event.Context{Hold: event.HoldSuspect}, false, want{VerdictRefused, false, StatusNone, nil, "hold its lot"}},
		{"hold in stock", S(StatusInStock), event.KindHold, event.Context{Hold: event.HoldSuspect}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"hold twice", S(StatusInStock, withHold(event.HoldSuspect)), event.KindHold, event.Context{Hold: event.HoldSuspect}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"release unauthorized", S(StatusInStock, withHold(event.HoldSuspect)), event.KindRelease, event.Context{Hold: event.HoldSuspect}, false, want{VerdictRefused, false, StatusInStock, nil, "shift lead"}},
		{"release authorized", S(StatusInStock, withHold(event.HoldSuspect)), event.KindRelease, event.Context{Hold: event.HoldSuspect}, true, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"release all", S(StatusInStock, withHold(event.HoldSuspect), withHold(event.HoldDamaged)), event.KindRelease, event.Context{}, true, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"release not held", S(StatusInStock), event.KindRelease, event.Context{Hold: event.HoldSuspect}, true, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"decommission in stock", S(StatusInStock), event.KindDecommission, event.Context{Reason: "sample"}, false, want{VerdictApplied, true, StatusDecommissioned, nil, ""}},
		{"decommission picked", S(StatusPicked, withOrder("O", "1")), event.KindDecommission, event.Context{Reason: "damaged"}, false, want{VerdictApplied, true, StatusDecommissioned, nil, ""}},
		{"decommission shipped", S(StatusShipped), event.KindDecommission, event.Context{}, false, want{VerdictRefused, false, StatusShipped, nil, "cannot be decommissioned"}},
		{"decommission twice", S(StatusDecommissioned), event.KindDecommission, event.Context{}, false, want{VerdictMerged, false, StatusDecommissioned, nil, ""}},
		{"destroy held", S(StatusInStock, withHold(event.HoldDamaged)), event.KindDestroy, event.Context{}, false, want{VerdictApplied, true, StatusDestroyed, nil, ""}},
		{"destroy shipped", S(StatusShipped), event.KindDestroy, event.Context{}, false, want{VerdictRefused, false, StatusShipped, nil, "cannot be destroyed"}},
		{"revert in stock", S(StatusInStock), event.KindRevert, event.Context{}, true, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"revert picked", S(StatusPicked), event.KindRevert, event.Context{}, true, want{VerdictRefused, false, StatusPicked, nil, "only a decommissioned"}},
		{"return shipped", S(StatusShipped, withShipment("S1")), event.KindReturn, event.Context{To: "RET"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"return shipped to quarantine", S(StatusShipped), event.KindReturn, event.Context{Hold: event.HoldDamaged}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"return of recalled", S(StatusShipped, withHold(event.HoldRecall)), event.KindReturn, event.Context{}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleRecalled}, "quarantine"}},
		{"return of expired", S(StatusShipped, withExpiry("250100")), event.KindReturn, event.Context{}, false, want{VerdictConflict, true, StatusInStock, []Rule{RuleExpired}, "expired"}},
		{"return in stock: clone", S(StatusInStock), event.KindReturn, event.Context{}, false, want{VerdictConflict, false, StatusInStock, []Rule{RuleDuplicateSerial}, "cloned"}},
		{"return never shipped", S(StatusExpected), event.KindReturn, event.Context{}, false, want{VerdictRefused, false, StatusExpected, nil, "never shipped"}},
		{"count in place", S(StatusInStock), event.KindCount, event.Context{}, false, want{VerdictMerged, false, StatusInStock, nil, ""}},
		{"count relocates", S(StatusInStock), event.KindCount, event.Context{To: "B-9"}, false, want{VerdictApplied, true, StatusInStock, nil, ""}},
		{"count shipped", S(StatusShipped), event.KindCount, event.Context{}, false, want{VerdictConflict, false, StatusShipped, []Rule{RuleDuplicateSerial}, ""}},
		{"count expected", S(StatusExpected), event.KindCount, event.Context{}, false, want{VerdictRefused, false, StatusExpected, nil, "receive it"}},
		{"dispensed: inactive", S(StatusDispensed), event.KindMove, event.Context{To: "X"}, false, want{VerdictConflict, false, StatusDispensed, []Rule{RuleActionOnInactive}, ""}},
		{"unknown kind", S(StatusInStock), event.Kind(200), event.Context{}, false, want{VerdictRefused, false, StatusInStock, nil, "not understood"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := ev(tc.k, tc.ctx, 0)
			check(t, Apply(Input{Current: tc.cur, Event: e, Subject: event.Subject{Key: unitK, BaseVersion: tc.cur.Version}, Authorized: tc.auth}), tc.cur, tc.want)
		})
	}
}

func TestEveryKindAgainstEveryStatusIsDecided(t *testing.T) {
	// No combination may panic or leave the verdict unset, and a refusal
	// always says why in words.
	for s := StatusNone; s < statusEnd; s++ {
		for _, k := range event.Kinds() {
			e := ev(k, event.Context{Order: "O", Shipment: "S", Parent: caseK, To: "L", Hold: event.HoldSuspect, ASN: "A"}, 0)
			out := Apply(Input{Current: st(s), Event: e, Subject: event.Subject{Key: unitK}})
			if out.Verdict == 0 {
				t.Errorf("%s on %s: no verdict", k, s)
			}
			if (out.Verdict == VerdictRefused || out.Verdict == VerdictConflict) && out.Reason == "" {
				t.Errorf("%s on %s: %s without a reason", k, s, out.Verdict)
			}
		}
	}
}

func TestExpiryDate(t *testing.T) {
	ref := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"270331", "2027-03-31", true},
		{"270200", "2027-02-28", true},
		{"280200", "2028-02-29", true},
		{"280229", "2028-02-29", true},
		{"270229", "", false},
		{"271301", "", false},
		{"270431", "", false},
		{"760101", "2076-01-01", true}, // 50 ahead
		{"770101", "1977-01-01", true}, // 51 ahead goes back a century
		{"2701", "", false},
		{"27a101", "", false},
	}
	for _, tc := range tests {
		got, ok := ExpiryDate(tc.in, ref)
		if ok != tc.ok || (ok && got.Format("2006-01-02") != tc.want) {
			t.Errorf("ExpiryDate(%q) = %v, %v; want %s, %v", tc.in, got.Format("2006-01-02"), ok, tc.want, tc.ok)
		}
	}
}

func TestExceptionJoin(t *testing.T) {
	e1 := ev(event.KindPick, event.Context{Order: "B"}, 0)
	e2 := ev(event.KindPick, event.Context{Order: "C"}, time.Second)
	e2.Device = "dev-c"
	f := Finding{Rule: RuleDoublePick, Detail: "x"}
	x := Open(f, unitK, e1, e1.HLC)
	if x.ID != ExceptionID(RuleDoublePick, unitK, e1.ID) || x.Severity != SeverityLow || x.Status != ExceptionOpen {
		t.Fatalf("open: %+v", x)
	}
	if !x.Join(f, e2, e2.HLC) || x.Join(f, e2, e2.HLC) {
		t.Fatal("join: first must change, repeat must not")
	}
	if len(x.Events) != 2 || len(x.Devices) != 2 || x.Updated != e2.HLC {
		t.Fatalf("after join: %+v", x)
	}
	if ExceptionID(RuleDoublePick, unitK, e1.ID) == ExceptionID(RuleDoublePick, unitK, e2.ID) {
		t.Fatal("exception ids collide")
	}
}

func TestVoidingAPickReopensItsLine(t *testing.T) {
	for _, k := range []event.Kind{event.KindDecommission, event.KindDestroy, event.KindHold} {
		out := Apply(Input{Current: st(StatusPacked, withOrder("O7", "3"), withParent(caseK)), Event: ev(k, event.Context{Hold: event.HoldDamaged}, 0), Subject: event.Subject{Key: unitK, BaseVersion: 3}})
		if out.Reopen == nil || *out.Reopen != (OrderLine{"O7", "3"}) {
			t.Errorf("%s of a packed unit: reopen = %+v", k, out.Reopen)
		}
	}
	out := Apply(Input{Current: st(StatusInStock), Event: ev(event.KindDestroy, event.Context{}, 0), Subject: event.Subject{Key: unitK, BaseVersion: 3}})
	if out.Reopen != nil {
		t.Errorf("destroying a unit nobody picked reopened %+v", out.Reopen)
	}
}

func TestRevertWindowUsesTheSiteClock(t *testing.T) {
	// The decommission was recorded at t0; a device whose clock is a year
	// behind reverts 60 days later by the site's clock: refused.
	cur := st(StatusDecommissioned, func(s *State) { s.Since = hlc.FromTime(t0) })
	e := ev(event.KindRevert, event.Context{}, 60*24*time.Hour)
	received := e.HLC
	out := Apply(Input{Current: cur, Event: e, Subject: event.Subject{Key: unitK, BaseVersion: 3}, Authorized: true, Received: received})
	if out.Verdict != VerdictRefused {
		t.Fatalf("late revert: %s %q", out.Verdict, out.Reason)
	}
	// A device clock a year ahead cannot stretch the decommission time.
	dec := ev(event.KindDecommission, event.Context{}, 365*24*time.Hour)
	d := Apply(Input{Current: st(StatusInStock), Event: dec, Subject: event.Subject{Key: unitK, BaseVersion: 3}, Received: hlc.FromTime(t0)})
	if d.State.Since != hlc.FromTime(t0) {
		t.Fatalf("since = %v, want the site's clock %v", d.State.Since, hlc.FromTime(t0))
	}
}
