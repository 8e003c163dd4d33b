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

func TestWorkOf(t *testing.T) {
	ev := &event.Event{Device: "pck-2", User: "maria"}
	cases := []struct {
		of               WorkOf
		key, noun, peers string
		rule             unit.Rule
	}{
		{WorkDevice, "pck-2", "device", "the fleet", RuleWorkShape},
		{WorkUser, "maria", "user", "the staff", RuleUserShape},
	}
	for _, c := range cases {
		if got := c.of.Key(ev); got != c.key {
			t.Errorf("%s key %q, want %q", c.noun, got, c.key)
		}
		if c.of.Noun() != c.noun || c.of.Peers() != c.peers || c.of.Rule() != c.rule {
			t.Errorf("%d: %s, %s, %s", c.of, c.of.Noun(), c.of.Peers(), c.of.Rule())
		}
	}
}

// workSite feeds an analyzer scans by users on devices.
type workSite struct {
	a   *Analyzer
	seq uint64
	t   time.Time
}

// scan feeds one scan and returns the work-shape findings it raised (the
// units are made up: the other signals' findings are left out).
func (s *workSite) scan(user, dev string, kind event.Kind, place string, refused bool) []Finding {
	s.seq++
	s.t = s.t.Add(5 * time.Second)
	k := event.SGTIN(gtin, fmt.Sprintf("%012d", s.seq))
	ev := event.Event{ID: event.ID{byte(s.seq >> 16), byte(s.seq >> 8), byte(s.seq), 2}, Device: dev, Seq: s.seq,
		HLC: hlc.New(s.t.UnixMilli(), 0), User: user, Site: "site", Client: "acme", Kind: kind,
		Subjects: []event.Subject{{Key: k}}, Ctx: event.Context{To: place}}
	v := unit.VerdictApplied
	if refused {
		v = unit.VerdictRefused
	}
	var out []Finding
	for _, f := range s.a.ObserveEvent(&ev, &unit.Result{Verdict: v, Subjects: []unit.SubjectResult{{Key: k, Verdict: v}}}) {
		if f.Rule == RuleWorkShape || f.Rule == RuleUserShape {
			out = append(out, f)
		}
	}
	return out
}

// normal is an hour or so of ordinary work: eight users on six devices,
// each user moving between two devices, one scan in 200 refused.
func (s *workSite) normal(n int) []Finding {
	devices := []string{"rcv-1", "mov-1", "cnt-1", "pck-1", "pck-2", "shp-1"}
	kinds := []event.Kind{event.KindReceive, event.KindMove, event.KindCount, event.KindPick, event.KindPick, event.KindShip}
	var out []Finding
	for i := range n {
		u := i % 8
		d := (u + (i/800)%2) % len(devices)
		place := fmt.Sprintf("B-%02d", (i/3)%40)
		out = append(out, s.scan(fmt.Sprintf("user-%d", u), devices[d], kinds[d], place, i%200 == 7)...)
	}
	return out
}

func trainedWorkSite(t *testing.T) *workSite {
	t.Helper()
	s := &workSite{a: NewAnalyzer(Config{RetrainEvery: 1 << 30}), t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	if fs := s.normal(8000); len(fs) != 0 {
		t.Fatalf("ordinary work raised %v", fs)
	}
	s.a.Retrain()
	for _, tr := range s.a.work {
		if !tr.model.Ready() {
			t.Fatalf("the %s model is not ready after ordinary work", tr.of.Noun())
		}
	}
	return s
}

func TestUserWorkShape(t *testing.T) {
	// odd is a user counting across the bins on four devices, every
	// other scan a code the site refuses, between the devices' own work.
	odd := func(s *workSite, user string, n int) []Finding {
		var out []Finding
		devs := []string{"rcv-1", "cnt-1", "pck-1", "pck-2"}
		for i := range n {
			dev := devs[i*len(devs)/n]
			kind := event.KindCount
			if i%2 == 1 {
				kind = event.KindPick
			}
			out = append(out, s.scan(user, dev, kind, fmt.Sprintf("Z-%02d", i), i%2 == 1)...)
			out = append(out, s.normal(3)...)
		}
		return out
	}
	cases := []struct {
		name    string
		trained bool
		setup   func(a *Analyzer)
		run     func(s *workSite) []Finding
		want    string // rules raised, in order
	}{
		{"a diverter over four devices, a whole window", true, nil,
			func(s *workSite) []Finding { return odd(s, "temp-1", 40) }, "USER_SHAPE"},
		{"one scan short of a window", true, nil,
			func(s *workSite) []Finding { return odd(s, "temp-1", 39) }, ""},
		{"two windows: raised once", true, nil,
			func(s *workSite) []Finding { return odd(s, "temp-1", 80) }, "USER_SHAPE"},
		{"a false alarm silenced for that user", true, func(a *Analyzer) { a.Suppress(cause(RuleUserShape, "temp-1")) },
			func(s *workSite) []Finding { return odd(s, "temp-1", 40) }, ""},
		{"silenced for another user", true, func(a *Analyzer) { a.Suppress(cause(RuleUserShape, "temp-2")) },
			func(s *workSite) []Finding { return odd(s, "temp-1", 40) }, "USER_SHAPE"},
		{"no model yet", false, nil,
			func(s *workSite) []Finding { return odd(s, "temp-1", 40) }, ""},
		{"a user moving between devices, working as usual", true, nil,
			func(s *workSite) []Finding {
				var out []Finding
				for i := range 80 {
					dev := []string{"pck-1", "pck-2", "shp-1", "mov-1"}[i/20]
					kind := []event.Kind{event.KindPick, event.KindPick, event.KindShip, event.KindMove}[i/20]
					out = append(out, s.scan("user-3", dev, kind, fmt.Sprintf("B-%02d", i/3), false)...)
				}
				return out
			}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s *workSite
			if c.trained {
				s = trainedWorkSite(t)
			} else {
				s = &workSite{a: NewAnalyzer(Config{}), t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
			}
			if c.setup != nil {
				c.setup(s.a)
			}
			fs := c.run(s)
			if got := rules(fs); got != c.want {
				t.Fatalf("raised %q, want %q: %v", got, c.want, fs)
			}
			if c.want == "" {
				return
			}
			f := fs[0]
			if f.Cause != cause(RuleUserShape, "temp-1") || !strings.HasPrefix(f.Detail, "user temp-1's last 40 scans do not look like the staff's work") ||
				!strings.Contains(f.Detail, "refused where the staff has") || f.Score < 0.9 {
				t.Fatalf("finding %+v", f)
			}
		})
	}
}
