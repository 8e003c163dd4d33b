package command

import (
	"fmt"
	"testing"
)

// BenchmarkASNImport is one replica's apply cost of a 30,000-item ASN on
// Badger on disk: in chunks, batched 32 entries per Apply as the FSM is
// handed them, against one whole entry (the old TypeASN, which splits
// its transaction). One op is one import; items/s is the rate.
func BenchmarkASNImport(b *testing.B) {
	const n = 30000
	for _, mode := range []string{"chunks", "whole"} {
		b.Run(mode, func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				st := openStore(b)
				l := &log{p: newProc(b, st)}
				l.apply(b, jsonEntry(b, TypeUser, admin))
				a := bigASN(fmt.Sprintf("A-B%d", i), n)
				var entries [][]byte
				if mode == "chunks" {
					entries = chunkEntries(b, SplitASN(a, "admin", 1))
				} else {
					entries = [][]byte{jsonEntry(b, TypeASN, ASN{ASN: a, User: "admin", At: 1, IDs: ASNEventIDs(&a)})}
				}
				b.StartTimer()
				for len(entries) > 0 {
					k := min(32, len(entries))
					l.apply(b, entries[:k]...)
					entries = entries[k:]
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
