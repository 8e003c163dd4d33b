package signals

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

func TestJudgeLookups(t *testing.T) {
	const thr = 0.999999
	cases := []struct {
		name          string
		left, of      int
		staff         float64
		support, min  int64
		ring          int
		judged, finds bool
	}{
		{"all left, staff leaves 14%", 16, 16, 0.14, 1000, 200, 16, true, true},
		{"11 of 16 left: just far enough", 11, 16, 0.14, 1000, 200, 16, true, true},
		{"10 of 16 left: within chance", 10, 16, 0.14, 1000, 200, 16, true, false},
		{"7 of 16: below half, never", 7, 16, 0.01, 1000, 200, 16, true, false},
		{"8 of 16: half, against a tiny share", 8, 16, 0.01, 1000, 200, 16, true, true},
		{"all left where the staff leaves most", 16, 16, 0.6, 1000, 200, 16, true, false},
		{"one look-up short of the ring", 15, 15, 0.14, 1000, 200, 16, false, false},
		{"staff support one short", 16, 16, 0.14, 199, 200, 16, false, false},
		{"staff support exactly enough", 16, 16, 0.14, 200, 200, 16, true, true},
		{"staff never leaves one: kept off zero", 5, 16, 0, 1000, 200, 16, true, false},
		{"nothing left", 0, 16, 0.14, 1000, 200, 16, true, false},
	}
	for _, c := range cases {
		j := JudgeLookups(c.left, c.of, c.staff, c.support, c.min, c.ring)
		if j.OK != c.judged || (j.Score >= thr) != c.finds || j.Score < 0 || j.Score > 1 {
			t.Errorf("%s: %+v", c.name, j)
		}
	}
}

// lookSite feeds an analyzer look-ups and the work that follows them.
type lookSite struct {
	a   *Analyzer
	seq uint64
	t   time.Time
}

func (s *lookSite) ev(user string, k event.Kind, key event.Key) []Finding {
	s.seq++
	s.t = s.t.Add(7 * time.Second)
	e := &event.Event{Device: "hh-" + user, Epoch: 1, Seq: s.seq, HLC: hlc.FromTime(s.t), User: user, Site: "s", Client: "acme",
		Kind: k, Subjects: []event.Subject{{Key: key}}, Ctx: event.Context{To: "A-01-01"}}
	e.ID[0], e.ID[14], e.ID[15] = 0x11, byte(s.seq>>8), byte(s.seq)
	res := &unit.Result{Verdict: unit.VerdictApplied}
	if k != event.KindLookup {
		res.Subjects = []unit.SubjectResult{{Key: key, Verdict: unit.VerdictApplied}}
	}
	return s.a.ObserveEvent(e, res)
}

func lkey(user string, i int) event.Key { return event.SGTIN(gtin, fmt.Sprintf("%s%05d", user, i)) }

// staff: each of users looks up n units and picks all but one in ten
// straight after; the rest of their work is counts of other units.
func (s *lookSite) staff(users []string, n int) []Finding {
	var out []Finding
	for i := range n {
		for _, u := range users {
			k := lkey(u, i)
			out = append(out, s.ev(u, event.KindLookup, k)...)
			if i%10 != 9 {
				out = append(out, s.ev(u, event.KindPick, k)...)
			}
			out = append(out, s.ev(u, event.KindCount, lkey(u+"c", i))...)
		}
	}
	return out
}

func TestLookupNoWork(t *testing.T) {
	users := []string{"ana", "ben", "carla", "dev"}
	cases := []struct {
		name string
		// scout's n look-ups; then after each, handled says whether
		// the scout handles it, and at which of their next events (0: not).
		n     int
		at    func(i int) int
		other bool // another user handles the scout's units
		finds bool
	}{
		{"scouting: nothing handled", 30, func(int) int { return 0 }, false, true},
		{"working: each handled at once", 30, func(int) int { return 1 }, false, false},
		{"handled at the window's last event", 30, func(int) int { return 20 }, false, false},
		{"handled one event after the window", 30, func(int) int { return 21 }, false, true},
		{"handled by someone else: still left by the scout", 30, func(int) int { return 0 }, true, true},
		{"too few look-ups to judge", 15, func(int) int { return 0 }, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &lookSite{a: NewAnalyzer(Config{RetrainEvery: 1 << 30}), t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
			if f := s.staff(users, 100); len(f) != 0 {
				t.Fatalf("the staff's own work raised %v", f)
			}
			s.a.Retrain()
			if s.a.look.support < 200 || s.a.look.share < 0.05 || s.a.look.share > 0.15 {
				t.Fatalf("staff share %v of %d", s.a.look.share, s.a.look.support)
			}
			var got []Finding
			// The scout's look-ups, each followed by the handling it
			// gets: the scout's other work fills the gap.
			for i := range c.n {
				k := lkey("scout", i)
				got = append(got, s.ev("scout", event.KindLookup, k)...)
				if c.other {
					got = append(got, s.ev("ben", event.KindPick, k)...)
				}
				at := c.at(i)
				for j := 1; j <= max(at, 1); j++ {
					kind, key := event.KindCount, lkey("scoutc", i*100+j)
					if j == at {
						kind, key = event.KindPick, k
					}
					got = append(got, s.ev("scout", kind, key)...)
				}
			}
			// Their shift goes on: every look-up comes to be judged.
			for i := range 25 {
				got = append(got, s.ev("scout", event.KindCount, lkey("scoutz", i))...)
			}
			var mine []Finding
			for _, f := range got {
				if f.Rule != RuleLookupNoWork {
					continue
				}
				if !strings.Contains(f.Cause, "scout") {
					t.Fatalf("finding on another user: %+v", f)
				}
				mine = append(mine, f)
			}
			if c.finds != (len(mine) == 1) || len(mine) > 1 {
				t.Fatalf("want a finding %v, got %+v", c.finds, mine)
			}
			if !c.finds {
				return
			}
			f := mine[0]
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(f.Units) < 11 || len(f.Events) != len(f.Units) || f.Score < 0.999999 ||
				!strings.Contains(f.Detail, "user scout looked up 16 units and did not handle") || !strings.Contains(f.Detail, "where the staff leaves 9% of 396 look-ups") {
				t.Fatalf("finding: %+v", f)
			}
			// Evidence oldest first, the finding on the last unit left.
			for i := 1; i < len(f.Units); i++ {
				if f.Units[i] <= f.Units[i-1] {
					t.Fatalf("evidence out of order: %v", f.Units)
				}
			}
			if f.Unit != f.Units[len(f.Units)-1] || f.Client != "acme" {
				t.Fatalf("finding on %s of %s, evidence %v", f.Unit, f.Client, f.Units)
			}
			ex := f.Exception()
			if ex.Rule != RuleLookupNoWork || ex.Events[0] != f.Event {
				t.Fatalf("exception: %+v", ex)
			}
		})
	}
}

// A false alarm silences the user: the same user is not raised again.
func TestLookupNoWorkSuppressed(t *testing.T) {
	s := &lookSite{a: NewAnalyzer(Config{RetrainEvery: 1 << 30}), t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	s.staff([]string{"ana", "ben", "carla", "dev"}, 100)
	s.a.Retrain()
	s.a.Suppress(cause(RuleLookupNoWork, "scout"))
	var got []Finding
	for i := range 40 {
		got = append(got, s.ev("scout", event.KindLookup, lkey("scout", i))...)
	}
	for i := range 25 {
		got = append(got, s.ev("scout", event.KindCount, lkey("scoutz", i))...)
	}
	if len(got) != 0 {
		t.Fatalf("suppressed user raised %+v", got)
	}
}
