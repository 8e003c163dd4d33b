package command

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

func revocationOf(t *testing.T, st *state.Store, user string) (state.UserCertRevocation, error) {
	t.Helper()
	var rec state.UserCertRevocation
	err := st.View(func(r *state.Reader) error { var err error; rec, err = r.UserCertRevocation(user); return err })
	return rec, err
}

// TestRevokeUserCerts: the later revocation stands, an earlier or equal
// one answers the one in effect and changes nothing, bad commands are
// rejected and change nothing, and putting the user again keeps the
// revocation.
func TestRevokeUserCerts(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 500_000_000, time.UTC)
	rev := func(user string, at time.Time, reason string) []byte {
		return jsonEntry(t, TypeRevokeUserCerts, RevokeUserCerts{User: user, At: at, By: "admin", Reason: reason})
	}
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, master.User{ID: "op1", Role: master.RoleOperator, Clients: []string{"*"}}))
	for _, tc := range []struct {
		name    string
		entry   []byte
		reject  string    // part of the rejection, "" when accepted
		changed bool      // whether the state changes
		wantAt  time.Time // the revocation in effect afterwards
	}{
		{"first revocation", rev("op1", t0, "key lost"), "", true, t0},
		{"the same again", rev("op1", t0, "key lost"), "", false, t0},
		{"an older one", rev("op1", t0.Add(-time.Minute), "late"), "", false, t0},
		{"a later one", rev("op1", t0.Add(time.Hour), "left"), "", true, t0.Add(time.Hour)},
		{"no user", rev("", t0.Add(2*time.Hour), ""), "user id", false, t0.Add(time.Hour)},
		{"a user id too long", rev(strings.Repeat("u", MaxUserID+1), t0, ""), "user id", false, t0.Add(time.Hour)},
		{"no time", rev("op1", time.Time{}, ""), "without a time", false, t0.Add(time.Hour)},
		{"a reason too long", rev("op1", t0.Add(2*time.Hour), strings.Repeat("r", MaxRevokeReason+1)), "reason", false, t0.Add(time.Hour)},
		{"the user put again", jsonEntry(t, TypeUser, master.User{ID: "op1", Role: master.RoleLead, Clients: []string{"*"}}), "", true, t0.Add(time.Hour)},
	} {
		before, _ := hashOf(t, st)
		res := l.apply(t, tc.entry)[0]
		after, _ := hashOf(t, st)
		err, _ := res.(error)
		switch {
		case tc.reject != "" && (!errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), tc.reject)):
			t.Errorf("%s: result %v, want a rejection about %q", tc.name, res, tc.reject)
		case tc.reject == "" && err != nil:
			t.Errorf("%s: rejected: %v", tc.name, err)
		}
		if (before != after) != tc.changed {
			t.Errorf("%s: state changed %v, want %v", tc.name, before != after, tc.changed)
		}
		if got, ok := res.(RevokeUserCerts); ok && !got.At.Equal(tc.wantAt) {
			t.Errorf("%s: answered the revocation at %v, want %v", tc.name, got.At, tc.wantAt)
		}
		rec, err := revocationOf(t, st, "op1")
		if err != nil || !rec.At.Equal(tc.wantAt) {
			t.Errorf("%s: revocation in effect %v (%v), want %v", tc.name, rec.At, err, tc.wantAt)
		}
	}
	rec, _ := revocationOf(t, st, "op1")
	if rec.Reason != "left" || rec.By != "admin" {
		t.Errorf("kept revocation %+v", rec)
	}
	if _, err := revocationOf(t, st, "admin"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("a user never revoked: %v", err)
	}
}

// TestRevokeUserCertsDeterministic: two replicas applying the same log,
// one in a single batch and one entry by entry, and a third replaying
// the log over itself after a restart, end with the same state.
func TestRevokeUserCertsDeterministic(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var entries [][]byte
	for _, r := range []struct {
		user string
		min  int
	}{{"op1", 0}, {"op2", 2}, {"op1", 4}, {"lead", 1}, {"op2", 3}, {"op1", 1}} {
		at := t0.Add(time.Duration(r.min) * time.Minute)
		entries = append(entries, jsonEntry(t, TypeRevokeUserCerts, RevokeUserCerts{User: r.user, At: at, By: "admin"}))
	}
	a, b, c := openStore(t), openStore(t), openStore(t)
	(&log{p: newProc(t, a)}).apply(t, entries...)
	lb := &log{p: newProc(t, b)}
	for _, e := range entries {
		lb.apply(t, e)
	}
	lc := &log{p: newProc(t, c)}
	lc.apply(t, entries...)
	// A restart replays entries at or below the applied index: skipped.
	replay := make([]Entry, len(entries))
	for i, e := range entries {
		replay[i] = Entry{Index: uint64(i + 1), Data: e}
	}
	newProc(t, c).Apply(replay)
	ha, ia := hashOf(t, a)
	hb, ib := hashOf(t, b)
	hc, ic := hashOf(t, c)
	if ha != hb || ha != hc || ia != ib || ia != ic {
		t.Fatalf("replicas differ: %s@%d %s@%d %s@%d", ha, ia, hb, ib, hc, ic)
	}
	// op1 was revoked at +0, +4 and +1 minutes: the latest stands.
	if rec, err := revocationOf(t, a, "op1"); err != nil || !rec.At.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("op1: %+v %v", rec, err)
	}
}

// TestUserCertRevocationRefuses: against certificates a CA really
// signs, a revocation refuses every certificate signed up to the end of
// its second and accepts those signed from the next second on.
func TestUserCertRevocationRefuses(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 400_000_000, time.UTC)
	rec := state.UserCertRevocation{User: "op1", At: at}
	clock := at.AddDate(-2, 0, 0)
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "s", Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		signed  time.Time
		refused bool
	}{
		{"a year before", at.AddDate(-1, 0, 0), true},
		{"a second before", at.Add(-time.Second), true},
		{"the same instant", at, true},
		{"later in the same second", at.Add(500 * time.Millisecond), true},
		{"the next whole second", rec.FirstAccepted(), false},
		{"a minute later", at.Add(time.Minute), false},
		{"more than the backdate later", at.Add(certs.Backdate + time.Minute), false},
	} {
		clock = tc.signed
		leaf, err := ca.IssueUser("op1", "operator")
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Refuses(leaf.Cert.NotBefore, certs.Backdate); got != tc.refused {
			t.Errorf("%s: NotBefore %v refused %v, want %v", tc.name, leaf.Cert.NotBefore, got, tc.refused)
		}
	}
	if want := time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC); !rec.FirstAccepted().Equal(want) {
		t.Errorf("first accepted %v, want %v", rec.FirstAccepted(), want)
	}
}

// FuzzRevokeUserCerts: any payload that decodes as a RevokeUserCerts is
// either rejected, changing nothing, or kept; applying it again changes
// nothing, and the revocation in effect is never earlier than before.
func FuzzRevokeUserCerts(f *testing.F) {
	f.Add([]byte(`{"user":"op1","at":"2026-03-01T10:00:00.5Z","by":"admin","reason":"key lost"}`))
	f.Add([]byte(`{"user":"","at":"2026-03-01T10:00:00Z"}`))
	f.Add([]byte(`{"user":"op1"}`))
	st := openStore(f)
	l := &log{p: newProc(f, st)}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var v RevokeUserCerts
		if json.Unmarshal(payload, &v) != nil {
			return
		}
		entry := Encode(TypeRevokeUserCerts, payload)
		prev, prevErr := revocationOf(t, st, v.User)
		before, _ := hashOf(t, st)
		res := l.apply(t, entry)[0]
		after, _ := hashOf(t, st)
		if err, ok := res.(error); ok {
			if !errors.Is(err, ErrRejected) || before != after {
				t.Fatalf("rejected with %v, state changed %v", err, before != after)
			}
			return
		}
		now, err := revocationOf(t, st, v.User)
		if err != nil || (prevErr == nil && now.At.Before(prev.At)) {
			t.Fatalf("revocation went from %v to %v (%v)", prev.At, now.At, err)
		}
		l.apply(t, entry)
		if again, _ := hashOf(t, st); again != after {
			t.Fatal("applying the same revocation again changed the state")
		}
	})
}
