package analyzer

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/supplychain"
	"github.com/custodyhq/custody/shared/hlc"
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

// BenchmarkAnalyzerOnASite measures the analyzer as the site runs it:
// generated data replayed through a real one-node site first, then a
// fresh analyzer reading the committed log (each entry decoded, each
// event's verdict read from the state, the findings proposed) until it
// has caught up. Run with -cpu 1, the site's node shares the one core.
// Reported as events/s.
func BenchmarkAnalyzerOnASite(b *testing.B) {
	data := supplychain.Generate(supplychain.Options{Seed: 1, Events: 40000, Rate: 2000})
	site := sitetest.Start(b, sitetest.Options{})
	m := site.WaitLeader(30 * time.Second)
	clock := hlc.NewClock(nil, 0)
	for _, st := range data.Steps {
		for _, c := range st.Clients {
			propose(b, m, command.TypeClient, c)
		}
		for _, p := range st.Partners {
			propose(b, m, command.TypePartner, p)
		}
		for _, p := range st.Products {
			propose(b, m, command.TypeProduct, p)
		}
		if st.ASN != nil {
			for _, c := range command.SplitASN(*st.ASN, "admin", clock.Now()) {
				propose(b, m, command.TypeASNChunk, c)
			}
		}
		if len(st.Events) > 0 {
			submit(b, m, st.Events...)
		}
	}
	b.ResetTimer()
	var read uint64
	for b.Loop() {
		a := New(Config{Node: m.Node, Logger: slog.New(slog.DiscardHandler)})
		for {
			more, err := a.Step(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if !more {
				break
			}
		}
		read += a.Stats().Events
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
