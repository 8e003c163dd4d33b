package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/client"
	"github.com/custodyhq/custody/sync/protocol"
)

// Benchmarks of the push path against a running site. Each device is a
// real handheld store (outbox, acknowledgements) behind a real sync
// client over websockets; its events are appended to the outbox in
// batches (one durable transaction per batch) rather than scanned, so
// the device is not the bottleneck: each moves units of its own case
// between two bins. Unless --feed, benchmark devices do not follow the
// down-feed, so the figures are those of pushing and acknowledging.
// With --memory, the online and mixed benchmarks keep the outboxes in
// memory (the returning device of "return" always has its store): then
// the simulator's own disk syncs do not compete with the site for the
// machine.
//
//	return  one device comes back with --events queued: time to all acknowledged
//	online  --devices push together at --rate events/s in all for --duration:
//	        acknowledged events/s and scan→ack latency (p50, p99)
//	mixed   as online, while --returning devices come back with --events queued each

// memOutbox is an outbox in memory, for benchmarks whose subject is the
// site: fifty simulated devices each syncing a Badger store to disk
// several hundred times a second would measure the simulator's machine.
type memOutbox struct {
	epoch uint32
	evs   []event.Event // unacknowledged, in seq order
	last  uint64
}

// benchDev is a device of a benchmark.
type benchDev struct {
	*syncdev.Device
	mem    *memOutbox // when set, the outbox lives here, not in the store
	h      *handheld
	feed   bool
	pool   []event.Key
	clock  *hlc.Clock
	client string
	site   string
	asn    string

	mu       sync.Mutex
	cursor   protocol.Cursor
	appended map[uint64]time.Time
	lat      []time.Duration // for events appended inside the window
	window   [2]time.Time
	ackedIn  int // acks received inside the window
}

func (b *benchDev) Cursor() (protocol.Cursor, error) {
	if b.feed {
		return b.Device.Cursor()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cursor, nil
}

func (b *benchDev) Resync(snap master.Snapshot, cur protocol.Cursor) error {
	if b.feed {
		return b.Device.Resync(snap, cur)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur.Index = math.MaxUint64 // nothing after this: the feed stays quiet
	b.cursor = cur
	return nil
}

func (b *benchDev) ApplyChanges(cs protocol.ChangeSet) error {
	if b.feed {
		return b.Device.ApplyChanges(cs)
	}
	return nil
}

func (b *benchDev) Identity() (string, uint32) {
	if b.mem != nil {
		return b.h.id, b.mem.epoch
	}
	return b.Device.Identity()
}

func (b *benchDev) Outbox() (uint64, uint64, error) {
	if b.mem == nil {
		return b.Device.Outbox()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.mem.evs) == 0 {
		return b.mem.last + 1, b.mem.last, nil
	}
	return b.mem.evs[0].Seq, b.mem.last, nil
}

func (b *benchDev) Pending(after uint64, max int) ([]event.Event, error) {
	if b.mem == nil {
		return b.Device.Pending(after, max)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0
	if len(b.mem.evs) > 0 && after >= b.mem.evs[0].Seq {
		i = int(after - b.mem.evs[0].Seq + 1)
	}
	if i >= len(b.mem.evs) {
		return nil, nil
	}
	return slices.Clone(b.mem.evs[i:min(len(b.mem.evs), i+max)]), nil
}

// pending is how many events wait for their ack.
func (b *benchDev) pending() int {
	if b.mem == nil {
		r, err := b.h.outbox()
		if err != nil {
			return -1
		}
		return r.Pending
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.mem.evs)
}

func (b *benchDev) Ack(vs []protocol.Verdict) error {
	now := time.Now()
	b.mu.Lock()
	for _, v := range vs {
		at, ok := b.appended[v.Seq]
		if !ok {
			continue
		}
		delete(b.appended, v.Seq)
		if !b.window[0].IsZero() && !at.Before(b.window[0]) && (b.window[1].IsZero() || at.Before(b.window[1])) {
			b.lat = append(b.lat, now.Sub(at))
		}
		if !b.window[0].IsZero() && !now.Before(b.window[0]) && (b.window[1].IsZero() || now.Before(b.window[1])) {
			b.ackedIn++
		}
	}
	if b.mem != nil {
		var through uint64
		for _, v := range vs {
			through = max(through, v.Seq)
		}
		for len(b.mem.evs) > 0 && b.mem.evs[0].Seq <= through {
			b.mem.evs = b.mem.evs[1:]
		}
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return b.Device.Ack(vs)
}

// append writes n events to the outbox in one transaction: the first
// ever is the receipt of the device's case, the rest move its units.
func (b *benchDev) append(n int) error {
	id, epoch := b.Identity()
	var seqs []uint64
	write := b.h.st.Update
	if b.mem != nil {
		write = func(fn func(tx *store.Tx) error) error { return fn(nil) }
	}
	err := write(func(tx *store.Tx) error {
		var last uint64
		if b.mem != nil {
			b.mu.Lock()
			last = b.mem.last
			b.mu.Unlock()
		} else {
			var err error
			if last, err = tx.LastSeq(); err != nil {
				return err
			}
		}
		for i := range n {
			seq := last + 1 + uint64(i)
			eid, err := event.NewID(time.Now(), rand.Reader)
			if err != nil {
				return err
			}
			ev := event.Event{ID: eid, Device: id, Epoch: epoch, Seq: seq, HLC: b.clock.Now(), User: "op2", Site: b.site, Client: b.client}
			if seq == 1 {
				ev.Kind, ev.Subjects, ev.Ctx = event.KindReceive, []event.Subject{{Key: b.pool[0]}}, event.Context{ASN: b.asn, To: demo.Dock, Inferred: true}
			} else {
				k := b.pool[1+int(seq)%(len(b.pool)-1)]
				to := "A-01-01"
				if (seq/uint64(len(b.pool)-1))%2 == 1 {
					to = "A-01-02"
				}
				ev.Kind, ev.Subjects, ev.Ctx = event.KindMove, []event.Subject{{Key: k}}, event.Context{To: to}
			}
			if b.mem != nil {
				b.mu.Lock()
				b.mem.evs = append(b.mem.evs, ev)
				b.mem.last = seq
				b.mu.Unlock()
			} else if err := tx.Append(&ev, []event.Key{ev.Subjects[0].Key}); err != nil {
				return err
			}
			seqs = append(seqs, seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := time.Now()
	b.mu.Lock()
	for _, s := range seqs {
		b.appended[s] = now
	}
	b.mu.Unlock()
	return nil
}

func (b *benchDev) setWindow(from, to time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window = [2]time.Time{from, to}
}

type benchResult struct {
	Mode        string  `json:"mode"`
	Devices     int     `json:"devices"`
	Returning   int     `json:"returning,omitempty"`
	Events      int     `json:"events"`
	Seconds     float64 `json:"seconds"`
	AckedPerSec float64 `json:"acked_per_s"`
	P50ms       float64 `json:"p50_ms,omitempty"`
	P99ms       float64 `json:"p99_ms,omitempty"`
	DrainSec    float64 `json:"returning_drained_s,omitempty"`
}

func runBench(ctx context.Context, o options, log *slog.Logger, stdout, stderr io.Writer) int {
	res, err := bench(ctx, o, log, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "custody-sim: bench:", err)
		return 1
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	return 0
}

func bench(ctx context.Context, o options, log *slog.Logger, out io.Writer) (*benchResult, error) {
	start := time.Now()
	po := o
	po.devices, po.conflicts = 0, 0
	pl, err := newPlan(po, start)
	if err != nil {
		return nil, err
	}
	s := newSite(o.servers, o.user)
	logf := func(f string, a ...any) {
		fmt.Fprintf(out, "%6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(f, a...))
	}
	if err := pl.load(ctx, s, logf); err != nil {
		return nil, err
	}
	var urls []string
	for _, b := range o.servers {
		urls = append(urls, wsURL(b))
	}
	online, returning := o.devices, 0
	switch o.bench {
	case "return":
		online, returning = 0, 1
	case "online":
	case "mixed":
		returning = o.returning
	default:
		return nil, fmt.Errorf("unknown --bench %q (return, online, mixed)", o.bench)
	}
	// One ASN per device: a case of 50 units to move about.
	mk := func(i int) (*benchDev, error) {
		id := fmt.Sprintf("bench-%s-%03d", pl.tag, i)
		sscc, err := demo.SSCC(demo.SSCCExtension, "4012346", pl.ref*1000+uint64(i))
		if err != nil {
			return nil, err
		}
		a := master.ASN{ID: "B" + id, Client: demo.ClientEU, Supplier: "SUP-2", Items: []master.ASNItem{{Key: event.SSCC(sscc)}}}
		pool := []event.Key{event.SSCC(sscc)}
		for u := range 50 {
			k := event.SGTIN(pl.gtin, "B"+pl.tag+"D"+strconv.Itoa(i)+"U"+strconv.Itoa(u))
			pool = append(pool, k)
			a.Items = append(a.Items, master.ASNItem{Key: k, Parent: pool[0], Lot: pl.lot, Expiry: pl.expiry})
		}
		a.Items[0].Key = pool[0]
		if err := s.do(ctx, "POST", "/api/v1/asns", a, nil); err != nil {
			return nil, err
		}
		h, err := openHandheld(i, id, o.dir, urls, pl.user, log)
		if err != nil {
			return nil, err
		}
		var mem *memOutbox
		if o.memory && o.bench != "return" {
			mem = &memOutbox{epoch: uint32(start.Unix())}
		}
		b := &benchDev{Device: h.dev, mem: mem, h: h, feed: o.feed, pool: pool, clock: hlc.NewClock(nil, 0), client: demo.ClientEU,
			site: pl.fix.Snapshot.Site.ID, asn: a.ID, appended: map[uint64]time.Time{}}
		// The client runs over this wrapper rather than the plain device.
		h.cli, err = client.New(b, client.Config{Dial: h.dial, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Logger: h.log})
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	var devs, back []*benchDev
	for i := range online + returning {
		b, err := mk(i)
		if err != nil {
			return nil, err
		}
		if i < online {
			devs = append(devs, b)
		} else {
			back = append(back, b)
		}
	}
	defer func() {
		for _, b := range append(devs, back...) {
			b.h.close()
		}
	}()
	// Returning devices fill their outbox offline.
	for _, b := range back {
		for n := o.events; n > 0; n -= 1000 {
			if err := b.append(min(n, 1000)); err != nil {
				return nil, err
			}
		}
	}
	logf("%d online devices, %d returning with %d events each", len(devs), len(back), o.events)
	drained := func(bs []*benchDev) bool {
		for _, b := range bs {
			if b.pending() != 0 {
				return false
			}
		}
		return true
	}
	res := &benchResult{Mode: o.bench, Devices: len(devs), Returning: len(back)}
	if o.bench == "return" {
		b := back[0]
		t0 := time.Now()
		b.h.setOffline(0, false)
		if err := waitUntil(ctx, "the outbox to drain", func() bool { return drained(back) }); err != nil {
			return nil, err
		}
		res.Seconds = time.Since(t0).Seconds()
		res.Events = o.events
		res.AckedPerSec = float64(o.events) / res.Seconds
		return res, nil
	}
	// Online devices: connect, receive their case, then stream.
	for _, b := range devs {
		b.h.setOffline(0, false)
		if err := b.append(1); err != nil {
			return nil, err
		}
		b.h.cli.Notify()
	}
	if err := waitUntil(ctx, "the online devices to connect", func() bool { return drained(devs) }); err != nil {
		return nil, err
	}
	const tick = 20 * time.Millisecond
	perTick := max(1, int(float64(o.rate)*tick.Seconds())/len(devs))
	warm := 2 * time.Second
	t0 := time.Now()
	from, to := t0.Add(warm), t0.Add(warm+o.duration)
	for _, b := range devs {
		b.setWindow(from, to)
	}
	sctx, stop := context.WithDeadline(ctx, to)
	defer stop()
	var wg sync.WaitGroup
	for _, b := range devs {
		wg.Go(func() {
			t := time.NewTicker(tick)
			defer t.Stop()
			for {
				select {
				case <-sctx.Done():
					return
				case <-t.C:
				}
				if err := b.append(perTick); err != nil {
					log.Error("append", "err", err)
					return
				}
				b.h.cli.Notify()
			}
		})
	}
	if len(back) > 0 {
		wg.Go(func() {
			if !sleep(sctx, warm) {
				return
			}
			r0 := time.Now()
			for _, b := range back {
				b.h.setOffline(0, false)
			}
			if waitUntil(ctx, "the returning devices to drain", func() bool { return drained(back) }) == nil {
				res.DrainSec = time.Since(r0).Seconds()
			}
		})
	}
	wg.Wait()
	if err := waitUntil(ctx, "every outbox to drain", func() bool { return drained(devs) }); err != nil {
		return nil, err
	}
	var lat []time.Duration
	acked := 0
	for _, b := range devs {
		b.mu.Lock()
		lat = append(lat, b.lat...)
		acked += b.ackedIn
		b.mu.Unlock()
	}
	slices.Sort(lat)
	res.Seconds = o.duration.Seconds()
	res.Events = acked
	res.AckedPerSec = float64(acked) / o.duration.Seconds()
	if len(lat) > 0 {
		res.P50ms = float64(lat[len(lat)/2].Microseconds()) / 1000
		res.P99ms = float64(lat[len(lat)*99/100].Microseconds()) / 1000
	}
	return res, nil
}
