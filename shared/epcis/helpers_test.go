package epcis

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// readFixture reads a file under testdata.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normTime makes times comparable with reflect.DeepEqual: the same
// instant in UTC (the offset is kept by eventTimeZoneOffset).
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// normEvents returns a copy of the events with times normalised.
func normEvents(evs []Event) []Event {
	out := make([]Event, len(evs))
	for i, e := range evs {
		e.EventTime = normTime(e.EventTime)
		e.RecordTime = normTime(e.RecordTime)
		if e.ErrorDeclaration != nil {
			ed := *e.ErrorDeclaration
			ed.DeclarationTime = normTime(ed.DeclarationTime)
			e.ErrorDeclaration = &ed
		}
		out[i] = e
	}
	return out
}

// sameEvents reports the first difference between two event lists.
func sameEvents(t *testing.T, what string, want, got []Event) {
	t.Helper()
	w, g := normEvents(want), normEvents(got)
	if len(w) != len(g) {
		t.Fatalf("%s: %d events, want %d", what, len(g), len(w))
	}
	for i := range w {
		if !reflect.DeepEqual(w[i], g[i]) {
			t.Errorf("%s: event %d differs\nwant %#v\ngot  %#v", what, i, w[i], g[i])
		}
	}
}
