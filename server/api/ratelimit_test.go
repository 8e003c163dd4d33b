package api

import (
	"fmt"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newRateLimit(2, time.Minute, func() time.Time { return now })
	for i, want := range []bool{true, true, false} {
		if got := l.allow("10.0.0.1"); got != want {
			t.Fatalf("request %d: %t", i, got)
		}
	}
	if !l.allow("10.0.0.2") {
		t.Fatal("another address was limited")
	}
	now = now.Add(time.Minute)
	if !l.allow("10.0.0.1") {
		t.Fatal("the next window is still limited")
	}
	// A flood of addresses fills the table; addresses already in it keep
	// their allowance, new ones wait for the next window.
	for i := range maxAddrs {
		l.allow(fmt.Sprint("a", i))
	}
	if l.allow("new") || !l.allow("10.0.0.1") {
		t.Fatal("the address table is unbounded or forgot a known address")
	}
	now = now.Add(-time.Hour) // a clock stepped back starts a new window
	if !l.allow("new") {
		t.Fatal("a clock stepped back kept the old window")
	}
}
