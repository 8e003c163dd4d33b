package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// Frame is one grayscale camera frame: the luminance (Y) plane.
type Frame struct {
	Y            []byte
	W, H, Stride int
	At           time.Time
	// Release, when set, returns the buffer to its owner (a camera's
	// buffer queue or a pool) once the frame has been decoded.
	Release func()
}

// Source delivers frames. Next blocks until a frame is available and
// returns io.EOF when the source is exhausted.
type Source interface {
	Next(ctx context.Context) (Frame, error)
	Close() error
}

// Scan is one read, from a camera frame or a keyboard wedge, before the
// GS1 check.
type Scan struct {
	Text      string // data, GS as 0x1D, no leading FNC1
	Symbology string // "]d2", "]d1", … or "" when the device sent none
	At        time.Time
	Origin    string   // "camera" or "wedge"
	Issues    []string // transport problems noticed (wedge mangling)
}

// Status is the verdict class; each has its own sound on the device.
type Status int

// Verdicts.
const (
	Accepted Status = iota
	Warning
	Refused
)

func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Warning:
		return "warning"
	default:
		return "refused"
	}
}

// Verdict is the immediate answer shown and sounded for a scan.
type Verdict struct {
	Status Status
	Reason string // for a person at the scanner; empty when accepted
	// Product is the checker's parsed identifier (for the GS1 checker a
	// gs1.Product), nil when refused.
	Product any
}

// Checker judges a scan; the GS1 product-identifier check implements it.
type Checker interface {
	Check(Scan) Verdict
}

// Event is a scan with its verdict.
type Event struct {
	Scan    Scan
	Verdict Verdict
}

// Reader runs a frame source through decoding workers (one Scanner each,
// so both cores of a handheld decode), merges repeated reads of the same
// code, checks each new read and calls Emit.
type Reader struct {
	Source  Source
	Checker Checker
	Emit    func(Event)
	// Workers decoding in parallel; 0 means runtime.NumCPU().
	Workers int
	// Window within which repeated reads of the same text are one scan;
	// 0 means 2 s.
	Window time.Duration
	// Options for each worker's Scanner.
	Options Options
	Log     *slog.Logger
}

// Serve reads frames until the source ends (returns nil) or ctx is
// cancelled (returns ctx.Err()).
func (r *Reader) Serve(ctx context.Context) error {
	if r.Source == nil || r.Emit == nil {
		return fmt.Errorf("%w: Reader needs a Source and Emit", ErrFrame)
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	frames := make(chan Frame)
	reads := make(chan Scan)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := New(r.Options)
			for f := range frames {
				res, err := sc.DecodeY(f.Y, f.W, f.H, f.Stride)
				if f.Release != nil {
					f.Release()
				}
				if err != nil {
					if !errors.Is(err, ErrNotFound) {
						log.Warn("scan: bad frame", "err", err)
					}
					continue
				}
				select {
				case reads <- Scan{Text: res.Text, Symbology: res.Symbology, At: f.At, Origin: "camera"}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	srcErr := make(chan error, 1)
	go func() {
		defer close(frames)
		for {
			f, err := r.Source.Next(ctx)
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				srcErr <- err
				return
			}
			if f.At.IsZero() {
				f.At = time.Now()
			}
			select {
			case frames <- f:
			case <-ctx.Done():
				if f.Release != nil {
					f.Release()
				}
				srcErr <- ctx.Err()
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(reads)
	}()
	d := NewDeduper(r.Window)
	for s := range reads {
		if !d.Fresh(s.Text, s.At) {
			continue
		}
		ev := Event{Scan: s}
		if r.Checker != nil {
			ev.Verdict = r.Checker.Check(s)
		}
		r.Emit(ev)
	}
	if err := <-srcErr; err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("scan: source: %w", err)
	}
	return nil
}

// Deduper merges repeated reads of one code: a camera sees the same
// symbol in many consecutive frames, a trigger held down repeats it.
type Deduper struct {
	window time.Duration
	seen   map[string]time.Time
}

// NewDeduper returns a Deduper with the given window (0 means 2 s).
func NewDeduper(window time.Duration) *Deduper {
	if window <= 0 {
		window = 2 * time.Second
	}
	return &Deduper{window: window, seen: map[string]time.Time{}}
}

// Fresh reports whether text at time at is a new scan, and records it. A
// code stays "seen" while it keeps being read within the window.
func (d *Deduper) Fresh(text string, at time.Time) bool {
	last, ok := d.seen[text]
	if ok && !at.After(last) {
		// workers finish out of order: an older frame of a code already
		// reported is part of that scan
		return false
	}
	d.seen[text] = at
	if len(d.seen) > 256 {
		for k, t := range d.seen {
			if at.Sub(t) > d.window {
				delete(d.seen, k)
			}
		}
	}
	return !ok || at.Sub(last) > d.window
}
