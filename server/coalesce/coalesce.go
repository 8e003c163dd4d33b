// Package coalesce merges events from every caller into raft entries:
// at most MaxEvents events or MaxBytes bytes per entry, waiting at most
// MaxDelay for an entry to fill. Queues are bounded: when they are full a
// caller is told to come back later (ErrBusy) instead of waiting without
// bound, and at most MaxInFlight entries are being committed at once.
//
// A caller's events keep their order: they enter the queue together and
// the single batching loop takes them in order, possibly across entries.
// The caller gets its verdicts after the entries carrying them were
// committed and applied.
package coalesce

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Errors returned by the coalescer.
var (
	// ErrBusy reports full queues: retry after a short pause.
	ErrBusy = errors.New("coalesce: busy, retry after a short pause")
	// ErrTooLarge reports a submission bigger than the queue, or an event
	// apply could not read from an entry (event.Admit): over the event
	// limits. Nothing of the submission is proposed.
	ErrTooLarge = errors.New("coalesce: submission too large")
	// ErrStopped reports a coalescer that is shutting down.
	ErrStopped = errors.New("coalesce: stopped")
	// ErrResponse reports an entry whose apply answered something unexpected.
	ErrResponse = errors.New("coalesce: unexpected apply response")
)

// Future is a proposed entry: raft.ApplyFuture satisfies it.
type Future interface {
	Error() error
	Response() any
}

// Options bound the coalescer.
type Options struct {
	MaxEvents   int           // per entry, default 512
	MaxBytes    int           // per entry, default event.MaxEntry (128 KiB)
	MaxDelay    time.Duration // default 2 ms
	QueueEvents int           // events waiting, default 65536
	MaxInFlight int           // entries being committed, default 64
}

func (o *Options) defaults() {
	if o.MaxEvents <= 0 {
		o.MaxEvents = 512
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = event.MaxEntry
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Millisecond
	}
	if o.QueueEvents <= 0 {
		o.QueueEvents = 65536
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
}

// Coalescer batches events into entries.
type Coalescer struct {
	o       Options
	propose func([]byte) Future
	clock   func() hlc.Timestamp
	queue   chan *request
	queued  atomic.Int64
	slots   chan struct{}
	// mu orders enqueueing against stopping: once closed is set (under
	// mu), nothing enters the queue, so the final drain sees every
	// request ever queued.
	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup
	entries atomic.Uint64
}

type request struct {
	ctx      context.Context
	evs      []event.Event
	verdicts []command.Verdict
	left     atomic.Int64
	mu       sync.Mutex
	err      error
	done     chan struct{}
}

func (r *request) finish(err error, n int) {
	if err != nil {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	if r.left.Add(int64(-n)) == 0 {
		close(r.done)
	}
}

// New returns a coalescer proposing entries with propose and stamping
// them with clock.
func New(propose func([]byte) Future, clock func() hlc.Timestamp, o Options) *Coalescer {
	o.defaults()
	return &Coalescer{o: o, propose: propose, clock: clock,
		queue: make(chan *request, 4096), slots: make(chan struct{}, o.MaxInFlight)}
}

// Depth is the number of events waiting for an entry.
func (c *Coalescer) Depth() int { return int(c.queued.Load()) }

// Entries is the number of entries proposed so far.
func (c *Coalescer) Entries() uint64 { return c.entries.Load() }

// Submit queues events and waits for their verdicts, in order. Every
// event must pass event.Admit — the codec apply reads entries with — or
// nothing is queued: this is the last gate before the log, whichever
// door the events came in by.
func (c *Coalescer) Submit(ctx context.Context, evs []event.Event) ([]command.Verdict, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	if len(evs) > c.o.QueueEvents {
		return nil, fmt.Errorf("%w: %d events, at most %d at once", ErrTooLarge, len(evs), c.o.QueueEvents)
	}
	for i := range evs {
		if err := evs[i].Admit(); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrTooLarge, i, err)
		}
	}
	if n := c.queued.Add(int64(len(evs))); n > int64(c.o.QueueEvents) {
		c.queued.Add(int64(-len(evs)))
		return nil, ErrBusy
	}
	r := &request{ctx: ctx, evs: evs, verdicts: make([]command.Verdict, len(evs)), done: make(chan struct{})}
	r.left.Store(int64(len(evs)))
	c.mu.Lock()
	var err error
	if c.closed {
		err = ErrStopped
	} else {
		select {
		case c.queue <- r:
		default:
			err = ErrBusy
		}
	}
	c.mu.Unlock()
	if err != nil {
		c.queued.Add(int64(-len(evs)))
		return nil, err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		// The events may still commit; the caller resends and gets
		// "duplicate" with the original verdicts.
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.verdicts, nil
}

// slot is where one event of an entry reports its verdict.
type slot struct {
	r *request
	i int
}

type batch struct {
	body  []byte
	slots []slot
}

// Serve runs the batching loop until ctx ends; queued requests then fail
// with ErrStopped and in-flight entries are waited for.
func (c *Coalescer) Serve(ctx context.Context) error {
	defer func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		for {
			select {
			case r := <-c.queue:
				c.queued.Add(int64(-len(r.evs)))
				r.finish(ErrStopped, int(r.left.Load()))
			default:
				c.wg.Wait()
				return
			}
		}
	}()
	var (
		pending *request // a request partly taken into the previous entry
		next    int      // its first event not yet taken
		scratch []byte
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		b := &batch{}
		if pending == nil {
			select {
			case <-ctx.Done():
				return nil
			case pending = <-c.queue:
				next = 0
			}
		}
		timer.Reset(c.o.MaxDelay)
		full := false
		for !full {
			if pending == nil {
				select {
				case pending = <-c.queue:
					next = 0
				case <-timer.C:
					full = true
					continue
				case <-ctx.Done():
					timer.Stop()
					c.fail(b, ErrStopped)
					return nil
				}
			}
			for next < len(pending.evs) {
				if pending.ctx.Err() != nil {
					// The caller gave up before its events were proposed.
					c.queued.Add(int64(-(len(pending.evs) - next)))
					pending.finish(pending.ctx.Err(), len(pending.evs)-next)
					next = len(pending.evs)
					break
				}
				scratch = pending.evs[next].AppendBinary(scratch[:0])
				if len(b.slots) > 0 && (len(b.slots) >= c.o.MaxEvents || len(b.body)+len(scratch) > c.o.MaxBytes-64) {
					full = true
					break
				}
				b.body = append(b.body, scratch...)
				b.slots = append(b.slots, slot{pending, next})
				next++
				c.queued.Add(-1)
			}
			if next >= len(pending.evs) {
				pending = nil
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if len(b.slots) == 0 {
			continue
		}
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			c.fail(b, ErrStopped)
			c.abandon(pending, next)
			return nil
		}
		c.flush(b)
	}
}

// abandon fails the events of a partly taken request that were not
// packed into an entry.
func (c *Coalescer) abandon(r *request, next int) {
	if r == nil || next >= len(r.evs) {
		return
	}
	c.queued.Add(int64(-(len(r.evs) - next)))
	r.finish(ErrStopped, len(r.evs)-next)
}

func (c *Coalescer) fail(b *batch, err error) {
	for _, s := range b.slots {
		s.r.finish(err, 1)
	}
}

func (c *Coalescer) flush(b *batch) {
	hdr := (&command.Events{Received: c.clock()}).AppendBinary(command.Encode(command.TypeEvents, nil))
	// hdr ends with the uvarint count 0: replace it with the real count.
	hdr = hdr[:len(hdr)-1]
	hdr = appendUvarint(hdr, uint64(len(b.slots)))
	data := append(hdr, b.body...)
	f := c.propose(data)
	c.entries.Add(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.slots }()
		err := f.Error()
		var vs []command.Verdict
		if err == nil {
			switch r := f.Response().(type) {
			case []command.Verdict:
				vs = r
			case error:
				err = r
			}
			if err == nil && len(vs) != len(b.slots) {
				err = fmt.Errorf("%w: %d verdicts for %d events", ErrResponse, len(vs), len(b.slots))
			}
		}
		for i, s := range b.slots {
			if err == nil {
				s.r.verdicts[s.i] = vs[i]
			}
			s.r.finish(err, 1)
		}
	}()
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
