package analyzer

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/supplychain"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/signals"
)

// offline scores the analyzer on generated data without a site: the
// rules' verdicts come from the shared rules, findings become
// exceptions as apply would make them.
func offline(t testing.TB, seed uint64, events int) *supplychain.Result {
	d := supplychain.Generate(supplychain.Options{Seed: seed, Events: events})
	fs := supplychain.Replay(d).Feed(signals.NewAnalyzer(signals.Config{}))
	var obs []supplychain.Observed
	now := time.Now()
	for i := range fs {
		obs = append(obs, supplychain.Observed{X: fs[i].Exception(), At: now})
	}
	var explain io.Writer
	if os.Getenv("SIGNALS_EXPLAIN") != "" {
		explain = os.Stdout
	}
	return supplychain.Score(d, obs, map[event.ID]time.Time{}, explain)
}

// TestOfflineTargets checks the learned and deterministic signals on
// generated data of several seeds, without a site (the rules' own
// exceptions, which find lot and expiry against the ASN, are left out:
// custody-signals eval measures those through a real site).
func TestOfflineTargets(t *testing.T) {
	events := 120000
	if s := os.Getenv("SIGNALS_EVENTS"); s != "" {
		events, _ = strconv.Atoi(s)
	}
	seeds := []uint64{11, 12}
	if s := os.Getenv("SIGNALS_SEEDS"); s != "" {
		seeds = nil
		for _, f := range strings.Fields(s) {
			n, _ := strconv.ParseUint(f, 10, 64)
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		r := offline(t, seed, events)
		for name, p := range r.Patterns {
			if name == string(supplychain.SupplierMismatch) || p.Instances == 0 {
				continue
			}
			t.Logf("seed %d %-18s instances %3d recall %.3f precision %.3f false %d", seed, name, p.Instances, p.Recall, p.Precision, p.False)
			min := 0.9
			if p.Deterministic {
				min = 0.95
			}
			if name == string(supplychain.ClonedSerial) {
				min = 1
			}
			if p.Recall < min || p.Precision < min {
				t.Errorf("seed %d %s: recall %.3f precision %.3f, want both ≥ %.2f", seed, name, p.Recall, p.Precision, min)
			}
		}
		if r.FalseAlarmsPer100k > 1 {
			t.Errorf("seed %d: %.2f false alarms per 100,000 clean events", seed, r.FalseAlarmsPer100k)
		}
	}
}
