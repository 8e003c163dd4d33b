package command

import (
	"testing"

	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/master"
)

// BenchmarkProcessorApply is one replica's apply cost: entries of 512
// events (new units received, then mixed work) applied to Badger on
// disk, one entry per transaction as the FSM does. One op is one event.
// The site knows the client and the product first, as a warehouse does
// (else every unit received would raise UNKNOWN_GTIN).
func BenchmarkProcessorApply(b *testing.B) {
	for _, kind := range []string{"receive", "mixed"} {
		b.Run(kind, func(b *testing.B) {
			st := openStore(b)
			p := newProc(b, st)
			g := workload.New(workload.Options{Seed: 1, Devices: 64})
			p.Apply([]Entry{{Index: 1, Data: jsonEntry(b, TypeClient, master.Client{ID: "acme", Name: "Acme"})},
				{Index: 2, Data: jsonEntry(b, TypeProduct, master.Product{GTIN: "00300010123455", Client: "acme", Name: "Pill", CompanyPrefixLen: 7})}})
			const per = 512
			n := (b.N + per - 1) / per
			entries := make([][]byte, n)
			for i := range entries {
				var evs Events
				if kind == "receive" {
					evs.Events = g.Receive(per)
				} else {
					evs.Events = g.Mixed(per)
				}
				entries[i] = EncodeEvents(&evs)
			}
			b.ResetTimer()
			for i, e := range entries {
				p.Apply([]Entry{{Index: uint64(i + 3), Data: e}})
			}
			b.StopTimer()
			b.ReportMetric(float64(n*per)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
