package operator

import (
	"net/http"
	"testing"
	"time"
)

// reopen closes the operator and opens another on the same data
// directory and configuration, as a restart of custody-operator does.
func (e *env) reopen(now func() time.Time) {
	e.t.Helper()
	cfg := e.op.cfg
	cfg.Now = now
	if err := e.op.Close(); err != nil {
		e.t.Fatal(err)
	}
	op, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.op = op
	e.app = NewApp()
	e.op.Mount(e.app)
}

// TestLockSurvivesRestart: five wrong passwords lock a user in the
// operator's cache, so a restart does not unlock them; a lock that
// ended does not lock; a good password clears the count; what a user
// not in the configuration types leaves nothing in the cache.
func TestLockSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	clock := start
	now := func() time.Time { return clock }
	e.reopen(now)
	b := e.browser()
	wrongs := func(n int, want int) {
		t.Helper()
		for i := range n {
			if code, _ := b.Login("ann", "wrong password"); code != want {
				t.Fatalf("wrong password %d: %d, want %d", i+1, code, want)
			}
		}
	}

	// Four wrong, one good: the count starts again.
	wrongs(maxFailures-1, http.StatusUnauthorized)
	if code, _ := b.Login("ann", "ann password 1"); code != http.StatusSeeOther {
		t.Fatalf("the good password after %d wrong: %d", maxFailures-1, code)
	}
	if f, err := e.op.cache.failures("ann"); err != nil || f != (failures{}) {
		t.Fatalf("a good password left %+v (%v)", f, err)
	}
	wrongs(maxFailures-1, http.StatusUnauthorized)
	e.reopen(now) // the count survives too
	b = e.browser()
	wrongs(1, http.StatusTooManyRequests)

	for _, tc := range []struct {
		name  string
		after time.Duration
		want  int
	}{
		{"after a restart", 0, http.StatusTooManyRequests},
		{"a minute before the lock ends", lockFor - time.Minute, http.StatusTooManyRequests},
		{"when the lock ended", lockFor, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock = start.Add(tc.after)
			e.reopen(now)
			b = e.browser()
			if code, _ := b.Login("ann", "ann password 1"); code != tc.want {
				t.Fatalf("the good password: %d, want %d", code, tc.want)
			}
		})
	}
	if f, err := e.op.cache.failures("ann"); err != nil || f != (failures{}) {
		t.Fatalf("the sign-in after the lock left %+v (%v)", f, err)
	}

	if code, _ := b.Login("nobody", "whatever pw"); code != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", code)
	}
	if ok, err := e.op.cache.getJSON(prefixFails+"nobody", &failures{}); err != nil || ok {
		t.Fatalf("an unknown user's wrong password is in the cache: %v %v", ok, err)
	}
	// Another user is not locked by ann's lock.
	clock = start
	wrongs(maxFailures-1, http.StatusUnauthorized)
	wrongs(1, http.StatusTooManyRequests)
	if code, _ := e.browser().Login("bob", "bob password 1"); code != http.StatusSeeOther {
		t.Fatalf("bob while ann is locked: %d", code)
	}
}
