package protocol

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

func TestCursorText(t *testing.T) {
	cases := []struct {
		in   string
		want Cursor
		err  bool
	}{
		{"", Cursor{}, false},
		{"site-a/1/99", Cursor{Cluster: "site-a", Epoch: 1, Index: 99}, false},
		{"a/b/c/2/3", Cursor{Cluster: "a/b/c", Epoch: 2, Index: 3}, false},
		{"site-a/1", Cursor{}, true},
		{"/1/2", Cursor{}, true},
		{"site-a/x/2", Cursor{}, true},
		{"site-a/1/-2", Cursor{}, true},
		{"site-a/1/18446744073709551616", Cursor{}, true},
	}
	for _, tc := range cases {
		got, err := ParseCursor(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseCursor(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrCursor) {
			t.Errorf("ParseCursor(%q): error %v is not ErrCursor", tc.in, err)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add("site-a/1/99")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		back, err := ParseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%q parses to %+v, which round-trips to %+v, %v", s, c, back, err)
		}
	})
}

func TestLimitsClamp(t *testing.T) {
	if got := (Limits{}).Clamp(); got != DefaultLimits() {
		t.Errorf("zero limits clamp to %+v", got)
	}
	got := Limits{MaxFrame: 8 << 20, MaxPush: 50_000, MaxInFlight: 100}.Clamp()
	if got != (Limits{MaxFrame: HardMaxFrame, MaxPush: HardMaxPush, MaxInFlight: HardMaxInFlight}) {
		t.Errorf("large limits clamp to %+v", got)
	}
	small := Limits{MaxFrame: 4096, MaxPush: 10, MaxInFlight: 1}
	if small.Clamp() != small {
		t.Errorf("small limits changed to %+v", small.Clamp())
	}
}

func TestVerdictFromResult(t *testing.T) {
	cases := []struct {
		r    unit.Result
		want Verdict
	}{
		{unit.Result{Verdict: unit.VerdictApplied}, Verdict{Seq: 4, Outcome: OutcomeApplied}},
		{unit.Result{Verdict: unit.VerdictMerged}, Verdict{Seq: 4, Outcome: OutcomeApplied}},
		{unit.Result{Verdict: unit.VerdictConflict, Reason: "put it back", Subjects: []unit.SubjectResult{{Exceptions: []string{"X1"}}, {Exceptions: []string{"X2"}}}},
			Verdict{Seq: 4, Outcome: OutcomeConflict, Exceptions: []string{"X1", "X2"}, Message: "put it back"}},
		{unit.Result{Verdict: unit.VerdictRefused, Reason: "held"}, Verdict{Seq: 4, Outcome: OutcomeRejected, Message: "held"}},
	}
	for _, tc := range cases {
		if got := VerdictFromResult(4, tc.r); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.r.Verdict, got, tc.want)
		}
	}
	dup := Verdict{Outcome: OutcomeDuplicate, Original: OutcomeConflict}
	if dup.Final() != OutcomeConflict {
		t.Errorf("final of a remembered duplicate is %s", dup.Final())
	}
	if forgot := (Verdict{Outcome: OutcomeDuplicate}); forgot.Final() != OutcomeDuplicate {
		t.Errorf("final of a forgotten duplicate is %s", forgot.Final())
	}
}

func TestSiteErrors(t *testing.T) {
	var err error = fmt.Errorf("submit: %w", &BusyError{RetryAfter: time.Second})
	var be *BusyError
	if !errors.Is(err, ErrBusy) || !errors.As(err, &be) || be.RetryAfter != time.Second {
		t.Errorf("BusyError does not match: %v", err)
	}
	err = fmt.Errorf("submit: %w", &GapError{Expected: 17})
	var ge *GapError
	if !errors.Is(err, ErrGap) || !errors.As(err, &ge) || ge.Expected != 17 {
		t.Errorf("GapError does not match: %v", err)
	}
}

func TestCheckPush(t *testing.T) {
	ev := func(dev string, epoch uint32, seq uint64) event.Event {
		return event.Event{Device: dev, Epoch: epoch, Seq: seq}
	}
	cases := []struct {
		name string
		evs  []event.Event
		want error
	}{
		{"contiguous", []event.Event{ev("d", 1, 5), ev("d", 1, 6)}, nil},
		{"hole", []event.Event{ev("d", 1, 5), ev("d", 1, 7)}, ErrGap},
		{"wrong start", []event.Event{ev("d", 1, 6)}, ErrGap},
		{"other device", []event.Event{ev("d", 1, 5), ev("e", 1, 6)}, ErrForbidden},
		{"other epoch", []event.Event{ev("d", 2, 5)}, ErrForbidden},
	}
	for _, tc := range cases {
		if err := CheckPush("d", 1, 5, tc.evs); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestChangeSetLen(t *testing.T) {
	var cs ChangeSet
	if cs.Len() != 0 {
		t.Errorf("empty set has %d records", cs.Len())
	}
	cs.Put.Site.ID = "s"
	cs.Put.Units = make([]unit.State, 3)
	cs.Removed = []Removal{{Kind: KindOrder, ID: "o"}}
	if cs.Len() != 5 {
		t.Errorf("set has %d records, want 5", cs.Len())
	}
	for k := KindSite; k < kindEnd; k++ {
		if !k.Valid() || k.String() == "" || k.String()[0] == 'k' {
			t.Errorf("kind %d: %q", k, k)
		}
	}
}

// A push is one submission to the site: it stays within the events one
// request may carry, the limit every door shares.
func TestPushWithinTheSharedBatchLimit(t *testing.T) {
	if HardMaxPush > event.MaxBatch || DefaultLimits().MaxPush > HardMaxPush {
		t.Fatalf("HardMaxPush %d, default %d, event.MaxBatch %d", HardMaxPush, DefaultLimits().MaxPush, event.MaxBatch)
	}
}
