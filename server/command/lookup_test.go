package command

import (
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// TestLookupAppliesAsANote: a lookup event takes its place in its
// device's sequence and is stored, answered applied, but the unit keeps
// its record and version, its history does not grow and the change feed
// carries nothing for the entry.
func TestLookupAppliesAsANote(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeClient, master.Client{ID: "acme"}))
	k := event.SGTIN("00300010123455", "LK1")
	at := hlc.New(1_790_000_000_000, 0)
	ev := func(seq uint64, kind event.Kind, ctx event.Context) event.Event {
		e := event.Event{Device: "hh-1", Epoch: 1, Seq: seq, HLC: at + hlc.Timestamp(seq<<16), User: "ana", Site: "s", Client: "acme",
			Kind: kind, Subjects: []event.Subject{{Key: k}}, Ctx: ctx}
		e.ID[0], e.ID[15] = 0x01, byte(seq)
		return e
	}
	rcv := ev(1, event.KindReceive, event.Context{To: "DOCK"})
	if v := l.apply(t, EncodeEvents(&Events{Received: at + 1<<32, Events: []event.Event{rcv}}))[0].([]Verdict); v[0].Status != StatusApplied {
		t.Fatalf("receive: %+v", v[0])
	}
	var before unit.State
	var hist int
	read := func() (unit.State, int) {
		var s unit.State
		var n int
		if err := st.View(func(r *state.Reader) error {
			var err error
			if s, err = r.Unit(k); err != nil {
				return err
			}
			h, err := r.History(k, 0)
			n = len(h)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return s, n
	}
	before, hist = read()
	lk := ev(2, event.KindLookup, event.Context{})
	vs := l.apply(t, EncodeEvents(&Events{Received: at + 1<<32, Events: []event.Event{lk}}))[0].([]Verdict)
	if vs[0].Status != StatusApplied || vs[0].Result == nil || vs[0].Result.Verdict != unit.VerdictApplied || len(vs[0].Result.Subjects) != 0 {
		t.Fatalf("lookup: %+v", vs[0])
	}
	after, n := read()
	if after != before || n != hist {
		t.Fatalf("lookup changed the unit or its history: %+v -> %+v, %d -> %d history", before, after, hist, n)
	}
	if err := st.View(func(r *state.Reader) error {
		rec, err := r.Event(lk.ID)
		if err != nil || rec.Event.Kind != event.KindLookup {
			t.Fatalf("stored lookup: %+v %v", rec, err)
		}
		refs, _, _, err := r.Feed(l.idx-1, 100)
		if len(refs) != 0 {
			t.Fatalf("feed of the lookup's entry: %+v", refs)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A resend is a duplicate, as for any event.
	if v := l.apply(t, EncodeEvents(&Events{Received: at + 1<<32, Events: []event.Event{lk}}))[0].([]Verdict); v[0].Status != StatusDuplicate {
		t.Fatalf("resend: %+v", v[0])
	}
}
