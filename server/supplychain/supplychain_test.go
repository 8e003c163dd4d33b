package supplychain

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

// TestGenerateIsDeterministic: one seed gives the same data, byte for
// byte; another seed gives other data.
func TestGenerateIsDeterministic(t *testing.T) {
	enc := func(seed uint64) string {
		b, err := json.Marshal(Generate(Options{Seed: seed, Events: 30000}))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b, c := enc(5), enc(5), enc(6)
	if a != b {
		t.Fatal("the same seed gave two data sets")
	}
	if a == c {
		t.Fatal("two seeds gave the same data set")
	}
}

// TestGenerateInjectsEveryPattern: every pattern is injected, at about
// its rate, each label names an event of the data, and the clean events
// are the ones no label names.
func TestGenerateInjectsEveryPattern(t *testing.T) {
	cases := []struct {
		name         string
		events, rate int
	}{
		{"default rate", 200000, 10000},
		{"frequent", 60000, 2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Generate(Options{Seed: 3, Events: c.events, Rate: c.rate})
			ids := map[event.ID]bool{}
			for _, st := range d.Steps {
				for _, ev := range st.Events {
					ids[ev.ID] = true
				}
			}
			if len(ids) != d.Events {
				t.Fatalf("%d distinct events, data says %d", len(ids), d.Events)
			}
			labelled := map[event.ID]bool{}
			per := map[Pattern]map[string]bool{}
			for _, l := range d.Labels {
				if !ids[l.Event] {
					t.Fatalf("label %+v names no event of the data", l)
				}
				labelled[l.Event] = true
				if per[l.Pattern] == nil {
					per[l.Pattern] = map[string]bool{}
				}
				key := string(l.Unit) + l.Device
				if l.Pattern == DiverterUser {
					key = l.User
				}
				per[l.Pattern][key] = true
			}
			if d.Clean != d.Events-len(labelled) {
				t.Fatalf("clean %d, events %d, labelled %d", d.Clean, d.Events, len(labelled))
			}
			for _, p := range Patterns() {
				n := len(per[p])
				if n == 0 {
					t.Errorf("%s never injected", p)
					continue
				}
				if p.rare() {
					continue // its own, rarer rate
				}
				// About one injection per rate events after the warm-up,
				// within a factor of 3; a forged lot or a wrong expiry comes
				// as a small ASN of up to 5 labelled units.
				want := float64(c.events) * 0.85 / float64(c.rate)
				most := want * 3
				if p == ForgedLot || p == WrongExpiry {
					most *= 5
				}
				if float64(n) < want/3 || float64(n) > most {
					t.Errorf("%s injected %d times, want about %.0f", p, n, want)
				}
			}
		})
	}
}

func TestGenerateStaff(t *testing.T) {
	d := Generate(Options{Seed: 5, Events: 150000})
	labelled := map[event.ID]Label{}
	for _, l := range d.Labels {
		labelled[l.Event] = l
	}
	shift := map[string]int{} // user → 0 early, 1 late
	for _, u := range earlyShift {
		shift[u] = 0
	}
	for _, u := range lateShift {
		shift[u] = 1
	}
	devsOf := map[string]map[string]bool{} // user → devices
	usersOf := map[string]map[string]bool{}
	var temps int
	for _, st := range d.Steps {
		for _, ev := range st.Events {
			if devsOf[ev.User] == nil {
				devsOf[ev.User] = map[string]bool{}
			}
			devsOf[ev.User][ev.Device] = true
			if usersOf[ev.Device] == nil {
				usersOf[ev.Device] = map[string]bool{}
			}
			usersOf[ev.Device][ev.User] = true
			l, ok := labelled[ev.ID]
			if ok && l.User != "" {
				if ev.User != l.User {
					t.Fatalf("event %s by %q, its label says %q", ev.ID, ev.User, l.User)
				}
				temps++
				continue
			}
			s, staff := shift[ev.User]
			if !staff {
				t.Fatalf("event %s of no label by %q, not one of the staff", ev.ID, ev.User)
			}
			// A shift's work may run into the next hour (a shipment
			// packed after its last pick).
			if h := ev.HLC.Time().Hour(); h < 6+8*s || h > 14+8*s {
				t.Errorf("%s of the %d shift scans at %s", ev.User, s, ev.HLC.Time())
			}
		}
	}
	if temps == 0 {
		t.Fatal("no diverter's scan carries its user")
	}
	moving := 0
	for u := range shift {
		if len(devsOf[u]) >= 3 {
			moving++
		}
	}
	if moving < len(shift)*3/4 {
		t.Errorf("%d of %d users worked on three devices or more", moving, len(shift))
	}
	for _, dev := range devices {
		if len(usersOf[dev]) < 4 {
			t.Errorf("device %s held by %d users", dev, len(usersOf[dev]))
		}
	}
	// Each diverter user spreads over four devices or more.
	spread := map[string]map[string]bool{}
	for _, st := range d.Steps {
		for _, ev := range st.Events {
			if l, ok := labelled[ev.ID]; ok && l.Pattern == DiverterUser {
				if spread[l.User] == nil {
					spread[l.User] = map[string]bool{}
				}
				spread[l.User][ev.Device] = true
			}
		}
	}
	if len(spread) == 0 {
		t.Fatal("no diverter user")
	}
	for u, devs := range spread {
		if len(devs) < 4 {
			t.Errorf("diverter %s on %d devices", u, len(devs))
		}
	}
}

// TestScoreUserPattern: a user finding is matched by the user of its
// first event: the diverter user's is true, a diverter device's user's
// is another pattern's, anyone else's a false alarm.
func TestScoreUserPattern(t *testing.T) {
	ids := []event.ID{{1}, {2}, {3}}
	data := &Data{Events: 3, Clean: 1, Steps: []Step{{Events: []event.Event{
		{ID: ids[0], User: "temp-01", Device: "pck-1"},
		{ID: ids[1], User: "temp-02", Device: "hh-01"},
		{ID: ids[2], User: "ana", Device: "pck-1"},
	}}}, Labels: []Label{
		{Pattern: DiverterUser, User: "temp-01", Event: ids[0]},
		{Pattern: DiverterDevice, Device: "hh-01", User: "temp-02", Event: ids[1]},
	}}
	x := func(id string, ev event.ID) Observed {
		return Observed{X: unit.Exception{ID: id, Rule: signals.RuleUserShape, Events: []event.ID{ev}, Devices: []string{"pck-1"}}}
	}
	cases := []struct {
		name              string
		xs                []Observed
		detected, tr, fal int
		cross             int
	}{
		{"the diverter user", []Observed{x("a", ids[0])}, 1, 1, 0, 0},
		{"a diverter device's user", []Observed{x("b", ids[1])}, 0, 0, 0, 1},
		{"one of the staff", []Observed{x("c", ids[2])}, 0, 0, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Score(data, c.xs, map[event.ID]time.Time{}, nil).Patterns[string(DiverterUser)]
			if p.Instances != 1 || p.Detected != c.detected || p.True != c.tr || p.False != c.fal || p.Cross != c.cross {
				t.Fatalf("%+v", p)
			}
		})
	}
}

// TestGenerateOneUser: data for a site's API is all one user's, with no
// diverter user (there is nobody to tell them apart from).
func TestGenerateOneUser(t *testing.T) {
	d := Generate(Options{Seed: 5, Events: 60000, Rate: 2000, DeviceRate: 8000, User: "admin"})
	for _, st := range d.Steps {
		for _, ev := range st.Events {
			if ev.User != "admin" {
				t.Fatalf("event %s by %q", ev.ID, ev.User)
			}
		}
	}
	devices := 0
	for _, l := range d.Labels {
		switch l.Pattern {
		case DiverterUser, LookupScout:
			t.Fatalf("a user pattern in one user's data: %+v", l)
		case DiverterDevice:
			devices++
		}
	}
	if devices == 0 {
		t.Fatal("no diverter device either")
	}
}

// TestGenerateLookups: the staff look units up, and most look-ups are
// followed by the same user handling the unit within their next 20
// events; a scout's look-ups are labelled, by one of the staff, and none
// is handled by them.
func TestGenerateLookups(t *testing.T) {
	d := Generate(Options{Seed: 9, Events: 150000, DeviceRate: 20000})
	label := map[event.ID]*Label{}
	for i := range d.Labels {
		label[d.Labels[i].Event] = &d.Labels[i]
	}
	staff := map[string]bool{}
	for _, u := range append(slices.Clone(earlyShift), lateShift...) {
		staff[u] = true
	}
	type open struct {
		key   event.Key
		left  int
		scout bool
	}
	opens := map[string][]open{}
	var normal, handled, scout, scoutHandled int
	scouts := map[string]bool{}
	for _, st := range d.Steps {
		for _, ev := range st.Events {
			var kept []open
			for _, o := range opens[ev.User] {
				o.left--
				switch {
				case ev.Kind != event.KindLookup && ev.Subjects[0].Key == o.key:
					switch {
					case o.left < 0:
					case o.scout:
						scoutHandled++
					default:
						handled++
					}
				case o.left > 0:
					kept = append(kept, o)
				}
			}
			opens[ev.User] = kept
			if ev.Kind != event.KindLookup {
				continue
			}
			if l := label[ev.ID]; l != nil {
				if l.Pattern != LookupScout || l.User != ev.User || !staff[ev.User] || l.Unit != ev.Subjects[0].Key {
					t.Fatalf("look-up label %+v on %+v", l, ev)
				}
				scout++
				scouts[ev.User] = true
				opens[ev.User] = append(opens[ev.User], open{ev.Subjects[0].Key, 20, true})
				continue
			}
			normal++
			opens[ev.User] = append(opens[ev.User], open{ev.Subjects[0].Key, 20, false})
		}
	}
	share := float64(handled) / float64(max(normal, 1))
	if normal < 500 || share < 0.8 || share > 0.95 {
		t.Fatalf("%d normal look-ups, %.2f handled", normal, share)
	}
	if scout < 60 || len(scouts) == 0 || scoutHandled > scout/10 {
		t.Fatalf("%d scouting look-ups by %d users, %d handled", scout, len(scouts), scoutHandled)
	}
}

// TestScoreLookupScout: a LOOKUP_NO_WORK exception is matched to the
// scout through the user of its first event.
func TestScoreLookupScout(t *testing.T) {
	ids := []event.ID{{1}, {2}, {3}}
	k := event.SGTIN("00300010123455", "X1")
	data := &Data{Events: 3, Clean: 2, Steps: []Step{{Events: []event.Event{
		{ID: ids[0], User: "ana", Device: "pck-1", Kind: event.KindLookup},
		{ID: ids[1], User: "ana", Device: "pck-1", Kind: event.KindPick},
		{ID: ids[2], User: "ben", Device: "pck-2", Kind: event.KindPick},
	}}}, Labels: []Label{{Pattern: LookupScout, User: "ana", Unit: k, Event: ids[0]}}}
	x := func(ev event.ID) Observed {
		return Observed{X: unit.Exception{ID: "x" + ev.String(), Rule: signals.RuleLookupNoWork, Unit: k, Events: []event.ID{ev}}}
	}
	cases := []struct {
		name          string
		xs            []Observed
		detected, fal int
	}{
		{"raised at the scout's later event", []Observed{x(ids[1])}, 1, 0},
		{"raised on one of the staff", []Observed{x(ids[2])}, 0, 1},
		{"not raised", nil, 0, 0},
	}
	for _, c := range cases {
		p := Score(data, c.xs, map[event.ID]time.Time{}, nil).Patterns[string(LookupScout)]
		if p.Instances != 1 || p.Detected != c.detected || p.False != c.fal {
			t.Fatalf("%s: %+v", c.name, p)
		}
	}
	if rs := RulesOf(LookupScout); len(rs) != 1 || rs[0] != signals.RuleLookupNoWork || LookupScout.Deterministic() {
		t.Fatalf("rules of the scout: %v", rs)
	}
}
