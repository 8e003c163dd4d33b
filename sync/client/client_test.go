package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/session"
	"github.com/custodyhq/custody/sync/wire"
)

// watch wraps the device's end of a connection and records the pushes
// it sends and the answers it gets.
type watch struct {
	mu          sync.Mutex
	outstanding int
	maxOut      int
	pushes      int
	busyAt      []time.Time
	pushAt      []time.Time
	frames      map[wire.Type]int
}

type watchedConn struct {
	conn.Conn
	w *watch
}

func (c watchedConn) WriteMessage(ctx context.Context, b []byte) error {
	if t, _, ok := wire.PeekType(b); ok {
		c.w.mu.Lock()
		c.w.frames[t]++
		if t == wire.TypePush {
			c.w.pushes++
			c.w.outstanding++
			c.w.maxOut = max(c.w.maxOut, c.w.outstanding)
			c.w.pushAt = append(c.w.pushAt, time.Now())
		}
		c.w.mu.Unlock()
	}
	return c.Conn.WriteMessage(ctx, b)
}

func (c watchedConn) ReadMessage(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.ReadMessage(ctx)
	if t, _, ok := wire.PeekType(b); err == nil && ok {
		c.w.mu.Lock()
		c.w.frames[t]++
		switch t {
		case wire.TypePushAck, wire.TypeNackGap:
			c.w.outstanding--
		case wire.TypeBusy:
			c.w.outstanding--
			c.w.busyAt = append(c.w.busyAt, time.Now())
		}
		c.w.mu.Unlock()
	}
	return b, err
}

func (w *watch) count(t wire.Type) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frames[t]
}

// memRig connects a client to a hub over in-memory pipes.
type memRig struct {
	site   *fake.Site
	dev    *fake.Device
	hub    *session.Hub
	client *Client
	w      *watch
	dials  int
	mu     sync.Mutex
}

func newMemRig(t testing.TB, site *fake.Site, dev *fake.Device, cfg Config) *memRig {
	r := &memRig{site: site, dev: dev, hub: session.NewHub(site, session.Config{}, 100), w: &watch{frames: map[wire.Type]int{}}}
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Dial = func(dctx context.Context) (conn.Conn, error) {
		r.mu.Lock()
		r.dials++
		r.mu.Unlock()
		d, s := conn.Pipe(1<<20, 64, conn.Peer{Device: dev.ID, Addr: "device"}, conn.Peer{Addr: "site"})
		go func() { _ = r.hub.Handle(ctx, s) }()
		return watchedConn{d, r.w}, nil
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 20 * time.Millisecond
	}
	c, err := New(dev, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = r.hub.Shutdown(context.Background())
	})
	return r
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPushesTheWholeOutbox(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Delay = 2 * time.Millisecond
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(5000)
	var states []State
	var smu sync.Mutex
	r := newMemRig(t, site, dev, Config{OnState: func(s State) { smu.Lock(); states = append(states, s); smu.Unlock() }})
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })

	if n := dev.Verdicts(); n != 5000 {
		t.Errorf("%d verdicts, want 5000", n)
	}
	applied, twice, _, maxConc := site.Stats()
	if applied != 5000 || twice != 0 {
		t.Errorf("site applied %d, %d twice", applied, twice)
	}
	if maxConc > 1 {
		t.Errorf("%d submits of one device ran at once: a session must submit in order", maxConc)
	}
	r.w.mu.Lock()
	maxOut, pushes := r.w.maxOut, r.w.pushes
	r.w.mu.Unlock()
	if maxOut > 2 || maxOut < 2 {
		t.Errorf("at most %d pushes in flight, want exactly 2 at the peak", maxOut)
	}
	if pushes != 5 {
		t.Errorf("%d pushes for 5000 events in batches of 1000", pushes)
	}
	eventually(t, "the state shows the empty outbox", func() bool { s := r.client.State(); return s.Queued == 0 && s.Online })
	st := r.client.State()
	if st.Cluster != "site-a" || st.LastSync.IsZero() || st.Problem != "" {
		t.Errorf("state %+v", st)
	}
	smu.Lock()
	defer smu.Unlock()
	if len(states) == 0 || states[0].Queued != 5000 {
		t.Errorf("the UI never saw the 5000 queued events")
	}
}

func TestNotifyPushesNewEvents(t *testing.T) {
	site := fake.NewSite("site-a")
	dev := fake.NewDevice("dev-1", 1)
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "online", func() bool { return r.client.State().Online })
	for range 3 {
		dev.Write(7)
		r.client.Notify()
		eventually(t, "the new events are acknowledged", func() bool { return dev.Queued() == 0 })
	}
	if applied, _, _, _ := site.Stats(); applied != 21 {
		t.Errorf("site applied %d, want 21", applied)
	}
}

func TestBusyWaitsRetryAfter(t *testing.T) {
	site := fake.NewSite("site-a")
	site.BusyNext(400 * time.Millisecond)
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(10)
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if len(r.w.busyAt) != 1 || len(r.w.pushAt) != 2 {
		t.Fatalf("%d BUSY, %d pushes; want 1 and 2", len(r.w.busyAt), len(r.w.pushAt))
	}
	if wait := r.w.pushAt[1].Sub(r.w.busyAt[0]); wait < 400*time.Millisecond {
		t.Errorf("resent %s after BUSY, retry-after was 400ms", wait)
	}
}

func TestBusyHelloReconnectsAfterRetry(t *testing.T) {
	site := fake.NewSite("site-a")
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(3)
	hub := session.NewHub(site, session.Config{BusyRetry: 300 * time.Millisecond}, 1)
	// Another device holds the only place.
	other, otherSrv := conn.Pipe(1<<20, 8, conn.Peer{Device: "dev-0"}, conn.Peer{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = hub.Handle(ctx, otherSrv) }()
	_ = other.WriteMessage(ctx, wire.Encode(1, &wire.Hello{Version: protocol.Version, Device: "dev-0", Epoch: 1}))
	if _, err := other.ReadMessage(ctx); err != nil {
		t.Fatal(err)
	}

	var dialAt []time.Time
	var mu sync.Mutex
	c, _ := New(dev, Config{MinBackoff: 10 * time.Millisecond, Dial: func(context.Context) (conn.Conn, error) {
		mu.Lock()
		dialAt = append(dialAt, time.Now())
		mu.Unlock()
		d, s := conn.Pipe(1<<20, 8, conn.Peer{Device: dev.ID}, conn.Peer{})
		go func() { _ = hub.Handle(ctx, s) }()
		return d, nil
	}})
	go func() { _ = c.Serve(ctx) }()
	eventually(t, "two refused attempts", func() bool { mu.Lock(); defer mu.Unlock(); return len(dialAt) >= 2 })
	mu.Lock()
	gap := dialAt[1].Sub(dialAt[0])
	mu.Unlock()
	if gap < 300*time.Millisecond {
		t.Errorf("redialled %s after BUSY with retry-after 300ms", gap)
	}
	if st := c.State(); st.Online || !strings.Contains(st.LastError, "busy") {
		t.Errorf("state %+v", st)
	}
	_ = other.Close(conn.CloseNormal, "")
	eventually(t, "the device gets in", func() bool { return dev.Queued() == 0 })
	_ = hub.Shutdown(context.Background())
}

func TestResyncNeverTouchesOutbox(t *testing.T) {
	site := fake.NewSite("site-a")
	for i := range 50 {
		site.PutProduct(master.Product{GTIN: fmt.Sprintf("%014d", i), Client: "c1"})
	}
	site.Pause() // nothing is acknowledged until the resync is done
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(3000)
	dev.SetCursor(protocol.Cursor{Cluster: "another-site", Epoch: 1, Index: 99})
	before := dev.OutboxSeqs()
	newMemRig(t, site, dev, Config{})
	eventually(t, "the replica is rebuilt", func() bool { _, _, resyncs, _ := dev.Replica(); return resyncs == 1 })
	if after := dev.OutboxSeqs(); !slices.Equal(before, after) {
		t.Fatalf("the resync changed the outbox: %d events before, %d after", len(before), len(after))
	}
	if p, _, _, _ := dev.Replica(); p != 50 {
		t.Errorf("replica has %d products, want 50", p)
	}
	if cur, _ := dev.Cursor(); cur != site.Head() {
		t.Errorf("cursor %+v, want %+v", cur, site.Head())
	}
	site.Resume()
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })
	if applied, twice, _, _ := site.Stats(); applied != 3000 || twice != 0 {
		t.Errorf("site applied %d, %d twice", applied, twice)
	}
}

func TestFollowsTheFeed(t *testing.T) {
	site := fake.NewSite("site-a")
	site.PutProduct(master.Product{GTIN: "00000000000001", Client: "c1", Name: "one"})
	dev := fake.NewDevice("dev-1", 1)
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "resynced", func() bool { p, _, resyncs, _ := dev.Replica(); return resyncs == 1 && p == 1 })
	for i := 2; i <= 5; i++ {
		site.PutProduct(master.Product{GTIN: fmt.Sprintf("%014d", i), Client: "c1", Name: "later"})
	}
	site.Remove(protocol.KindProduct, "00000000000001")
	eventually(t, "the changes arrive", func() bool {
		_, gone := dev.Product("00000000000001")
		p, _, _, _ := dev.Replica()
		return !gone && p == 4
	})
	if cur, _ := dev.Cursor(); cur != site.Head() {
		t.Errorf("cursor %+v, want %+v", cur, site.Head())
	}
	if _, _, resyncs, applies := dev.Replica(); resyncs != 1 || applies == 0 {
		t.Errorf("%d resyncs, %d change sets", resyncs, applies)
	}

	// A new user signs in: the client subscribes again for them.
	dev.SetUser("u2")
	r.client.Notify()
	eventually(t, "the feed is asked for u2", func() bool { return slices.Contains(site.Users(), "u2") })
}

func TestStopsPushingWhenTheEpochIsReused(t *testing.T) {
	site := fake.NewSite("site-a")
	site.SetMark("dev-1", 1, 100) // the site holds 1..100 of epoch 1 …
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(10) // … but the wiped device starts again at 1
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "the problem is reported", func() bool { return r.client.State().Problem != "" })
	if p := r.client.State().Problem; !strings.Contains(p, ErrEpochReused.Error()) {
		t.Errorf("problem %q", p)
	}
	time.Sleep(50 * time.Millisecond)
	if n := r.w.count(wire.TypePush); n != 0 {
		t.Errorf("%d pushes sent into a reused epoch", n)
	}
	if dev.Queued() != 10 {
		t.Errorf("outbox has %d events, want all 10 kept", dev.Queued())
	}
}

func TestStopsPushingWhenTheSiteIsBehind(t *testing.T) {
	site := fake.NewSite("site-a")
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(10)
	dev.Prune(4) // 1..4 acknowledged by a site that has since lost them
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "the problem is reported", func() bool { return r.client.State().Problem != "" })
	if p := r.client.State().Problem; !strings.Contains(p, ErrSiteBehind.Error()) {
		t.Errorf("problem %q", p)
	}
	if dev.Queued() != 6 {
		t.Errorf("outbox has %d events, want 6 kept", dev.Queued())
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	c := &Client{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}}
	for n := range 12 {
		want := min(100*time.Millisecond<<n, 2*time.Second)
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(n)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %s outside [%s, %s]", n, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct delays in 50", n, len(seen))
		}
	}
}

func TestNewNeedsAnEndpoint(t *testing.T) {
	if _, err := New(fake.NewDevice("d", 1), Config{}); !errors.Is(err, ErrConfig) {
		t.Error("New without URL or Dial succeeded")
	}
}

func TestRefusedBySite(t *testing.T) {
	site := fake.NewSite("site-a")
	dev := fake.NewDevice("dev-1", 1)
	hub := session.NewHub(site, session.Config{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := New(dev, Config{MinBackoff: 10 * time.Millisecond, Dial: func(context.Context) (conn.Conn, error) {
		d, s := conn.Pipe(1<<20, 8, conn.Peer{Device: "someone-else"}, conn.Peer{})
		go func() { _ = hub.Handle(ctx, s) }()
		return d, nil
	}})
	go func() { _ = c.Serve(ctx) }()
	eventually(t, "the refusal is reported", func() bool { return strings.Contains(c.State().LastError, "identity") })
	if st := c.State(); st.Online || !st.Refused || !strings.Contains(st.LastError, ErrRefused.Error()) {
		t.Errorf("state %+v", c.State())
	}
	_ = hub.Shutdown(context.Background())
}

func TestGapRewindsAndResends(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Delay = time.Millisecond
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(3000)
	site.GapNext(1)
	r := newMemRig(t, site, dev, Config{})
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })
	if n := r.w.count(wire.TypeNackGap); n < 1 {
		t.Errorf("%d NACK_GAP seen", n)
	}
	if n := r.w.count(wire.TypePush); n < 4 {
		t.Errorf("%d pushes: the refused one was not resent", n)
	}
	if applied, twice, _, _ := site.Stats(); applied != 3000 || twice != 0 {
		t.Errorf("site applied %d, %d twice", applied, twice)
	}
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.w.maxOut > 2 {
		t.Errorf("%d pushes in flight", r.w.maxOut)
	}
}

func TestManyDevicesOneHub(t *testing.T) {
	site := fake.NewSite("site-a")
	hub := session.NewHub(site, session.Config{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var devs []*fake.Device
	for i := range 20 {
		dev := fake.NewDevice(fmt.Sprintf("dev-%02d", i), uint32(1+i%3))
		dev.Write(500)
		devs = append(devs, dev)
		c, _ := New(dev, Config{Dial: func(context.Context) (conn.Conn, error) {
			d, s := conn.Pipe(1<<20, 16, conn.Peer{Device: dev.ID}, conn.Peer{})
			go func() { _ = hub.Handle(ctx, s) }()
			return d, nil
		}})
		go func() { _ = c.Serve(ctx) }()
	}
	for _, dev := range devs {
		eventually(t, dev.ID+"'s outbox is empty", func() bool { return dev.Queued() == 0 })
		if m := site.Mark(dev.ID, dev.Epoch); m != 500 {
			t.Errorf("%s: site mark %d, want 500", dev.ID, m)
		}
	}
	if applied, twice, _, _ := site.Stats(); applied != 20*500 || twice != 0 {
		t.Errorf("site applied %d, %d twice", applied, twice)
	}
	_ = hub.Shutdown(context.Background())
}

// A connection that fails on the way (no site at the address) is not a
// refusal: nothing for an operator to do but wait.
func TestUnreachableIsNotRefused(t *testing.T) {
	dev := fake.NewDevice("dev-1", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := New(dev, Config{MinBackoff: 10 * time.Millisecond, Dial: func(context.Context) (conn.Conn, error) {
		return nil, errors.New("dial tcp 127.0.0.1:9: connection refused")
	}})
	go func() { _ = c.Serve(ctx) }()
	eventually(t, "the failure is reported", func() bool { return c.State().LastError != "" })
	if st := c.State(); st.Online || st.Refused {
		t.Errorf("state %+v", st)
	}
}

// A site going away (shutdown) refuses nothing for good: the device just
// reconnects, and Refused stays unset.
func TestShutdownIsNotRefused(t *testing.T) {
	site := fake.NewSite("site-a")
	dev := fake.NewDevice("dev-1", 1)
	hub := session.NewHub(site, session.Config{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := New(dev, Config{MinBackoff: time.Hour, Dial: func(context.Context) (conn.Conn, error) {
		d, s := conn.Pipe(1<<20, 8, conn.Peer{Device: "dev-1"}, conn.Peer{})
		go func() { _ = hub.Handle(ctx, s) }()
		return d, nil
	}})
	go func() { _ = c.Serve(ctx) }()
	eventually(t, "online", func() bool { return c.State().Online })
	_ = hub.Shutdown(context.Background())
	eventually(t, "the shutdown is reported", func() bool { return c.State().LastError != "" })
	if st := c.State(); st.Refused || !strings.Contains(st.LastError, ErrRefused.Error()) {
		t.Errorf("state %+v", st)
	}
}
