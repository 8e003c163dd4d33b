package api

import (
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// unitWire is a unit with the holds it inherits from lot and product
// holds (its own holds and completeness are written by name already).
type unitWire struct {
	unit.State
	Inherited string `json:"inheritedHolds,omitempty"`
}

func toUnit(st unit.State, inherited event.Holds) unitWire {
	return unitWire{State: st, Inherited: inherited.String()}
}

// unitsOut names the holds of a page of units, reading each GTIN and
// lot's inherited holds once.
func unitsOut(r *state.Reader, p state.Page[unit.State]) (list[unitWire], error) {
	inh := map[string]event.Holds{}
	out := make([]unitWire, len(p.Items))
	for i, st := range p.Items {
		ck := st.Key.GTIN() + "\x00" + st.Lot
		h, ok := inh[ck]
		if !ok {
			var err error
			if h, err = r.Inherited(st); err != nil {
				return list[unitWire]{}, err
			}
			inh[ck] = h
		}
		out[i] = toUnit(st, h)
	}
	l := items(out)
	l.Next = p.Next
	return l, nil
}
