package supplychain

import (
	"encoding/json"
	"testing"

	"github.com/custodyhq/custody/shared/event"
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
