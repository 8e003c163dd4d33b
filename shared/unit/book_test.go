package unit

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

func gtinUnit(i int) event.Key { return event.SGTIN("00300010123455", fmt.Sprintf("U%03d", i)) }

func mk(dev string, seq uint64, k event.Kind, ctx event.Context, keys ...event.Key) *event.Event {
	e := &event.Event{Device: dev, Epoch: 1, Seq: seq, HLC: hlc.New(t0.UnixMilli()+int64(seq), 0), User: "u", Site: "s", Client: "acme", Kind: k, Ctx: ctx}
	for _, key := range keys {
		e.Subjects = append(e.Subjects, event.Subject{Key: key})
	}
	e.ID[0] = dev[len(dev)-1]
	e.ID[1], e.ID[2] = byte(seq>>8), byte(seq)
	e.ID[3] = byte(k)
	return e
}

func mustEval(t *testing.T, st Store, e *event.Event, env Env) Result {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Fatalf("invalid test event: %v", err)
	}
	r, err := Evaluate(st, e, env)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// receivePallet announces a case of n units on ASN A1 and receives it by
// its label only.
func receivePallet(t *testing.T, st *MemStore, n int) {
	t.Helper()
	mustEval(t, st, mk("dev-s", 1, event.KindExpect, event.Context{ASN: "A1"}, caseK), Env{})
	var units []event.Key
	for i := range n {
		units = append(units, gtinUnit(i))
	}
	mustEval(t, st, mk("dev-s", 2, event.KindExpect, event.Context{ASN: "A1", Parent: caseK, Lot: "L1", Expiry: "281231"}, units...), Env{})
	r := mustEval(t, st, mk("dev-1", 1, event.KindReceive, event.Context{ASN: "A1", Inferred: true, To: "DOCK"}, caseK), Env{})
	if r.Verdict != VerdictApplied || len(r.Subjects) != n+1 {
		t.Fatalf("receive by label: %+v", r)
	}
}

func TestEvaluateReceiveByLabelInfersContents(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 4)
	if c := st.Units[caseK]; c.Completeness != CompletenessInferred || c.Status != StatusInStock {
		t.Fatalf("case: %+v", c)
	}
	for i := range 4 {
		if u := st.Units[gtinUnit(i)]; u.Status != StatusInStock || u.Location != "DOCK" || u.Parent != caseK {
			t.Fatalf("unit %d: %+v", i, u)
		}
	}
}

func TestEvaluateHoldOnCaseReachesUnitsAndStopsPick(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 3)
	r := mustEval(t, st, mk("lead", 1, event.KindHold, event.Context{Hold: event.HoldSuspect}, caseK), Env{})
	if len(r.Subjects) != 4 {
		t.Fatalf("hold reached %d subjects", len(r.Subjects))
	}
	p := mustEval(t, st, mk("dev-2", 1, event.KindPick, event.Context{Order: "O1"}, gtinUnit(1)), Env{})
	if p.Verdict != VerdictConflict || len(p.Exceptions()) != 1 {
		t.Fatalf("pick of held unit: %+v", p)
	}
	if x := st.Exceptions[p.Exceptions()[0]]; x.Rule != RuleHeldUnitMoved {
		t.Fatalf("exception %+v", x)
	}
}

func TestEvaluateLotRecallIsInherited(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 2)
	st.LotHolds["00300010123455|L1"] = event.Holds(0).With(event.HoldRecall)
	p := mustEval(t, st, mk("dev-2", 1, event.KindPick, event.Context{Order: "O1"}, gtinUnit(0)), Env{})
	if p.Verdict != VerdictConflict || st.Units[gtinUnit(0)].Status != StatusInStock {
		t.Fatalf("pick of recalled lot: %+v", p)
	}
}

func TestEvaluatePackCreatesContainerAndShipPropagates(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 2)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "O1", Line: "1"}, gtinUnit(0), gtinUnit(1)), Env{})
	r := mustEval(t, st, mk("dev-1", 3, event.KindPack, event.Context{Order: "O1", Parent: otherC}, gtinUnit(0), gtinUnit(1)), Env{})
	if r.Verdict != VerdictApplied {
		t.Fatalf("pack: %+v", r)
	}
	if c := st.Units[otherC]; c.Status != StatusPacked || c.Completeness != CompletenessVerified {
		t.Fatalf("new container: %+v", c)
	}
	s := mustEval(t, st, mk("dev-1", 4, event.KindShip, event.Context{Shipment: "S1"}, otherC), Env{})
	if s.Verdict != VerdictApplied || len(s.Subjects) != 3 {
		t.Fatalf("ship: %+v", s)
	}
	for _, k := range []event.Key{otherC, gtinUnit(0), gtinUnit(1)} {
		if st.Units[k].Status != StatusShipped {
			t.Fatalf("%s not shipped: %+v", k, st.Units[k])
		}
	}
}

func TestEvaluateDoublePickJoinsOneException(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 1)
	u := gtinUnit(0)
	mustEval(t, st, mk("dev-1", 2, event.KindPick, event.Context{Order: "A"}, u), Env{})
	r1 := mustEval(t, st, mk("dev-2", 1, event.KindPick, event.Context{Order: "B"}, u), Env{})
	r2 := mustEval(t, st, mk("dev-3", 1, event.KindPick, event.Context{Order: "C"}, u), Env{})
	if len(st.Exceptions) != 1 || r1.Exceptions()[0] != r2.Exceptions()[0] {
		t.Fatalf("want one exception joined by both, got %d", len(st.Exceptions))
	}
	x := st.Exceptions[r1.Exceptions()[0]]
	if len(x.Events) != 2 || len(x.Devices) != 2 {
		t.Fatalf("joined exception: %+v", x)
	}
	// The same event evaluated again (a resent batch on a new replica
	// path) joins nothing new.
	again := mustEval(t, st, mk("dev-3", 1, event.KindPick, event.Context{Order: "C"}, u), Env{})
	if len(st.Exceptions[again.Exceptions()[0]].Events) != 2 {
		t.Fatal("re-evaluated event joined twice")
	}
}

// TestReplicasAgree is the property that replication rests on: any
// interleaving of the devices' streams, applied in the same order on two
// replicas, gives identical state.
func TestReplicasAgree(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 99))
		streams := randomStreams(rng)
		order := interleave(rng, streams)
		a, b := NewMemStore(), NewMemStore()
		// Give b a different map history so iteration order differs.
		for i := range 50 {
			b.Units[gtinUnit(900+i)] = State{}
		}
		for i := range 50 {
			delete(b.Units, gtinUnit(900+i))
		}
		receivePallet(t, a, 6)
		receivePallet(t, b, 6)
		for i, e := range order {
			// Each replica decodes its own copy of the event, as after
			// replication; the proposer's clock sometimes lags the device.
			ca, cb := clone(t, e), clone(t, e)
			env := Env{Authorized: e.User == "lead", Received: hlc.New(e.HLC.Millis()-int64(i%3)*int64(time.Hour/time.Millisecond), 0)}
			ra, errA := Evaluate(a, ca, env)
			rb, errB := Evaluate(b, cb, env)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if fmt.Sprint(ra) != fmt.Sprint(rb) {
				t.Fatalf("seed %d: results differ on %s", seed, e.Kind)
			}
		}
		if a.Hash() != b.Hash() {
			t.Fatalf("seed %d: replicas diverged", seed)
		}
	}
}

// randomStreams makes four devices' event streams over a small universe
// so that conflicts are frequent.
func randomStreams(rng *rand.Rand) [][]*event.Event {
	kinds := []event.Kind{event.KindReceive, event.KindPick, event.KindUnpick, event.KindPack, event.KindShip,
		event.KindHold, event.KindRelease, event.KindMove, event.KindDecommission, event.KindReturn, event.KindCount, event.KindVoidShip,
		event.KindDestroy, event.KindRevert, event.KindUnpack, event.KindVerify}
	var out [][]*event.Event
	for d := range 4 {
		dev := fmt.Sprintf("dev-%d", d)
		var s []*event.Event
		for seq := uint64(1); seq <= 40; seq++ {
			k := kinds[rng.IntN(len(kinds))]
			ctx := event.Context{ASN: "A1", Order: fmt.Sprintf("O%d", rng.IntN(3)), Shipment: fmt.Sprintf("S%d", rng.IntN(2)),
				To: fmt.Sprintf("L%d", rng.IntN(3)), Hold: event.HoldSuspect, Parent: otherC}
			if k == event.KindPack && rng.IntN(2) == 0 {
				ctx.Parent = caseK
			}
			subject := gtinUnit(rng.IntN(6))
			if rng.IntN(5) == 0 {
				subject = caseK // container events propagate to the contents
			}
			e := mk(dev, seq, k, ctx, subject)
			e.HLC = hlc.New(t0.UnixMilli()+int64(rng.IntN(1000)), uint16(d))
			if d == 0 {
				e.User = "lead"
			}
			s = append(s, e)
		}
		out = append(out, s)
	}
	return out
}

func interleave(rng *rand.Rand, streams [][]*event.Event) []*event.Event {
	pos := make([]int, len(streams))
	var out []*event.Event
	for {
		var live []int
		for i, s := range streams {
			if pos[i] < len(s) {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			return out
		}
		i := live[rng.IntN(len(live))]
		out = append(out, streams[i][pos[i]])
		pos[i]++
	}
}

func TestEvaluateIsIdempotentForMerges(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 1)
	before := st.Hash()
	r := mustEval(t, st, mk("dev-9", 1, event.KindReceive, event.Context{ASN: "A1", Inferred: true, To: "DOCK"}, caseK), Env{})
	if r.Verdict != VerdictMerged || st.Hash() != before {
		t.Fatalf("second receive of the same case changed state: %+v", r)
	}
}

func TestReplicaPropertyCoversConflicts(t *testing.T) {
	// The property test is only worth something if its streams reach the
	// interesting rows: count the verdicts and rules over its seeds.
	verdicts := map[Verdict]int{}
	rules := map[Rule]bool{}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 99))
		st := NewMemStore()
		receivePallet(t, st, 6)
		for _, e := range interleave(rng, randomStreams(rng)) {
			r, err := Evaluate(st, e, Env{Authorized: e.User == "lead"})
			if err != nil {
				t.Fatal(err)
			}
			verdicts[r.Verdict]++
		}
		for _, x := range st.Exceptions {
			rules[x.Rule] = true
		}
	}
	for _, v := range []Verdict{VerdictApplied, VerdictMerged, VerdictConflict, VerdictRefused} {
		if verdicts[v] == 0 {
			t.Errorf("no %s verdicts in the random streams", v)
		}
	}
	for _, r := range []Rule{RuleDoublePick, RuleHoldOverridesPick, RuleHeldUnitMoved, RuleShippedWhileHeld, RuleActionOnInactive} {
		if !rules[r] {
			t.Errorf("random streams never raised %s (got %v)", r, rules)
		}
	}
}

func clone(t *testing.T, e *event.Event) *event.Event {
	t.Helper()
	b, _ := e.MarshalBinary()
	var c event.Event
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return &c
}
