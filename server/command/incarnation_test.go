package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/state"
)

func incarnationOf(t testing.TB, st *state.Store) string {
	t.Helper()
	var inc string
	if err := st.View(func(r *state.Reader) error { var err error; inc, err = r.Incarnation(); return err }); err != nil {
		t.Fatal(err)
	}
	return inc
}

// The first incarnation the log carries is kept: a later one (a second
// leader that found none) changes nothing and is answered with the id
// in effect; an empty or oversized id is refused.
func TestIncarnationIsSetOnce(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	if inc := incarnationOf(t, st); inc != "" {
		t.Fatalf("a new state has incarnation %q", inc)
	}
	for _, tc := range []struct {
		id      string
		want    any
		refused bool
	}{
		{"", nil, true},
		{strings.Repeat("x", maxIncarnation+1), nil, true},
		{"first", "first", false},
		{"second", "first", false},
		{"first", "first", false},
	} {
		res := l.apply(t, jsonEntry(t, TypeIncarnation, Incarnation{ID: tc.id}))[0]
		if err, ok := res.(error); ok != tc.refused || ok && !errors.Is(err, ErrRejected) {
			t.Fatalf("%q: %v", tc.id, res)
		}
		if !tc.refused && res != tc.want {
			t.Fatalf("%q: result %v, want %v", tc.id, res, tc.want)
		}
	}
	if inc := incarnationOf(t, st); inc != "first" {
		t.Fatalf("incarnation %q", inc)
	}
}
