package supplychain

import (
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

// flatStore is a unit.Store without containers or lot holds, for
// replaying generated data (which has none) without a site.
type flatStore struct {
	units map[event.Key]unit.State
	excs  map[string]unit.Exception
	act   map[string]string
}

func newFlatStore() *flatStore {
	return &flatStore{units: map[event.Key]unit.State{}, excs: map[string]unit.Exception{}, act: map[string]string{}}
}

func (s *flatStore) Unit(k event.Key) (unit.State, error)      { return s.units[k], nil }
func (s *flatStore) PutUnit(u unit.State) error                { s.units[u.Key] = u; return nil }
func (s *flatStore) Children(event.Key) ([]event.Key, error)   { return nil, nil }
func (s *flatStore) Inherited(unit.State) (event.Holds, error) { return 0, nil }
func (s *flatStore) PutException(x unit.Exception) error {
	s.excs[x.ID] = x
	if x.Active() {
		s.act[string(x.Unit)+"|"+string(x.Rule)] = x.ID
	}
	return nil
}
func (s *flatStore) ActiveException(k event.Key, r unit.Rule) (unit.Exception, bool, error) {
	id, ok := s.act[string(k)+"|"+string(r)]
	if !ok {
		return unit.Exception{}, false, nil
	}
	x := s.excs[id]
	return x, x.Active(), nil
}

// Replayed is a generated data set with the verdicts the shared rules
// give its events, ready to feed an analyzer without a site.
type Replayed struct {
	Data    *Data
	Results [][]*unit.Result // per step, per event
}

// Replay evaluates the data's events with the shared rules, as a site
// would (ASN items become expect events).
func Replay(d *Data) *Replayed {
	st := newFlatStore()
	r := &Replayed{Data: d, Results: make([][]*unit.Result, len(d.Steps))}
	for i, step := range d.Steps {
		if step.ASN != nil {
			for j, it := range step.ASN.Items {
				ev := event.Event{ID: event.ID{0xa5, byte(i >> 16), byte(i >> 8), byte(i), byte(j >> 8), byte(j)}, Device: "asn", Seq: 1,
					HLC: hlc.New(1, 0), User: "admin", Site: "site", Client: step.ASN.Client, Kind: event.KindExpect,
					Subjects: []event.Subject{{Key: it.Key}}, Ctx: event.Context{ASN: step.ASN.ID, Lot: it.Lot, Expiry: it.Expiry}}
				if _, err := unit.Evaluate(st, &ev, unit.Env{}); err != nil {
					panic(err)
				}
			}
		}
		for j := range step.Events {
			res, err := unit.Evaluate(st, &step.Events[j], unit.Env{Received: step.Events[j].HLC})
			if err != nil {
				panic(err)
			}
			r.Results[i] = append(r.Results[i], &res)
		}
	}
	return r
}

// Feed runs the replayed data through an analyzer and returns its
// findings.
func (r *Replayed) Feed(a *signals.Analyzer) []signals.Finding {
	var out []signals.Finding
	for i, step := range r.Data.Steps {
		if step.ASN != nil {
			a.ObserveASN(step.ASN)
		}
		for j := range step.Events {
			out = append(out, a.ObserveEvent(&step.Events[j], r.Results[i][j])...)
		}
	}
	return out
}
