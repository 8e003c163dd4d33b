package command

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// A GTIN belongs to one client, its product's owner (unit.GTINOwned).
// The API refuses an event, ASN, order or shipment that names another
// client's GTIN; apply refuses it again, in log order, against the
// product master data as it stands at that entry: events through
// unit.Env.Owners (the subject is refused, nothing is created), the
// records here (the command is rejected and changes nothing).

// productOwner is what the batch remembers of a GTIN's product.
type productOwner struct {
	client string
	ok     bool
}

// owner looks up who owns gtin, through a cache the batch keeps for its
// entries (a product put in the batch drops its GTIN from it:
// putProduct). It is the unit.Owners the batch's events are evaluated
// with.
func (b *batch) owner(gtin string) (string, bool, error) {
	if o, hit := b.owners[gtin]; hit {
		return o.client, o.ok, nil
	}
	p, err := b.tx.Product(gtin)
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return "", false, err
	}
	o := productOwner{client: p.Client, ok: err == nil}
	if b.owners == nil {
		b.owners = map[string]productOwner{}
	}
	b.owners[gtin] = o
	return o.client, o.ok, nil
}

// putProduct stores a product and forgets what the batch knew of its
// GTIN's owner.
func (b *batch) putProduct(p master.Product) error {
	delete(b.owners, p.GTIN)
	return b.tx.PutProduct(p)
}

// ownGTINs rejects a command of client that names a GTIN another
// client owns. what says where each GTIN is ("ASN A1 item 3").
func (b *batch) ownGTINs(client string, n int, gtin func(i int) (string, string)) error {
	for i := range n {
		g, what := gtin(i)
		why, err := unit.GTINOwned(b.owner, g, client)
		must(err, "product owner")
		if why != "" {
			return fmt.Errorf("%w: %s: %s", ErrRejected, what, why)
		}
	}
	return nil
}

// asnOwned rejects an ASN that announces another client's GTIN.
func (b *batch) asnOwned(a *master.ASN, start int) error {
	return b.ownGTINs(a.Client, len(a.Items), func(i int) (string, string) {
		return a.Items[i].Key.GTIN(), fmt.Sprintf("ASN %s item %d", a.ID, start+i+1)
	})
}

// orderOwned rejects an order with a line of another client's GTIN.
func (b *batch) orderOwned(o *master.Order) error {
	return b.ownGTINs(o.Client, len(o.Lines), func(i int) (string, string) {
		return o.Lines[i].GTIN, fmt.Sprintf("order %s line %s", o.ID, o.Lines[i].ID)
	})
}

// shipmentOwned rejects a shipment with a container of another client's
// GTIN (its containers must also be units of its client: the processor
// checks that beside).
func (b *batch) shipmentOwned(s *master.Shipment) error {
	return b.ownGTINs(s.Client, len(s.Containers), func(i int) (string, string) {
		return s.Containers[i].GTIN(), fmt.Sprintf("shipment %s container %s", s.ID, s.Containers[i])
	})
}
