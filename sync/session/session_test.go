package session

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// rig drives a session from the device's end of an in-memory pipe,
// frame by frame.
type rig struct {
	t    *testing.T
	site *fake.Site
	dev  conn.Conn
	done chan error
	id   uint64
}

func newRig(t *testing.T, site *fake.Site, cfg Config, peer conn.Peer) *rig {
	t.Helper()
	dev, srv := conn.Pipe(1<<20, 64, peer, conn.Peer{Addr: "site"})
	r := &rig{t: t, site: site, dev: dev, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- New(srv, site, cfg).Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		dev.Close(conn.CloseNormal, "")
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Errorf("session did not end")
		}
	})
	return r
}

func (r *rig) send(m wire.Message) uint64 {
	r.t.Helper()
	r.id++
	r.raw(wire.Encode(r.id, m))
	return r.id
}

func (r *rig) raw(b []byte) {
	r.t.Helper()
	if err := r.dev.WriteMessage(context.Background(), b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *rig) recv() wire.Frame {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := r.dev.ReadMessage(ctx)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	f, err := wire.Decode(b)
	if err != nil {
		r.t.Fatalf("decode: %v", err)
	}
	return f
}

// closed reads until the connection closes and returns the ERROR code
// seen (0 for none) and the close code.
func (r *rig) closed() (errCode uint16, closeCode int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		b, err := r.dev.ReadMessage(ctx)
		if err != nil {
			var ce *conn.CloseError
			if !errors.As(err, &ce) {
				r.t.Fatalf("read: %v, want a close", err)
			}
			return errCode, ce.Code
		}
		if f, err := wire.Decode(b); err == nil {
			if e, ok := f.Msg.(*wire.Error); ok {
				errCode = e.Code
			}
		}
	}
}

func (r *rig) hello(device string, epoch uint32) *wire.Welcome {
	r.t.Helper()
	id := r.send(&wire.Hello{Version: protocol.Version, Device: device, Epoch: epoch, OutboxFirst: 1})
	f := r.recv()
	w, ok := f.Msg.(*wire.Welcome)
	if !ok || f.ID != id {
		r.t.Fatalf("got %s (id %d), want WELCOME for %d", f.Msg.Type(), f.ID, id)
	}
	return w
}

func pushOf(device string, epoch uint32, first uint64, n int) *wire.Push {
	p := wire.PushToWire(epoch, first, fake.Events(device, epoch, first, n))
	return &p
}

var devPeer = conn.Peer{Device: "dev-1", Addr: "10.0.0.7:5555"}

func TestSessionFaults(t *testing.T) {
	garbage := []byte("GET / HTTP/1.1\r\n\r\n")
	cases := []struct {
		name    string
		cfg     Config
		peer    conn.Peer
		slow    time.Duration
		drive   func(r *rig)
		errCode uint16 // 0: no ERROR expected
		close   int
	}{
		{name: "PUSH before HELLO", drive: func(r *rig) { r.send(pushOf("dev-1", 1, 1, 1)) },
			errCode: wire.CodeUnexpected, close: conn.CloseApp + int(wire.CodeUnexpected)},
		{name: "unknown type", drive: func(r *rig) { r.hello("dev-1", 1); r.raw([]byte{'C', 'U', 1, 99, 1}) },
			errCode: wire.CodeUnknown, close: conn.CloseApp + int(wire.CodeUnknown)},
		{name: "garbage", drive: func(r *rig) { r.hello("dev-1", 1); r.raw(garbage) },
			errCode: wire.CodeVersion, close: conn.CloseApp + int(wire.CodeVersion)},
		{name: "malformed PUSH", drive: func(r *rig) {
			r.hello("dev-1", 1)
			b := wire.Encode(9, pushOf("dev-1", 1, 1, 2))
			r.raw(b[:len(b)-3])
		}, errCode: wire.CodeProtocol, close: conn.CloseApp + int(wire.CodeProtocol)},
		{name: "second HELLO", drive: func(r *rig) {
			r.hello("dev-1", 1)
			r.send(&wire.Hello{Version: protocol.Version, Device: "dev-1", Epoch: 1})
		}, errCode: wire.CodeUnexpected, close: conn.CloseApp + int(wire.CodeUnexpected)},
		{name: "site message from a device", drive: func(r *rig) { r.hello("dev-1", 1); r.send(&wire.Welcome{}) },
			errCode: wire.CodeUnexpected, close: conn.CloseApp + int(wire.CodeUnexpected)},
		{name: "protocol version", drive: func(r *rig) { r.send(&wire.Hello{Version: 9, Device: "dev-1"}) },
			errCode: wire.CodeVersion, close: conn.CloseApp + int(wire.CodeVersion)},
		{name: "HELLO claims another device", drive: func(r *rig) { r.send(&wire.Hello{Version: protocol.Version, Device: "dev-2"}) },
			errCode: wire.CodeIdentity, close: conn.CloseApp + int(wire.CodeIdentity)},
		{name: "no certificate", peer: conn.Peer{Addr: "x"}, drive: func(r *rig) { r.send(&wire.Hello{Version: protocol.Version, Device: "dev-1"}) },
			errCode: wire.CodeIdentity, close: conn.CloseApp + int(wire.CodeIdentity)},
		{name: "events of another device", drive: func(r *rig) { r.hello("dev-1", 1); r.send(pushOf("dev-2", 1, 1, 3)) },
			errCode: wire.CodeIdentity, close: conn.CloseApp + int(wire.CodeIdentity)},
		{name: "push of another epoch", drive: func(r *rig) { r.hello("dev-1", 1); r.send(pushOf("dev-1", 2, 1, 3)) },
			errCode: wire.CodeIdentity, close: conn.CloseApp + int(wire.CodeIdentity)},
		{name: "push from seq 0", drive: func(r *rig) {
			r.hello("dev-1", 1)
			r.send(&wire.Push{Epoch: 1, First: 0, Events: pushOf("dev-1", 1, 1, 1).Events})
		}, errCode: wire.CodeProtocol, close: conn.CloseApp + int(wire.CodeProtocol)},
		{name: "oversized frame", drive: func(r *rig) { r.hello("dev-1", 1); r.raw(make([]byte, 1<<20+1)) },
			close: conn.CloseTooLarge},
		{name: "three pushes in flight", slow: 300 * time.Millisecond, drive: func(r *rig) {
			r.hello("dev-1", 1)
			r.send(pushOf("dev-1", 1, 1, 10))
			r.send(pushOf("dev-1", 1, 11, 10))
			r.send(pushOf("dev-1", 1, 21, 10))
		}, errCode: wire.CodeFlow, close: conn.CloseApp + int(wire.CodeFlow)},
		{name: "push over the limit", cfg: Config{Limits: protocol.Limits{MaxPush: 10}}, drive: func(r *rig) {
			r.hello("dev-1", 1)
			r.send(pushOf("dev-1", 1, 1, 11))
		}, errCode: wire.CodeFlow, close: conn.CloseApp + int(wire.CodeFlow)},
		{name: "event over the limits", drive: func(r *rig) {
			r.hello("dev-1", 1)
			evs := fake.Events("dev-1", 1, 1, 2)
			evs[1].Subjects = make([]event.Subject, event.MaxSubjects)
			for i := range evs[1].Subjects {
				evs[1].Subjects[i].Key = event.Key(strings.Repeat("1", 900))
			}
			p := wire.PushToWire(1, 1, evs)
			r.send(&p)
		}, errCode: wire.CodeTooLarge, close: conn.CloseApp + int(wire.CodeTooLarge)},
		{name: "idle", cfg: Config{IdleTimeout: 100 * time.Millisecond}, drive: func(r *rig) { r.hello("dev-1", 1) },
			errCode: wire.CodeIdle, close: conn.CloseApp + int(wire.CodeIdle)},
		{name: "no HELLO", cfg: Config{HelloTimeout: 100 * time.Millisecond}, drive: func(r *rig) {},
			errCode: wire.CodeIdle, close: conn.CloseApp + int(wire.CodeIdle)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site := fake.NewSite("site-a")
			site.Delay = tc.slow
			peer := tc.peer
			if peer == (conn.Peer{}) {
				peer = devPeer
			}
			r := newRig(t, site, tc.cfg, peer)
			tc.drive(r)
			code, closeCode := r.closed()
			if code != tc.errCode || closeCode != tc.close {
				t.Errorf("ERROR %d (%s), close %d; want ERROR %d (%s), close %d",
					code, wire.CodeText(code), closeCode, tc.errCode, wire.CodeText(tc.errCode), tc.close)
			}
			select {
			case err := <-r.done:
				if tc.errCode != 0 && !errors.Is(err, ErrFault) {
					t.Errorf("Serve returned %v, want ErrFault", err)
				}
				r.done <- err
			case <-time.After(5 * time.Second):
				t.Errorf("Serve did not return")
			}
		})
	}
}

func TestFaultHarmsNoOtherSession(t *testing.T) {
	site := fake.NewSite("site-a")
	good := newRig(t, site, Config{}, devPeer)
	bad := newRig(t, site, Config{}, conn.Peer{Device: "dev-2"})
	good.hello("dev-1", 1)
	bad.hello("dev-2", 1)
	bad.raw([]byte("\x00\x01garbage"))
	if code, _ := bad.closed(); code != wire.CodeVersion {
		t.Errorf("bad device got ERROR %d", code)
	}
	id := good.send(pushOf("dev-1", 1, 1, 5))
	f := good.recv()
	if a, ok := f.Msg.(*wire.PushAck); !ok || f.ID != id || len(a.Verdicts) != 5 {
		t.Fatalf("good device got %#v", f.Msg)
	}
}

func TestWelcome(t *testing.T) {
	site := fake.NewSite("site-a")
	site.SetMark("dev-1", 4, 812)
	r := newRig(t, site, Config{Node: "n2", Limits: protocol.Limits{MaxPush: 500}}, devPeer)
	w := r.hello("dev-1", 4)
	want := wire.Welcome{Cluster: "site-a", Node: "n2", HighWater: 812, MaxFrame: 1 << 20, MaxPush: 500, MaxInFlight: 2, PingMillis: 30000}
	w.Clock, want.Clock = 0, 0
	if *w != want {
		t.Errorf("WELCOME %+v, want %+v", *w, want)
	}
	w2 := newRig(t, site, Config{}, devPeer).hello("dev-1", 5)
	if w2.HighWater != 0 {
		t.Errorf("a new epoch starts at high-water %d", w2.HighWater)
	}
}

func TestPushAckedAfterApply(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Delay = 50 * time.Millisecond
	r := newRig(t, site, Config{}, devPeer)
	r.hello("dev-1", 1)
	id := r.send(pushOf("dev-1", 1, 1, 3))
	f := r.recv()
	ack, ok := f.Msg.(*wire.PushAck)
	if !ok || f.ID != id {
		t.Fatalf("got %s, want PUSH_ACK", f.Msg.Type())
	}
	// The site's mark is already past the events when the ack arrives.
	if hw := site.Mark("dev-1", 1); hw != 3 {
		t.Errorf("site mark %d when the ack arrived, want 3", hw)
	}
	if ack.First != 1 || len(ack.Verdicts) != 3 || ack.Verdicts[0].Outcome != uint8(protocol.OutcomeApplied) {
		t.Errorf("ack %+v", ack)
	}
}

func TestPushGap(t *testing.T) {
	site := fake.NewSite("site-a")
	r := newRig(t, site, Config{}, devPeer)
	r.hello("dev-1", 1)

	steps := []struct {
		first    uint64
		n        int
		expected uint64 // 0: ack
	}{
		{first: 5, n: 3, expected: 1},  // the site has nothing: gap
		{first: 1, n: 4, expected: 0},  // 1..4
		{first: 9, n: 2, expected: 5},  // a gap after 4
		{first: 5, n: 2, expected: 0},  // 5..6
		{first: 3, n: 6, expected: 0},  // 3..8 overlaps: 3..6 duplicates, 7..8 new
		{first: 10, n: 1, expected: 9}, // gap again
	}
	for _, st := range steps {
		id := r.send(pushOf("dev-1", 1, st.first, st.n))
		f := r.recv()
		switch m := f.Msg.(type) {
		case *wire.NackGap:
			if st.expected == 0 || m.Expected != st.expected || f.ID != id {
				t.Errorf("push %d+%d: NACK_GAP expecting %d, want expected %d", st.first, st.n, m.Expected, st.expected)
			}
		case *wire.PushAck:
			if st.expected != 0 || f.ID != id || m.First != st.first || len(m.Verdicts) != st.n {
				t.Errorf("push %d+%d: ack %+v, want NACK expecting %d", st.first, st.n, m, st.expected)
			}
		default:
			t.Fatalf("got %s", m.Type())
		}
	}
	if applied, twice, _, _ := site.Stats(); applied != 8 || twice != 0 {
		t.Errorf("site applied %d (%d twice), want 8 once each", applied, twice)
	}
}

func TestResendGetsTheSameVerdicts(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Judge = func(ev *event.Event) protocol.Verdict {
		switch ev.Seq % 3 {
		case 1:
			return protocol.Verdict{Outcome: protocol.OutcomeConflict, Exceptions: []string{fmt.Sprintf("X%d", ev.Seq)},
				Message: fmt.Sprintf("unit %s you picked was already picked for order 118 by device 7: put it back", ev.Subjects[0].Key)}
		case 2:
			return protocol.Verdict{Outcome: protocol.OutcomeRejected, Message: "the unit is destroyed"}
		}
		return protocol.Verdict{Outcome: protocol.OutcomeApplied}
	}
	first := newRig(t, site, Config{}, devPeer)
	first.hello("dev-1", 1)
	first.send(pushOf("dev-1", 1, 1, 9))
	ack1 := first.recv().Msg.(*wire.PushAck)

	// A new connection (as after a lost ack) resends the same run.
	second := newRig(t, site, Config{}, devPeer)
	if w := second.hello("dev-1", 1); w.HighWater != 9 {
		t.Fatalf("high-water %d, want 9", w.HighWater)
	}
	second.send(pushOf("dev-1", 1, 1, 9))
	ack2 := second.recv().Msg.(*wire.PushAck)
	v1, _ := wire.VerdictsFromWire(1, ack1.Verdicts)
	v2, _ := wire.VerdictsFromWire(1, ack2.Verdicts)
	for i := range v1 {
		if v2[i].Outcome != protocol.OutcomeDuplicate || v2[i].Original != v1[i].Outcome ||
			!reflect.DeepEqual(v2[i].Exceptions, v1[i].Exceptions) || v2[i].Message != v1[i].Message {
			t.Errorf("seq %d: resend got %+v, first time %+v", i+1, v2[i], v1[i])
		}
		if v2[i].Final() != v1[i].Outcome {
			t.Errorf("seq %d: final %s, want %s", i+1, v2[i].Final(), v1[i].Outcome)
		}
	}
	if applied, twice, _, _ := site.Stats(); applied != 9 || twice != 0 {
		t.Errorf("site applied %d (%d twice), want 9 once each", applied, twice)
	}
}

func TestBusyPush(t *testing.T) {
	site := fake.NewSite("site-a")
	site.BusyNext(1500 * time.Millisecond)
	r := newRig(t, site, Config{}, devPeer)
	r.hello("dev-1", 1)
	id := r.send(pushOf("dev-1", 1, 1, 3))
	f := r.recv()
	if b, ok := f.Msg.(*wire.Busy); !ok || f.ID != id || b.RetryAfterMillis != 1500 {
		t.Fatalf("got %#v, want BUSY 1500 ms", f.Msg)
	}
	r.send(pushOf("dev-1", 1, 1, 3))
	if _, ok := r.recv().Msg.(*wire.PushAck); !ok {
		t.Fatalf("the retry was not acknowledged")
	}
}

func TestPingPong(t *testing.T) {
	r := newRig(t, fake.NewSite("site-a"), Config{}, devPeer)
	r.hello("dev-1", 1)
	id := r.send(&wire.Ping{Clock: 1})
	f := r.recv()
	if p, ok := f.Msg.(*wire.Pong); !ok || f.ID != id || p.Clock == 0 {
		t.Fatalf("got %#v, want PONG with the site clock", f.Msg)
	}
}

// feedSite returns a site whose feed holds n products and n units.
func feedSite(n int) *fake.Site {
	site := fake.NewSite("site-a")
	for i := range n {
		site.PutProduct(master.Product{GTIN: fmt.Sprintf("%014d", i), Client: "c1", Name: fmt.Sprintf("product %d", i)})
		site.PutUnit(unit.State{Key: event.SGTIN("00614141000012", fmt.Sprintf("SN%d", i)), Status: unit.StatusInStock, Version: 1})
	}
	return site
}

// gather reads the parts answering SUB id and returns them merged.
func gather(t *testing.T, r *rig, id uint64) (typ wire.Type, reason uint8, cur wire.Cursor, recs wire.Records, parts int) {
	t.Helper()
	for {
		f := r.recv()
		if f.ID != id {
			t.Fatalf("frame for request %d, want %d", f.ID, id)
		}
		var last bool
		var p wire.Records
		switch m := f.Msg.(type) {
		case *wire.Changes:
			typ, last, cur, p = m.Type(), m.Last, m.To, m.Records
		case *wire.Resync:
			typ, last, cur, p, reason = m.Type(), m.Last, m.Cursor, m.Records, m.Reason
		default:
			t.Fatalf("got %s", m.Type())
		}
		parts++
		recs.Products = append(recs.Products, p.Products...)
		recs.Units = append(recs.Units, p.Units...)
		recs.Removed = append(recs.Removed, p.Removed...)
		if p.Site != nil {
			recs.Site = p.Site
		}
		if last {
			return typ, reason, cur, recs, parts
		}
	}
}

func TestFeed(t *testing.T) {
	cases := []struct {
		name      string
		cursor    wire.Cursor
		compact   bool
		typ       wire.Type
		reason    uint8
		products  int
		units     int
		removed   int
		wantIndex uint64
	}{
		// The feed: product and unit 0..5 alternately (entries 1..12), then
		// the removal of product 0 (entry 13).
		{name: "no cursor", typ: wire.TypeResync, reason: wire.ResyncNoCursor, products: 5, units: 6, wantIndex: 13},
		{name: "other cluster", cursor: wire.Cursor{Cluster: "site-b", Epoch: 1, Index: 3}, typ: wire.TypeResync, reason: wire.ResyncOtherCluster, products: 5, units: 6, wantIndex: 13},
		{name: "too old", cursor: wire.Cursor{Cluster: "site-a", Epoch: 1, Index: 3}, compact: true, typ: wire.TypeResync, reason: wire.ResyncTooOld, products: 5, units: 6, wantIndex: 13},
		{name: "other feed epoch", cursor: wire.Cursor{Cluster: "site-a", Epoch: 7, Index: 3}, typ: wire.TypeResync, reason: wire.ResyncTooOld, products: 5, units: 6, wantIndex: 13},
		{name: "changes", cursor: wire.Cursor{Cluster: "site-a", Epoch: 1, Index: 6}, typ: wire.TypeChanges, products: 3, units: 3, removed: 1, wantIndex: 13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site := feedSite(6)
			site.Remove(protocol.KindProduct, fmt.Sprintf("%014d", 0))
			if tc.compact {
				site.Compact()
			}
			r := newRig(t, site, Config{}, devPeer)
			r.hello("dev-1", 1)
			id := r.send(&wire.Sub{Cursor: tc.cursor, User: "u1"})
			typ, reason, cur, recs, _ := gather(t, r, id)
			if typ != tc.typ || reason != tc.reason {
				t.Errorf("got %s reason %d, want %s reason %d", typ, reason, tc.typ, tc.reason)
			}
			if len(recs.Products) != tc.products || len(recs.Units) != tc.units || len(recs.Removed) != tc.removed {
				t.Errorf("got %d products, %d units, %d removals; want %d, %d, %d",
					len(recs.Products), len(recs.Units), len(recs.Removed), tc.products, tc.units, tc.removed)
			}
			if want := (wire.Cursor{Cluster: "site-a", Epoch: 1, Index: tc.wantIndex}); cur != want {
				t.Errorf("cursor %+v, want %+v", cur, want)
			}
		})
	}
}

func TestFeedWaitsForChanges(t *testing.T) {
	site := feedSite(1)
	r := newRig(t, site, Config{}, devPeer)
	r.hello("dev-1", 1)
	head := wire.CursorToWire(site.Head())
	id := r.send(&wire.Sub{Cursor: head})

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if b, err := r.dev.ReadMessage(ctx); err == nil {
		f, _ := wire.Decode(b)
		t.Fatalf("got %s with nothing new in the feed", f.Msg.Type())
	}
	site.PutProduct(master.Product{GTIN: "00614141000099", Client: "c1", Name: "new"})
	typ, _, cur, recs, _ := gather(t, r, id)
	if typ != wire.TypeChanges || len(recs.Products) != 1 || recs.Products[0].GTIN != "00614141000099" || cur.Index != head.Index+1 {
		t.Errorf("got %s %+v at %+v", typ, recs.Products, cur)
	}
}

func TestFeedLargeSnapshotInParts(t *testing.T) {
	site := feedSite(6000)
	r := newRig(t, site, Config{Limits: protocol.Limits{MaxFrame: 64 << 10}}, devPeer)
	r.hello("dev-1", 1)
	id := r.send(&wire.Sub{})
	typ, _, _, recs, parts := gather(t, r, id)
	if typ != wire.TypeResync || len(recs.Products) != 6000 || len(recs.Units) != 6000 {
		t.Fatalf("got %s with %d products, %d units", typ, len(recs.Products), len(recs.Units))
	}
	if parts < 10 {
		t.Errorf("%d parts for 12,000 records in 64 KiB frames", parts)
	}
}

func TestSubSupersedes(t *testing.T) {
	site := feedSite(3)
	r := newRig(t, site, Config{}, devPeer)
	r.hello("dev-1", 1)
	head := wire.CursorToWire(site.Head())
	r.send(&wire.Sub{Cursor: head, User: "u1"}) // waits: nothing new
	id := r.send(&wire.Sub{Cursor: wire.Cursor{Cluster: "site-a", Epoch: 1, Index: 4}, User: "u2"})
	typ, _, cur, recs, _ := gather(t, r, id)
	if typ != wire.TypeChanges || len(recs.Products)+len(recs.Units) != 2 || cur != head {
		t.Errorf("got %s with %d records to %+v", typ, len(recs.Products)+len(recs.Units), cur)
	}
}

func TestHub(t *testing.T) {
	ctx := context.Background()
	start := func(h *Hub, peer conn.Peer) (conn.Conn, chan error) {
		dev, srv := conn.Pipe(1<<20, 16, peer, conn.Peer{})
		done := make(chan error, 1)
		go func() { done <- h.Handle(ctx, srv) }()
		return dev, done
	}
	hello := func(t *testing.T, c conn.Conn, device string) wire.Frame {
		t.Helper()
		_ = c.WriteMessage(ctx, wire.Encode(1, &wire.Hello{Version: protocol.Version, Device: device, Epoch: 1}))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		b, err := c.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		f, _ := wire.Decode(b)
		return f
	}
	closeOf := func(t *testing.T, c conn.Conn) (uint16, int) {
		r := &rig{t: t, dev: c}
		return r.closed()
	}

	t.Run("full hub answers BUSY", func(t *testing.T) {
		h := NewHub(fake.NewSite("site-a"), Config{BusyRetry: 3 * time.Second}, 1)
		a, _ := start(h, conn.Peer{Device: "dev-1"})
		hello(t, a, "dev-1")
		b, _ := start(h, conn.Peer{Device: "dev-2"})
		if bz, ok := hello(t, b, "dev-2").Msg.(*wire.Busy); !ok || bz.RetryAfterMillis != 3000 {
			t.Errorf("second device got %#v, want BUSY 3000", bz)
		}
		_ = h.Shutdown(ctx)
	})

	t.Run("devices take turns to resync", func(t *testing.T) {
		site := feedSite(4)
		site.SnapshotDelay = 100 * time.Millisecond
		h := NewHub(site, Config{MaxResyncs: 1}, 10)
		var conns []conn.Conn
		for i := range 3 {
			dev := fmt.Sprintf("dev-%d", i)
			c, _ := start(h, conn.Peer{Device: dev})
			hello(t, c, dev)
			_ = c.WriteMessage(ctx, wire.Encode(2, &wire.Sub{User: "u1"}))
			conns = append(conns, c)
		}
		for i, c := range conns {
			r := &rig{t: t, dev: c}
			if typ, _, _, recs, _ := gather(t, r, 2); typ != wire.TypeResync || len(recs.Units) != 4 {
				t.Errorf("device %d got %s with %d units, want RESYNC with 4", i, typ, len(recs.Units))
			}
		}
		if n := site.MaxSnapshots(); n != 1 {
			t.Errorf("%d snapshots built at once, want 1", n)
		}
		_ = h.Shutdown(ctx)
	})

	t.Run("a device's new connection supersedes its old one", func(t *testing.T) {
		h := NewHub(fake.NewSite("site-a"), Config{}, 10)
		old, oldDone := start(h, conn.Peer{Device: "dev-1"})
		hello(t, old, "dev-1")
		nw, _ := start(h, conn.Peer{Device: "dev-1"})
		if _, ok := hello(t, nw, "dev-1").Msg.(*wire.Welcome); !ok {
			t.Fatal("the new connection was not welcomed")
		}
		if code, cl := closeOf(t, old); code != wire.CodeSuperseded || cl != conn.CloseApp+int(wire.CodeSuperseded) {
			t.Errorf("old connection got ERROR %d close %d", code, cl)
		}
		<-oldDone
		if n := len(h.Sessions()); n != 1 {
			t.Errorf("%d sessions, want 1", n)
		}
		_ = h.Shutdown(ctx)
	})

	t.Run("Serve shuts down when its context ends", func(t *testing.T) {
		h := NewHub(fake.NewSite("site-a"), Config{}, 10)
		c, done := start(h, conn.Peer{Device: "dev-1"})
		hello(t, c, "dev-1")
		sctx, cancel := context.WithCancel(ctx)
		served := make(chan error, 1)
		go func() { served <- h.Serve(sctx) }()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if code, _ := closeOf(t, c); code != wire.CodeShutdown {
			t.Errorf("ERROR %d, want shutdown", code)
		}
		if err := <-done; !errors.Is(err, ErrShutdown) {
			t.Errorf("Handle returned %v", err)
		}
	})

	t.Run("shutdown closes every socket", func(t *testing.T) {
		h := NewHub(fake.NewSite("site-a"), Config{}, 10)
		var conns []conn.Conn
		var dones []chan error
		for i := range 5 {
			c, d := start(h, conn.Peer{Device: fmt.Sprintf("dev-%d", i)})
			hello(t, c, fmt.Sprintf("dev-%d", i))
			conns, dones = append(conns, c), append(dones, d)
		}
		idle, idleDone := start(h, conn.Peer{Device: "dev-idle"}) // no HELLO yet
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := h.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		for i, c := range conns {
			if code, cl := closeOf(t, c); code != wire.CodeShutdown || cl != conn.CloseApp+int(wire.CodeShutdown) {
				t.Errorf("conn %d: ERROR %d close %d", i, code, cl)
			}
			if err := <-dones[i]; !errors.Is(err, ErrShutdown) {
				t.Errorf("conn %d: Handle returned %v", i, err)
			}
		}
		if code, _ := closeOf(t, idle); code != wire.CodeShutdown {
			t.Errorf("connection without HELLO got ERROR %d", code)
		}
		<-idleDone
		late, lateDone := start(h, conn.Peer{Device: "dev-late"})
		if code, _ := closeOf(t, late); code != wire.CodeShutdown {
			t.Errorf("late connection got ERROR %d", code)
		}
		if err := <-lateDone; !errors.Is(err, ErrShutdown) {
			t.Errorf("late Handle returned %v", err)
		}
	})
}

func TestFeedInSteps(t *testing.T) {
	site := feedSite(1500) // 3000 entries
	r := newRig(t, site, Config{MaxChanges: 1000}, devPeer)
	r.hello("dev-1", 1)
	cur := wire.Cursor{Cluster: "site-a", Epoch: 1, Index: 1}
	total := 0
	for step := 0; ; step++ {
		id := r.send(&wire.Sub{Cursor: cur})
		var last *wire.Changes
		for last == nil {
			f := r.recv()
			m, ok := f.Msg.(*wire.Changes)
			if !ok || f.ID != id {
				t.Fatalf("step %d: got %s for %d", step, f.Msg.Type(), f.ID)
			}
			total += m.Records.Len()
			if m.Last {
				last = m
			}
		}
		cur = last.To
		if !last.More {
			break
		}
		if step > 5 {
			t.Fatal("the feed never ends")
		}
	}
	if total != 2999 || cur.Index != 3000 {
		t.Errorf("%d records ending at %d, want 2999 ending at 3000", total, cur.Index)
	}
}
