package compliance

import (
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// maxDepth bounds a walk down containers.
const maxDepth = 8

// GatherShipment reads from the site's state what the outbound document
// of shipment sh is made of: its containers and everything in them, the
// owner and its products, the destination's GLN, and when each container
// was packed and the shipment left (from the events' own times). at
// stands in for a time no event gives. The API and the console both
// answer the document made from it. A shipment with no containers, a
// destination with no GLN, or containers holding another owner's units
// is ErrShipment.
func GatherShipment(r *state.Reader, sh master.Shipment, at time.Time) (ShipmentInput, error) {
	site, err := r.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return ShipmentInput{}, err
	}
	in := ShipmentInput{Shipment: sh, Site: site, At: at, SSCCPrefixLen: len(site.SSCCPrefix),
		Packed: map[event.Key]time.Time{}, Products: map[string]master.Product{}}
	if in.Owner, err = r.Client(sh.Client); err != nil && !errors.Is(err, state.ErrNotFound) {
		return in, err
	}
	prefix := map[string]int{}
	in.PrefixLen = func(g string) int { return prefix[g] }
	if in.Shipment.Destination, err = destinationGLN(r, sh.Destination); err != nil {
		return in, err
	}
	var walk func(k event.Key, depth int) (bool, error)
	walk = func(k event.Key, depth int) (bool, error) {
		u, err := r.Unit(k)
		if err != nil {
			return false, err
		}
		if !u.Known() {
			return false, nil
		}
		if u.Client != sh.Client {
			// One document speaks for one owner (the seller).
			return false, fmt.Errorf("%w %s mixes owners: %s is not a unit of client %q", ErrShipment, sh.ID, k, sh.Client)
		}
		in.Units = append(in.Units, u)
		if g := k.GTIN(); g != "" {
			if _, ok := prefix[g]; !ok {
				p, err := r.Product(g)
				if err == nil {
					prefix[g], in.Products[g] = p.CompanyPrefixLen, p
				} else if !errors.Is(err, state.ErrNotFound) {
					return false, err
				}
			}
		}
		if depth >= maxDepth {
			return true, nil
		}
		kids, err := r.Children(k)
		if err != nil {
			return false, err
		}
		if len(kids) > 0 || depth == 0 {
			if err := eventTimes(r, k, sh.ID, depth == 0, &in); err != nil {
				return false, err
			}
		}
		for _, ch := range kids {
			if _, err := walk(ch, depth+1); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	in.Shipment.Containers = nil
	for _, k := range sh.Containers {
		ok, err := walk(k, 0)
		if err != nil {
			return in, err
		}
		if ok {
			in.Shipment.Containers = append(in.Shipment.Containers, k)
		}
	}
	if len(in.Shipment.Containers) == 0 {
		return in, fmt.Errorf("%w %s has no containers yet", ErrShipment, sh.ID)
	}
	return in, nil
}

// destinationGLN is how the outbound document names a shipment's
// destination: a GLN or URI as given, a partner id as the partner's GLN.
func destinationGLN(r *state.Reader, d string) (string, error) {
	if CheckDestination(d) == nil {
		return d, nil
	}
	p, err := r.Partner(d)
	if errors.Is(err, state.ErrNotFound) {
		return "", fmt.Errorf("%w destination %q is neither a 13-digit GLN, an absolute URI nor a partner id", ErrShipment, d)
	}
	if err != nil {
		return "", err
	}
	if p.GLN == "" || CheckDestination(p.GLN) != nil {
		return "", fmt.Errorf("%w: partner %s has no GLN to name it in an EPCIS document", ErrShipment, d)
	}
	return p.GLN, nil
}

// eventTimes reads from k's history when it was last packed and, for a
// container of shipment id, when it last left on it. Events refused for
// k did not happen to it.
func eventTimes(r *state.Reader, k event.Key, id string, top bool, in *ShipmentInput) error {
	hist, err := r.History(k, 0)
	if err != nil {
		return err
	}
	for i := range hist {
		ev := &hist[i].Event
		if !happened(hist[i].Result, k) {
			continue
		}
		at := ev.HLC.Time()
		switch {
		case ev.Kind == event.KindPack && ev.Ctx.Parent == k:
			in.Packed[k] = at
		case top && ev.Kind == event.KindShip && ev.Ctx.Shipment == id && at.After(in.Shipped):
			in.Shipped = at
		}
	}
	return nil
}

func happened(res *unit.Result, k event.Key) bool {
	if res == nil {
		return false
	}
	for _, s := range res.Subjects {
		if s.Key == k && s.Verdict == unit.VerdictRefused {
			return false
		}
	}
	return true
}
