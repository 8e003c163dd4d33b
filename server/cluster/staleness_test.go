package cluster

import (
	"math"
	"testing"
	"time"
)

func TestStaleness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	for _, tc := range []struct {
		name     string
		contact  time.Time
		caughtUp bool
		pending  time.Time
		want     time.Duration
	}{
		{"caught up: since the last contact", ago(80 * time.Millisecond), true, time.Time{}, 80 * time.Millisecond},
		{"never heard from a leader", time.Time{}, true, time.Time{}, math.MaxInt64},
		{"behind: since the first entry not applied was appended", ago(50 * time.Millisecond), false, ago(3 * time.Second), 3 * time.Second},
		{"behind, entry newer than the contact (clock skew): the contact", ago(time.Second), false, ago(10 * time.Millisecond), time.Second},
		{"behind, the entry unknown", ago(50 * time.Millisecond), false, time.Time{}, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := staleness(now, tc.contact, tc.caughtUp, tc.pending); got != tc.want {
				t.Fatalf("staleness %s, want %s", got, tc.want)
			}
		})
	}
}
