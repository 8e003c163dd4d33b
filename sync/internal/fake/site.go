// Package fake holds in-memory implementations of the protocol's two
// seams, session.Site and client.Device, for this module's tests. They
// keep the rules that matter to the protocol — idempotent submits keyed
// by (device, epoch, seq), a feed with a compaction horizon, an outbox
// pruned only by acks — and count what they do so tests can assert it.
package fake

import (
	"context"
	"sync"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/protocol"
)

// Site is an in-memory site: it applies events idempotently and keeps a
// down-feed of product and unit records.
type Site struct {
	Cluster string
	Clock   *hlc.Clock
	// Judge decides the verdict of a newly applied event (nil: applied).
	Judge func(ev *event.Event) protocol.Verdict
	// Delay is slept inside Submit, as a commit would take.
	Delay time.Duration
	// SnapshotDelay is slept inside Snapshot, as reading a large
	// replica would take.
	SnapshotDelay time.Duration

	mu      sync.Mutex
	gate    chan struct{} // while non-nil, Submit waits for it to close
	users   []string      // users named in Changes and Snapshot calls
	marks   map[mark]uint64
	verdict map[key]protocol.Verdict
	applied map[event.ID]int
	busy    []time.Duration // answers for the next submits: BUSY with these retry-afters
	gaps    int             // the next submits answer a gap at the mark
	submits int
	active  int
	maxAct  int
	snaps   int // Snapshot calls running now
	maxSnap int

	epoch    uint64
	feed     []entry // index i+1 is feed[i]
	horizon  uint64  // cursors below this index are too old
	products map[string]master.Product
	units    map[event.Key]unit.State
	changed  chan struct{}
}

type mark struct {
	device string
	epoch  uint32
}

type key struct {
	mark
	seq uint64
}

type entry struct {
	product *master.Product
	unit    *unit.State
	removal *protocol.Removal
}

// NewSite returns an empty site of cluster id cluster.
func NewSite(cluster string) *Site {
	return &Site{
		Cluster: cluster, Clock: hlc.NewClock(nil, 0), epoch: 1,
		marks: map[mark]uint64{}, verdict: map[key]protocol.Verdict{}, applied: map[event.ID]int{},
		products: map[string]master.Product{}, units: map[event.Key]unit.State{}, changed: make(chan struct{}),
	}
}

// ClusterID implements session.Site.
func (s *Site) ClusterID() string { return s.Cluster }

// Now implements session.Site.
func (s *Site) Now() hlc.Timestamp { return s.Clock.Now() }

// HighWater implements session.Site.
func (s *Site) HighWater(_ context.Context, device string, epoch uint32) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[mark{device, epoch}], nil
}

// BusyNext makes the next len(retry) submits answer BUSY.
func (s *Site) BusyNext(retry ...time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy = append(s.busy, retry...)
}

// Submit implements session.Site.
func (s *Site) Submit(ctx context.Context, device string, epoch uint32, evs []event.Event) ([]protocol.Verdict, error) {
	s.mu.Lock()
	s.submits++
	s.active++
	s.maxAct = max(s.maxAct, s.active)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.Delay > 0 {
		select {
		case <-time.After(s.Delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.busy) > 0 {
		r := s.busy[0]
		s.busy = s.busy[1:]
		return nil, &protocol.BusyError{RetryAfter: r}
	}
	m := mark{device, epoch}
	hw := s.marks[m]
	if s.gaps > 0 {
		s.gaps--
		return nil, &protocol.GapError{Expected: hw + 1}
	}
	if evs[0].Seq > hw+1 {
		return nil, &protocol.GapError{Expected: hw + 1}
	}
	out := make([]protocol.Verdict, len(evs))
	for i := range evs {
		ev := &evs[i]
		k := key{m, ev.Seq}
		if ev.Seq <= hw {
			orig := s.verdict[k]
			out[i] = protocol.Verdict{Seq: ev.Seq, Outcome: protocol.OutcomeDuplicate, Original: orig.Outcome,
				Exceptions: orig.Exceptions, Message: orig.Message}
			continue
		}
		v := protocol.Verdict{Seq: ev.Seq, Outcome: protocol.OutcomeApplied}
		if s.Judge != nil {
			v = s.Judge(ev)
			v.Seq = ev.Seq
		}
		s.verdict[k] = v
		s.applied[ev.ID]++
		hw = ev.Seq
		out[i] = v
	}
	s.marks[m] = hw
	return out, nil
}

// GapNext makes the next n submits answer a gap, as a node that lags
// its leader might.
func (s *Site) GapNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gaps += n
}

// Pause makes Submit wait until Resume.
func (s *Site) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

// Resume lets paused and later submits through.
func (s *Site) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

// Users lists the users named in feed calls, in order.
func (s *Site) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.users...)
}

// Stats reports how many events were applied, how many were applied
// more than once, how many Submit calls there were and the most that
// ran at once.
func (s *Site) Stats() (applied, twice, submits, maxConcurrent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.applied {
		applied++
		if n > 1 {
			twice++
		}
	}
	return applied, twice, s.submits, s.maxAct
}

// Mark is the high-water mark of (device, epoch).
func (s *Site) Mark(device string, epoch uint32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[mark{device, epoch}]
}

// SetMark sets a high-water mark, as a site restored from elsewhere has.
func (s *Site) SetMark(device string, epoch uint32, hw uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marks[mark{device, epoch}] = hw
}

func (s *Site) appendLocked(e entry) {
	s.feed = append(s.feed, e)
	switch {
	case e.product != nil:
		s.products[e.product.GTIN] = *e.product
	case e.unit != nil:
		s.units[e.unit.Key] = *e.unit
	case e.removal != nil && e.removal.Kind == protocol.KindProduct:
		delete(s.products, e.removal.ID)
	case e.removal != nil && e.removal.Kind == protocol.KindUnit:
		delete(s.units, event.Key(e.removal.ID))
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// PutProduct adds or changes a product in the feed.
func (s *Site) PutProduct(p master.Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(entry{product: &p})
}

// PutUnit adds or changes a unit state in the feed.
func (s *Site) PutUnit(u unit.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(entry{unit: &u})
}

// Remove adds a removal to the feed.
func (s *Site) Remove(k protocol.Kind, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(entry{removal: &protocol.Removal{Kind: k, ID: id}})
}

// Compact makes cursors before the current head too old.
func (s *Site) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.horizon = uint64(len(s.feed))
}

// Head is the cursor after everything in the feed.
func (s *Site) Head() protocol.Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return protocol.Cursor{Cluster: s.Cluster, Epoch: s.epoch, Index: uint64(len(s.feed))}
}

// Changes implements session.Site.
func (s *Site) Changes(_ context.Context, _, user string, after protocol.Cursor, max int) (protocol.ChangeSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, user)
	if after.Epoch != s.epoch || after.Index < s.horizon || after.Index > uint64(len(s.feed)) {
		return protocol.ChangeSet{}, protocol.ErrCursorTooOld
	}
	cs := protocol.ChangeSet{To: after}
	i := after.Index
	for ; i < uint64(len(s.feed)) && cs.Len() < max; i++ {
		e := s.feed[i]
		switch {
		case e.product != nil:
			cs.Put.Products = append(cs.Put.Products, *e.product)
		case e.unit != nil:
			cs.Put.Units = append(cs.Put.Units, *e.unit)
		case e.removal != nil:
			cs.Removed = append(cs.Removed, *e.removal)
		}
	}
	cs.To.Index = i
	cs.More = i < uint64(len(s.feed))
	return cs, nil
}

// Snapshot implements session.Site.
func (s *Site) Snapshot(_ context.Context, _, user string) (master.Snapshot, protocol.Cursor, error) {
	s.mu.Lock()
	s.snaps++
	s.maxSnap = max(s.maxSnap, s.snaps)
	s.mu.Unlock()
	time.Sleep(s.SnapshotDelay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snaps--
	s.users = append(s.users, user)
	snap := master.Snapshot{Site: master.Site{ID: "site-1", Name: "Test site", GLN: "0614141000005"}}
	for _, p := range s.products {
		snap.Products = append(snap.Products, p)
	}
	for _, u := range s.units {
		snap.Units = append(snap.Units, u)
	}
	cur := protocol.Cursor{Cluster: s.Cluster, Epoch: s.epoch, Index: uint64(len(s.feed))}
	return snap, cur, nil
}

// MaxSnapshots is the most Snapshot calls that ran at once.
func (s *Site) MaxSnapshots() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSnap
}

// Wait implements session.Site.
func (s *Site) Wait(ctx context.Context, after protocol.Cursor) error {
	s.mu.Lock()
	ch := s.changed
	moved := after.Epoch != s.epoch || after.Index < uint64(len(s.feed))
	s.mu.Unlock()
	if moved {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
