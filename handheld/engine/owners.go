package engine

import (
	"errors"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/unit"
)

// ownersIn is unit.Owners over the replica's products: the engine
// evaluates events with the site's rule that a GTIN belongs to its
// product's client, so a scan of another client's product is refused on
// the device, offline, as the site would refuse it. A product the
// replica does not hold (another client's, when the signed-in user is
// not granted it) is judged by the site.
func ownersIn(tx *store.Tx) unit.Owners {
	return func(gtin string) (string, bool, error) {
		p, err := tx.Product(gtin)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", false, nil
		case err != nil:
			return "", false, err
		}
		return p.Client, true, nil
	}
}
