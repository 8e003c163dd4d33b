package syncsite_test

import (
	"context"
	"testing"

	"github.com/custodyhq/custody/sync/wire"
)

// BenchmarkResyncSnapshot: what building one device's RESYNC costs the
// node: Site.Snapshot of a site with 100,000 expected units, then the
// wire records cut into frame-sized parts, as the session does before it
// sends the first part. B/op is the memory one resync holds.
func BenchmarkResyncSnapshot(b *testing.B) {
	const units = 100_000
	r := newRig(b)
	r.seed(b, 0)
	r.importASN(b, "BIG", units)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		snap, cur, err := r.site.Snapshot(context.Background(), "dev-b", "op")
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Units) < units {
			b.Fatalf("snapshot of %d units", len(snap.Units))
		}
		recs := wire.RecordsToWire(&snap, nil)
		parts, err := recs.Split(1<<20 - wire.HeaderMax - len(cur.Cluster) - 48)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(parts)), "parts")
	}
}
