package syncsite_test

import (
	"fmt"
	"testing"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// importASN imports an ASN of n loose units in chunks, as the API does.
func (r *rig) importASN(t testing.TB, id string, n int) {
	t.Helper()
	a := master.ASN{ID: id, Client: "c1", Supplier: "sup"}
	for i := range n {
		a.Items = append(a.Items, master.ASNItem{Key: event.SGTIN(gtin, fmt.Sprintf("%s%07d", id, i)), Lot: "L1", Expiry: "301231"})
	}
	for _, c := range command.SplitASN(a, "admin", hlc.NewClock(nil, 0).Now()) {
		r.propose(t, command.TypeASNChunk, c)
	}
}

// TestLargeASNReachesDevices: an ASN of 30,000 items is several
// megabytes as one record, more than a frame holds. A device online when
// it is imported gets it in CHANGES, a device that connects later in its
// RESYNC; both in pieces that the client joins again.
func TestLargeASNReachesDevices(t *testing.T) {
	const items = 30_000
	r := newRig(t)
	r.seed(t, 1)
	online := newDevice("dev-on", "op")
	r.run(t, online)
	waitFor(t, "the first replica", func() bool { return online.asnItems("A1") == 1 })
	r.importASN(t, "BIG", items)
	waitFor(t, "the ASN in CHANGES", func() bool { return online.asnItems("BIG") == items })

	later := newDevice("dev-later", "op")
	r.run(t, later)
	waitFor(t, "the ASN in a RESYNC", func() bool { return later.asnItems("BIG") == items })
	later.mu.Lock()
	got := len(later.units)
	later.mu.Unlock()
	if got < items {
		t.Errorf("the resynced replica has %d units, want the ASN's %d and more", got, items)
	}
}
