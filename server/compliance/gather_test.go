package compliance

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// A shipment whose container holds another owner's unit, or that has
// nothing to ship, or a destination with no GLN, has no document.
func TestGatherShipmentRefuses(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c1 := event.SSCC("003000100000000015")
	mine, theirs := event.SGTIN("00300010123455", "A"), event.SGTIN("00300020123452", "B")
	tx := st.Begin()
	for _, u := range []unit.State{
		{Key: c1, Client: "a", Status: unit.StatusPacked, Version: 1},
		{Key: mine, Client: "a", Status: unit.StatusPacked, Parent: c1, Version: 1},
		{Key: theirs, Client: "b", Status: unit.StatusPacked, Parent: c1, Version: 1},
	} {
		if err := tx.PutUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.PutPartner(master.Partner{ID: "nogln", Name: "No GLN"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sh   master.Shipment
		want string
	}{
		{"mixed owners", master.Shipment{ID: "S1", Client: "a", Destination: "0399999999991", Containers: []event.Key{c1}}, "mixes owners"},
		{"nothing to ship", master.Shipment{ID: "S2", Client: "a", Destination: "0399999999991"}, "no containers"},
		{"a partner with no GLN", master.Shipment{ID: "S3", Client: "a", Destination: "nogln", Containers: []event.Key{c1}}, "no GLN"},
	} {
		err := st.View(func(r *state.Reader) error {
			_, err := GatherShipment(r, tc.sh, time.Now())
			return err
		})
		if !errors.Is(err, ErrShipment) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
