package api

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// A GTIN belongs to one client, its product's owner (unit.GTINOwned):
// events, ASNs, orders and shipments that name another client's GTIN
// are refused here (400, naming the field) before anything is proposed,
// and again at apply, in log order (the processor's owners.go).

// ownersIn is unit.Owners over a state reader.
func ownersIn(r *state.Reader) unit.Owners {
	return func(gtin string) (string, bool, error) {
		p, err := r.Product(gtin)
		switch {
		case errors.Is(err, state.ErrNotFound):
			return "", false, nil
		case err != nil:
			return "", false, err
		}
		return p.Client, true, nil
	}
}

// gtinOf is one GTIN a request names and the client it names it for.
type gtinOf struct{ gtin, client string }

// checkOwners refuses the first of n GTINs (at) that is a product of a
// client other than its own; field names where it is, for the answer.
func (s *Server) checkOwners(n int, at func(i int) gtinOf, field func(i int) string) error {
	if n == 0 {
		return nil
	}
	return s.node.State().View(func(r *state.Reader) error {
		owners := ownersIn(r)
		seen := map[gtinOf]bool{}
		for i := range n {
			g := at(i)
			if g.gtin == "" || seen[g] {
				continue
			}
			seen[g] = true
			why, err := unit.GTINOwned(owners, g.gtin, g.client)
			if err != nil {
				return err
			}
			if why != "" {
				return badField(field(i), "%s", why)
			}
		}
		return nil
	})
}

// eventsOwned checks the subjects of submitted events.
func (s *Server) eventsOwned(evs []event.Event) error {
	type at struct{ ev, sub int }
	var subs []at
	for i := range evs {
		for j := range evs[i].Subjects {
			subs = append(subs, at{i, j})
		}
	}
	return s.checkOwners(len(subs),
		func(i int) gtinOf {
			ev := &evs[subs[i].ev]
			return gtinOf{ev.Subjects[subs[i].sub].Key.GTIN(), ev.Client}
		},
		func(i int) string { return fmt.Sprintf("events[%d].subjects[%d].key", subs[i].ev, subs[i].sub) })
}

// asnOwned checks the items of an ASN.
func (s *Server) asnOwned(a *master.ASN) error {
	return s.checkOwners(len(a.Items),
		func(i int) gtinOf { return gtinOf{a.Items[i].Key.GTIN(), a.Client} },
		func(i int) string { return fmt.Sprintf("items[%d].key", i) })
}

// orderOwned checks the lines of an order.
func (s *Server) orderOwned(o *master.Order) error {
	return s.checkOwners(len(o.Lines),
		func(i int) gtinOf { return gtinOf{o.Lines[i].GTIN, o.Client} },
		func(i int) string { return fmt.Sprintf("lines[%d].gtin", i) })
}

// shipmentOwned checks the containers of a shipment.
func (s *Server) shipmentOwned(v *master.Shipment) error {
	return s.checkOwners(len(v.Containers),
		func(i int) gtinOf { return gtinOf{v.Containers[i].GTIN(), v.Client} },
		func(i int) string { return fmt.Sprintf("containers[%d]", i) })
}
