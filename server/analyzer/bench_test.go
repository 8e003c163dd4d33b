package analyzer

import (
	"testing"

	"github.com/custodyhq/custody/server/supplychain"
	"github.com/custodyhq/custody/shared/signals"
)

// BenchmarkAnalyzer measures the signals' own work per event (one
// goroutine, so one core): generated data with the rules' verdicts
// computed beforehand, fed to a fresh analyzer. Reported as events/s.
func BenchmarkAnalyzer(b *testing.B) {
	r := supplychain.Replay(supplychain.Generate(supplychain.Options{Seed: 1, Events: 100000}))
	b.ResetTimer()
	for b.Loop() {
		r.Feed(signals.NewAnalyzer(signals.Config{}))
	}
	b.ReportMetric(float64(r.Data.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
