package syncdev_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/protocol"
)

type rig struct {
	fx  *demo.Fixture
	st  *store.Store
	eng *engine.Engine
	dev *syncdev.Device
	dir string
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newRig is a device with the demo replica loaded, op2 signed in and n
// units put on hold (n events in the outbox).
func newRig(t *testing.T, n int) (*rig, []event.Key) {
	t.Helper()
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{fx: fx, dir: t.TempDir()}
	if r.st, err = store.Open(t.TempDir(), store.Options{Device: "hh-1", Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	if r.eng, err = engine.New(r.st, engine.Config{DeviceNumber: 3, Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Load(&fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	if s, err := r.eng.Login("op2", fx.PIN("op2")); err != nil || s.Verdict != engine.Accepted {
		t.Fatalf("login: %+v %v", s, err)
	}
	if r.dev, err = syncdev.New(r.eng, r.dir); err != nil {
		t.Fatal(err)
	}
	r.eng.StartHold("damaged", "test")
	var held []event.Key
	for _, u := range fx.Snapshot.Units[:n] {
		s, err := r.eng.Scan(fx.ScanOf(u.Key))
		if err != nil || s.Verdict == engine.Refused {
			t.Fatalf("hold %s: %+v %v", u.Key, s, err)
		}
		held = append(held, u.Key)
	}
	return r, held
}

func TestOutboxAndPending(t *testing.T) {
	r, _ := newRig(t, 5)
	id, epoch := r.dev.Identity()
	if id != "hh-1" || epoch != r.st.Epoch() || r.dev.User() != "op2" {
		t.Fatalf("identity %s/%d user %q", id, epoch, r.dev.User())
	}
	for _, tc := range []struct {
		after    uint64
		max      int
		from, to uint64 // seqs expected; to < from: none
	}{{0, 2, 1, 2}, {2, 10, 3, 5}, {4, 1, 5, 5}, {5, 10, 1, 0}} {
		evs, err := r.dev.Pending(tc.after, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if tc.to >= tc.from {
			want = int(tc.to - tc.from + 1)
		}
		if len(evs) != want || want > 0 && (evs[0].Seq != tc.from || evs[len(evs)-1].Seq != tc.to) {
			t.Fatalf("Pending(%d, %d): %d events", tc.after, tc.max, len(evs))
		}
	}
	if err := r.dev.Ack([]protocol.Verdict{{Seq: 1, Outcome: protocol.OutcomeApplied}, {Seq: 2, Outcome: protocol.OutcomeApplied}}); err != nil {
		t.Fatal(err)
	}
	first, last, err := r.dev.Outbox()
	if err != nil || first != 3 || last != 5 {
		t.Fatalf("outbox %d..%d %v", first, last, err)
	}
	// After acks the outbox starts later, and Pending still answers by seq.
	evs, err := r.dev.Pending(3, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != 4 {
		t.Fatalf("Pending(3) after acks: %d events, %v", len(evs), err)
	}
	// A resent ack for pruned events is accepted.
	if err := r.dev.Ack([]protocol.Verdict{{Seq: 1, Outcome: protocol.OutcomeDuplicate, Original: protocol.OutcomeApplied}}); err != nil {
		t.Fatal(err)
	}
}

func TestConflictsBecomeMessages(t *testing.T) {
	r, _ := newRig(t, 3)
	vs := []protocol.Verdict{
		{Seq: 1, Outcome: protocol.OutcomeApplied},
		{Seq: 2, Outcome: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "U1 was already picked for order 118 (device 7): put it back"},
		{Seq: 3, Outcome: protocol.OutcomeRejected, Message: "no subject"},
	}
	if err := r.dev.Ack(vs); err != nil {
		t.Fatal(err)
	}
	// The same verdicts again, as a duplicate resend answers them.
	again := []protocol.Verdict{{Seq: 2, Outcome: protocol.OutcomeDuplicate, Original: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: vs[1].Message}}
	if err := r.dev.Ack(again); err != nil {
		t.Fatal(err)
	}
	check := func(d *syncdev.Device) {
		t.Helper()
		ms := d.Messages()
		if len(ms) != 2 || ms[0].Seq != 2 || ms[0].Kind() != "conflict" || ms[0].Exceptions[0] != "X1" || ms[0].Text != vs[1].Message ||
			ms[1].Seq != 3 || ms[1].Kind() != "rejected" {
			t.Fatalf("messages %+v", ms)
		}
	}
	check(r.dev)
	reopened, err := syncdev.New(r.eng, r.dir)
	if err != nil {
		t.Fatal(err)
	}
	check(reopened)
	if first, _, _ := r.dev.Outbox(); first != 4 {
		t.Fatalf("outbox starts at %d after acking 3", first)
	}
}

func TestResyncKeepsTheOutbox(t *testing.T) {
	r, held := newRig(t, 4)
	snap := r.fx.Snapshot
	snap.Units = append([]unit.State(nil), snap.Units...)
	cur := protocol.Cursor{Cluster: "site:SITE-1", Epoch: 1, Index: 42}
	if err := r.dev.Resync(snap, cur); err != nil {
		t.Fatal(err)
	}
	got, err := r.dev.Cursor()
	if err != nil || got != cur {
		t.Fatalf("cursor %v %v", got, err)
	}
	first, last, _ := r.dev.Outbox()
	if first != 1 || last != 4 {
		t.Fatalf("outbox %d..%d after resync", first, last)
	}
	evs, _ := r.dev.Pending(0, 100)
	if len(evs) != 4 {
		t.Fatalf("%d pending after resync", len(evs))
	}
	// The unsent holds are replayed on top of the site's snapshot.
	var s unit.State
	_ = r.st.View(func(tx *store.Tx) (err error) { s, err = tx.Unit(held[0]); return })
	if !s.Holds.Has(event.HoldDamaged) {
		t.Fatalf("replayed hold missing: %+v", s)
	}
}

// TestApplyChanges: a change set updates the replica in place, keeps
// the unsent work on top, moves the cursor and never touches the outbox.
func TestApplyChanges(t *testing.T) {
	r, held := newRig(t, 2)
	other := r.fx.Snapshot.Units[5]
	site := r.fx.Snapshot.Units[0] // held[0], as the site still has it: no hold yet
	site.Version += 5
	moved := other
	moved.Location, moved.Version = "COLD-01", other.Version+1
	cs := protocol.ChangeSet{To: protocol.Cursor{Cluster: "site:SITE-1", Epoch: 1, Index: 50}}
	cs.Put.Units = []unit.State{site, moved}
	cs.Put.Orders = []master.Order{{ID: "ORD-9", Client: demo.ClientEU, Lines: []master.OrderLine{{ID: "1", GTIN: r.fx.Product(3), Qty: 1}}}}
	cs.Removed = []protocol.Removal{{Kind: protocol.KindOrder, ID: demo.OrderUS}, {Kind: protocol.KindHold, ID: demo.RecallHold}}
	if err := r.dev.ApplyChanges(cs); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.dev.Cursor(); c != cs.To {
		t.Fatalf("cursor %v", c)
	}
	var u0, u5 unit.State
	var errOld, errNew, errHold error
	_ = r.st.View(func(tx *store.Tx) error {
		u0, _ = tx.Unit(held[0])
		u5, _ = tx.Unit(other.Key)
		_, errOld = tx.Order(demo.OrderUS)
		_, errNew = tx.Order("ORD-9")
		_, errHold = tx.Hold(demo.RecallHold)
		return nil
	})
	if u5.Location != "COLD-01" || !errors.Is(errOld, store.ErrNotFound) || errNew != nil || !errors.Is(errHold, store.ErrNotFound) {
		t.Fatalf("replica: unit %+v, removed order %v, new order %v, removed hold %v", u5, errOld, errNew, errHold)
	}
	if !u0.Holds.Has(event.HoldDamaged) {
		t.Fatalf("the unsent hold on %s was not replayed over the site's state: %+v", held[0], u0)
	}
	if first, last, _ := r.dev.Outbox(); first != 1 || last != 2 {
		t.Fatalf("outbox %d..%d", first, last)
	}
	bad := protocol.ChangeSet{To: cs.To, Removed: []protocol.Removal{{Kind: 99, ID: "x"}}}
	if err := r.dev.ApplyChanges(bad); !errors.Is(err, syncdev.ErrChanges) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestFileCursorMeansEmpty(t *testing.T) {
	r, _ := newRig(t, 1)
	c, err := r.dev.Cursor()
	if err != nil || !c.IsZero() {
		t.Fatalf("a replica loaded from a file has cursor %v (%v)", c, err)
	}
}
