package hlc

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type manualWall struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualWall) now() time.Time  { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *manualWall) set(t time.Time) { m.mu.Lock(); m.t = t; m.mu.Unlock() }

var epoch = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)

func TestTimestampParts(t *testing.T) {
	ts := New(epoch.UnixMilli(), 7)
	if ts.Millis() != epoch.UnixMilli() || ts.Counter() != 7 {
		t.Fatalf("parts = %d/%d", ts.Millis(), ts.Counter())
	}
	if !ts.Time().Equal(epoch) {
		t.Fatalf("Time = %v", ts.Time())
	}
	back, err := Parse(ts.String())
	if err != nil || back != ts {
		t.Fatalf("Parse(%q) = %v, %v", ts.String(), back, err)
	}
	for _, bad := range []string{"", "x/1", "2026-11-21T08:00:00.000Z", "2026-11-21T08:00:00.000Z/x", "2026-11-21T08:00:00.000Z/5abc", "2026-11-21T08:00:00.000Z/70000"} {
		if _, err := Parse(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) err = %v, want ErrFormat", bad, err)
		}
	}
	if New(-5, 0) != 0 {
		t.Error("negative millis not clamped to zero")
	}
}

func TestNowIsMonotonicWhenWallGoesBack(t *testing.T) {
	w := &manualWall{t: epoch}
	c := NewClock(w.now, 0)
	a := c.Now()
	b := c.Now()
	if b <= a || b.Millis() != a.Millis() || b.Counter() != a.Counter()+1 {
		t.Fatalf("same ms: a=%v b=%v", a, b)
	}
	w.set(epoch.Add(-time.Hour)) // wall clock stepped back
	d := c.Now()
	if d <= b {
		t.Fatalf("clock went backwards: %v after %v", d, b)
	}
	w.set(epoch.Add(time.Second))
	e := c.Now()
	if e.Millis() != epoch.Add(time.Second).UnixMilli() || e.Counter() != 0 {
		t.Fatalf("wall ahead again: got %v", e)
	}
}

func TestCounterOverflowCarriesIntoMillis(t *testing.T) {
	w := &manualWall{t: epoch}
	c := NewClock(w.now, 0)
	c.Restore(New(epoch.UnixMilli(), counterMask))
	got := c.Now()
	if got.Millis() != epoch.UnixMilli()+1 || got.Counter() != 0 {
		t.Fatalf("overflow: got %v", got)
	}
}

func TestUpdateReceiveRule(t *testing.T) {
	w := &manualWall{t: epoch}
	c := NewClock(w.now, time.Minute)
	remote := New(epoch.Add(10*time.Second).UnixMilli(), 3)
	got, err := c.Update(remote)
	if err != nil {
		t.Fatal(err)
	}
	if got <= remote {
		t.Fatalf("Update(%v) = %v, want later", remote, got)
	}
	if n := c.Now(); n <= got {
		t.Fatalf("Now after Update = %v, want > %v", n, got)
	}
	// A remote far ahead is refused and not adopted.
	far := New(epoch.Add(time.Hour).UnixMilli(), 0)
	got2, err := c.Update(far)
	if !errors.Is(err, ErrSkew) {
		t.Fatalf("err = %v, want ErrSkew", err)
	}
	if got2 >= far {
		t.Fatalf("skewed remote adopted: %v", got2)
	}
}

func TestConcurrentNowIsUnique(t *testing.T) {
	c := NewClock(func() time.Time { return epoch }, 0)
	const n, workers = 2000, 4
	out := make(chan Timestamp, n*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				out <- c.Now()
			}
		}()
	}
	wg.Wait()
	close(out)
	seen := make(map[Timestamp]bool, n*workers)
	for ts := range out {
		if seen[ts] {
			t.Fatalf("duplicate timestamp %v", ts)
		}
		seen[ts] = true
	}
}

func TestClampAndAhead(t *testing.T) {
	a := New(epoch.UnixMilli(), 0)
	b := New(epoch.Add(2*time.Second).UnixMilli(), 0)
	if b.Clamp(a) != a || a.Clamp(b) != a || a.Clamp(0) != a {
		t.Fatal("Clamp")
	}
	if b.Ahead(a) != 2*time.Second || a.Ahead(b) != -2*time.Second {
		t.Fatal("Ahead")
	}
}

func TestAheadSaturates(t *testing.T) {
	now := New(epoch.UnixMilli(), 0)
	far := New(epoch.UnixMilli()+(1<<62)/1_000_000*4, 0) // centuries ahead
	if d := far.Ahead(now); d <= 0 || d < 100*365*24*time.Hour {
		t.Fatalf("far future Ahead = %v, want a huge positive duration", d)
	}
	if d := now.Ahead(far); d >= 0 {
		t.Fatalf("far past Ahead = %v, want negative", d)
	}
	c := NewClock(func() time.Time { return epoch }, time.Minute)
	if _, err := c.Update(far); !errors.Is(err, ErrSkew) {
		t.Fatalf("a clock centuries ahead was adopted: %v", err)
	}
}
