package engine

import (
	"testing"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/unit"
)

// The engine judges a GTIN's owner by the replica's products, with the
// same rule the site applies.
func TestOwnersFromTheReplica(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	p := r.fx.Snapshot.Products[0]
	err := r.st.View(func(tx *store.Tx) error {
		owners := ownersIn(tx)
		for _, tc := range []struct {
			gtin, client string
			refused      bool
		}{
			{p.GTIN, p.Client, false},
			{p.GTIN, p.Client + "-other", true},
			{"00300030123459", p.Client + "-other", false}, // no such product: the site judges it
		} {
			why, err := unit.GTINOwned(owners, tc.gtin, tc.client)
			if err != nil {
				return err
			}
			if (why != "") != tc.refused {
				t.Errorf("%s for %s: %q", tc.gtin, tc.client, why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
