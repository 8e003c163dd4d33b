package unit

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// TestLookupRecordsNothing: a look-up is applied but changes no unit,
// bumps no version and raises nothing, whatever the unit's state, even
// from a device whose clock runs ahead, or of a unit the site does not
// know or another client holds.
func TestLookupRecordsNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(st *MemStore)
		key   event.Key
		env   Env
	}{
		{"in stock", func(st *MemStore) { receivePallet(t, st, 3) }, gtinUnit(1), Env{}},
		{"container", func(st *MemStore) { receivePallet(t, st, 3) }, caseK, Env{}},
		{"unknown unit", func(st *MemStore) {}, gtinUnit(9), Env{}},
		{"on hold", func(st *MemStore) {
			receivePallet(t, st, 3)
			mustEval(t, st, mk("dev-1", 5, event.KindHold, event.Context{Hold: event.HoldSuspect}, gtinUnit(0)), Env{})
		}, gtinUnit(0), Env{}},
		{"clock ahead", func(st *MemStore) { receivePallet(t, st, 3) }, gtinUnit(2), Env{Received: hlc.New(t0.Add(-time.Hour).UnixMilli(), 0)}},
		{"another client's", func(st *MemStore) {
			receivePallet(t, st, 3)
			u := st.Units[gtinUnit(1)]
			u.Client = "globex"
			st.Units[u.Key] = u
		}, gtinUnit(1), Env{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := NewMemStore()
			tc.setup(st)
			before, xs := st.Hash(), len(st.Exceptions)
			cur := st.Units[tc.key]
			r := mustEval(t, st, mk("dev-2", 40, event.KindLookup, event.Context{}, tc.key), tc.env)
			if r.Verdict != VerdictApplied || len(r.Subjects) != 0 || len(r.Exceptions()) != 0 || r.Reason != "" {
				t.Fatalf("lookup: %+v", r)
			}
			if st.Hash() != before || len(st.Exceptions) != xs || st.Units[tc.key] != cur {
				t.Fatalf("lookup changed the store: %+v -> %+v", cur, st.Units[tc.key])
			}
			out := Apply(Input{Current: cur, Event: mk("dev-2", 41, event.KindLookup, event.Context{}, tc.key), Subject: event.Subject{Key: tc.key}})
			if out.Verdict != VerdictApplied || out.Changed || len(out.Findings) != 0 || out.State.Version != cur.Version {
				t.Fatalf("apply: %+v", out)
			}
		})
	}
	if !Notes(event.KindLookup) || Records(event.KindLookup) {
		t.Fatal("a look-up is a note, not a workflow record")
	}
	for _, k := range event.Kinds() {
		if k != event.KindLookup && Notes(k) {
			t.Errorf("%s is not a note", k)
		}
	}
}
