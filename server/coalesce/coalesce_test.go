package coalesce

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// future is an entry applied by a real processor, as raft would.
type future struct {
	res  any
	err  error
	done chan struct{}
}

func (f *future) Error() error  { <-f.done; return f.err }
func (f *future) Response() any { return f.res }

// logApplier applies proposed entries in order through a processor on a
// real Badger store, recording each entry's size.
type logApplier struct {
	mu    sync.Mutex
	p     *command.Processor
	idx   uint64
	sizes []int
	evs   []int
}

func (l *logApplier) propose(data []byte) Future {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.idx++
	var e command.Events
	if _, p, err := command.Decode(data); err == nil {
		_ = e.UnmarshalBinary(p)
	}
	l.sizes = append(l.sizes, len(data))
	l.evs = append(l.evs, len(e.Events))
	res := l.p.Apply([]command.Entry{{Index: l.idx, Data: data}})
	f := &future{res: res[0], done: make(chan struct{})}
	close(f.done)
	return f
}

func TestCoalescerBatchesAndKeepsOrder(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, _ := command.New(st, 0)
	la := &logApplier{p: p}
	c := New(la.propose, hlc.NewClock(nil, 0).Now, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- c.Serve(ctx) }()

	// 16 devices, each submitting its own contiguous batches concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for d := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := workload.New(workload.Options{Seed: uint64(d), Devices: 1, Prefix: "dev" + string(rune('a'+d)),
				GTIN: workload.GTIN(d)})
			for range 10 {
				evs := g.Receive(150)
				vs, err := c.Submit(context.Background(), evs)
				if err != nil {
					errs <- err
					return
				}
				for i, v := range vs {
					if v.ID != evs[i].ID || v.Status != command.StatusApplied {
						errs <- errors.New("verdict out of order or not applied: " + string(v.Status))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cancel()
	<-served
	total := 0
	for i, n := range la.evs {
		total += n
		if n > 512 || la.sizes[i] > 128<<10 {
			t.Fatalf("entry %d: %d events, %d bytes", i, n, la.sizes[i])
		}
	}
	if total != 16*10*150 {
		t.Fatalf("%d events proposed", total)
	}
	if len(la.evs) >= 16*10 {
		t.Fatalf("%d entries for %d submissions: nothing was coalesced", len(la.evs), 16*10)
	}
}

// stuck never commits, so the in-flight window and the queue fill.
type stuck struct{ release chan struct{} }

func (s stuck) Error() error  { <-s.release; return errors.New("stopped") }
func (s stuck) Response() any { return nil }

func TestCoalescerBackpressure(t *testing.T) {
	release := make(chan struct{})
	c := New(func([]byte) Future { return stuck{release} }, func() hlc.Timestamp { return 1 },
		Options{MaxEvents: 10, QueueEvents: 100, MaxInFlight: 2})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- c.Serve(ctx) }()
	g := workload.New(workload.Options{Seed: 1})
	var wg sync.WaitGroup
	busy := make(chan struct{}, 100)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer scancel()
			_, err := c.Submit(sctx, make([]event.Event, 10))
			if errors.Is(err, ErrBusy) {
				busy <- struct{}{}
			}
		}()
	}
	_ = g
	wg.Wait()
	if len(busy) == 0 {
		t.Fatal("no caller was told the queue is full")
	}
	if _, err := c.Submit(context.Background(), make([]event.Event, 101)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized submission: %v", err)
	}
	close(release)
	cancel()
	<-served
}

// Once Serve has returned, Submit fails at once with ErrStopped: nothing
// is queued where no loop will ever read it.
func TestSubmitAfterStopFailsAtOnce(t *testing.T) {
	c := New(func([]byte) Future { panic("no proposal expected") }, func() hlc.Timestamp { return 1 }, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	cancel()
	<-done
	g := workload.New(workload.Options{Seed: 1})
	for i := range 200 {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.Submit(sctx, g.Receive(1))
		scancel()
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("submission %d after stop: %v, want ErrStopped", i, err)
		}
	}
	if d := c.Depth(); d != 0 {
		t.Fatalf("depth %d after refused submissions", d)
	}
}

// An event apply could not read back from an entry (over the event
// limits) is refused before anything of its submission is queued or
// proposed; readable events around it are not proposed either.
func TestSubmitRefusesWhatApplyCannotRead(t *testing.T) {
	c := New(func([]byte) Future { panic("no proposal expected") }, func() hlc.Timestamp { return 1 }, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Serve(ctx) }()
	g := workload.New(workload.Options{Seed: 1})
	for name, mod := range map[string]func(*event.Event){
		"1001 subjects": func(e *event.Event) {
			e.Subjects = make([]event.Subject, event.MaxSubjects+1)
			for i := range e.Subjects {
				e.Subjects[i].Key = event.SGTIN("00300010123455", strings.Repeat("9", 10)+strconv.Itoa(i))
			}
		},
		"lot of 1100 bytes":         func(e *event.Event) { e.Ctx.Lot = strings.Repeat("L", 1100) },
		"device of 1100 bytes":      func(e *event.Event) { e.Device = strings.Repeat("d", 1100) },
		"subject key of 1100 bytes": func(e *event.Event) { e.Subjects[0].Key = event.Key(strings.Repeat("0", 1100)) },
	} {
		evs := g.Receive(3)
		mod(&evs[1])
		if _, err := c.Submit(ctx, evs); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
	}
	if d := c.Depth(); d != 0 || c.Entries() != 0 {
		t.Fatalf("depth %d, entries %d after refused submissions", d, c.Entries())
	}
}
