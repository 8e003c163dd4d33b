package command

import (
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// The state's lot counters equal a recount of the units after a busy
// floor's events (received, moved, picked, unpicked, packed, held,
// released, shipped, counted, decommissioned), however the entries are
// batched into transactions.
func TestLotCountsFollowTheFloor(t *testing.T) {
	for _, c := range []struct {
		name     string
		perApply int // entries in one Apply (one transaction)
	}{
		{"an entry a transaction", 1},
		{"batches of entries", 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			p := newProc(t, st)
			g := workload.New(workload.Options{Seed: 5, Devices: 8})
			var entries []Entry
			for _, m := range []struct {
				typ Type
				v   any
			}{
				{TypeSite, master.Site{ID: "site", Name: "Site", GLN: "0614141000005"}},
				{TypeClient, master.Client{ID: "acme", Name: "Acme"}},
				{TypeProduct, master.Product{GTIN: "00300010123455", Client: "acme", Name: "Pill", CompanyPrefixLen: 7}},
				{TypeUser, master.User{ID: "admin", Role: master.RoleAdmin, Clients: []string{"*"}}},
			} {
				entries = append(entries, Entry{Index: uint64(len(entries) + 1), Data: jsonEntry(t, m.typ, m.v)})
			}
			for i := range 60 {
				var evs Events
				if i < 5 {
					evs.Events = g.Receive(40)
				} else {
					evs.Events = g.Mixed(40)
				}
				entries = append(entries, Entry{Index: uint64(len(entries) + 1), Data: EncodeEvents(&evs)})
			}
			for len(entries) > 0 {
				n := min(c.perApply, len(entries))
				for i, res := range p.Apply(entries[:n]) {
					if err, ok := res.(error); ok {
						t.Fatalf("entry %d: %v", entries[i].Index, err)
					}
				}
				entries = entries[n:]
			}
			statuses := map[unit.Status]bool{}
			err := st.View(func(r *state.Reader) error {
				lots, err := r.LotCounts("00300010123455", "", true)
				for _, lc := range lots {
					for s := range lc.ByStatus {
						statuses[s] = true
					}
				}
				if err != nil {
					return err
				}
				return r.VerifyLotCounts()
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []unit.Status{unit.StatusInStock, unit.StatusPicked, unit.StatusPacked, unit.StatusShipped, unit.StatusDecommissioned} {
				if !statuses[s] {
					t.Errorf("no unit %s: the floor did not exercise the counters (%v)", s, statuses)
				}
			}
		})
	}
}
