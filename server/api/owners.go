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

// ownedGTIN is one GTIN a request names, where, and for which client.
type ownedGTIN struct {
	field, gtin, client string
}

// checkOwners refuses the first GTIN of list that is a product of a
// client other than its own.
func (s *Server) checkOwners(list []ownedGTIN) error {
	if len(list) == 0 {
		return nil
	}
	return s.node.State().View(func(r *state.Reader) error {
		owners := ownersIn(r)
		seen := map[ownedGTIN]bool{}
		for _, g := range list {
			k := ownedGTIN{gtin: g.gtin, client: g.client}
			if g.gtin == "" || seen[k] {
				continue
			}
			seen[k] = true
			why, err := unit.GTINOwned(owners, g.gtin, g.client)
			if err != nil {
				return err
			}
			if why != "" {
				return badField(g.field, "%s", why)
			}
		}
		return nil
	})
}

// eventsOwned checks the subjects of submitted events.
func (s *Server) eventsOwned(evs []event.Event) error {
	var list []ownedGTIN
	for i := range evs {
		for j, sub := range evs[i].Subjects {
			list = append(list, ownedGTIN{fmt.Sprintf("events[%d].subjects[%d].key", i, j), sub.Key.GTIN(), evs[i].Client})
		}
	}
	return s.checkOwners(list)
}

// asnOwned checks the items of an ASN.
func (s *Server) asnOwned(a *master.ASN) error {
	list := make([]ownedGTIN, len(a.Items))
	for i, it := range a.Items {
		list[i] = ownedGTIN{fmt.Sprintf("items[%d].key", i), it.Key.GTIN(), a.Client}
	}
	return s.checkOwners(list)
}

// orderOwned checks the lines of an order.
func (s *Server) orderOwned(o *master.Order) error {
	list := make([]ownedGTIN, len(o.Lines))
	for i, l := range o.Lines {
		list[i] = ownedGTIN{fmt.Sprintf("lines[%d].gtin", i), l.GTIN, o.Client}
	}
	return s.checkOwners(list)
}

// shipmentOwned checks the containers of a shipment.
func (s *Server) shipmentOwned(v *master.Shipment) error {
	list := make([]ownedGTIN, len(v.Containers))
	for i, k := range v.Containers {
		list[i] = ownedGTIN{fmt.Sprintf("containers[%d]", i), k.GTIN(), v.Client}
	}
	return s.checkOwners(list)
}
