// Package hlc is a hybrid logical clock: 48 bits of wall-clock milliseconds
// and a 16-bit logical counter in one uint64, so timestamps sort the way
// people expect (who scanned first in reality) while never going backwards
// on one node, whatever its wall clock does.
//
// The clock orders events for people and audits. It never decides which of
// two conflicting events wins: the raft log order does that.
package hlc

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// Errors returned by the clock.
var (
	// ErrSkew reports a remote timestamp further ahead of the local wall
	// clock than the clock's skew bound. The clock does not adopt it.
	ErrSkew = errors.New("hlc: remote clock too far ahead")
	// ErrFormat reports a timestamp string that does not parse.
	ErrFormat = errors.New("hlc: malformed timestamp")
)

const (
	counterBits = 16
	counterMask = 1<<counterBits - 1
	maxMillis   = 1<<48 - 1
)

// Timestamp is 48 bits of Unix milliseconds followed by a 16-bit counter.
// The zero Timestamp means "unknown".
type Timestamp uint64

// New builds a timestamp from Unix milliseconds and a counter.
func New(ms int64, counter uint16) Timestamp {
	if ms < 0 {
		ms = 0
	}
	if ms > maxMillis {
		ms = maxMillis
	}
	return Timestamp(uint64(ms)<<counterBits | uint64(counter))
}

// FromTime is the timestamp at the start of t's millisecond, counter 0.
func FromTime(t time.Time) Timestamp { return New(t.UnixMilli(), 0) }

// Millis is the physical part in Unix milliseconds.
func (t Timestamp) Millis() int64 { return int64(t >> counterBits) }

// Counter is the logical part.
func (t Timestamp) Counter() uint16 { return uint16(t & counterMask) }

// Time is the physical part as a UTC time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.Millis()).UTC() }

// IsZero reports whether t is unknown.
func (t Timestamp) IsZero() bool { return t == 0 }

// String renders "2026-11-21T07:40:00.123Z/5": readable and sortable.
func (t Timestamp) String() string {
	return fmt.Sprintf("%s/%d", t.Time().Format("2006-01-02T15:04:05.000Z"), t.Counter())
}

// Parse reads what String writes.
func Parse(s string) (Timestamp, error) {
	var wall string
	var counter uint16
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			wall = s[:i]
			n, err := strconv.ParseUint(s[i+1:], 10, 16)
			if err != nil {
				return 0, fmt.Errorf("%w: %q", ErrFormat, s)
			}
			counter = uint16(n)
			break
		}
	}
	t, err := time.Parse("2006-01-02T15:04:05.000Z", wall)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrFormat, s)
	}
	return New(t.UnixMilli(), counter), nil
}

// Clamp returns t, or limit when t is later than limit: the display time
// of an event from a device whose clock ran ahead.
func (t Timestamp) Clamp(limit Timestamp) Timestamp {
	if limit != 0 && t > limit {
		return limit
	}
	return t
}

// Ahead is how far t's physical part is ahead of other's (negative when
// behind), saturating at the largest durations instead of wrapping.
func (t Timestamp) Ahead(other Timestamp) time.Duration {
	const limit = math.MaxInt64 / int64(time.Millisecond)
	d := t.Millis() - other.Millis()
	switch {
	case d > limit:
		return math.MaxInt64
	case d < -limit:
		return math.MinInt64
	}
	return time.Duration(d) * time.Millisecond
}

// Clock issues timestamps. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	wall    func() time.Time
	maxSkew time.Duration
	last    Timestamp
}

// NewClock returns a clock reading wall (time.Now when nil) that refuses
// to adopt remote timestamps more than maxSkew ahead of it (no bound when
// maxSkew is 0).
func NewClock(wall func() time.Time, maxSkew time.Duration) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall, maxSkew: maxSkew}
}

// Now issues a timestamp for a local or send event: later than every
// timestamp this clock has issued or observed.
func (c *Clock) Now() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = next(c.last, FromTime(c.wall()))
	return c.last
}

// Update applies the receive rule for a remote timestamp and returns a
// timestamp later than both it and everything issued before. A remote
// timestamp more than maxSkew ahead of the wall clock is not adopted:
// Update then returns a local timestamp together with ErrSkew.
func (c *Clock) Update(remote Timestamp) (Timestamp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	phys := FromTime(c.wall())
	if c.maxSkew > 0 && remote.Ahead(phys) > c.maxSkew {
		c.last = next(c.last, phys)
		return c.last, fmt.Errorf("%w: %s ahead", ErrSkew, remote.Ahead(phys))
	}
	if remote > c.last {
		c.last = remote
	}
	c.last = next(c.last, phys)
	return c.last, nil
}

// Last is the latest timestamp issued or observed (0 before any).
func (c *Clock) Last() Timestamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Restore raises the clock to at least t, e.g. the highest timestamp found
// in a store after a restart, so that a clock reset does not reorder
// events written before and after it.
func (c *Clock) Restore(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t > c.last {
		c.last = t
	}
}

// next is the smallest timestamp after last that is not before phys.
func next(last, phys Timestamp) Timestamp {
	if phys.Millis() > last.Millis() {
		return phys
	}
	if last.Counter() == counterMask {
		return New(last.Millis()+1, 0)
	}
	return last + 1
}
