package certs

import (
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock so that tests move time instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestCA(t testing.TB, clk *testClock, site string) *CA {
	t.Helper()
	ca, err := NewCA(CAConfig{SiteName: site, Now: clk.Now})
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}
