package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custodyhq/custody/e2e/procs"
)

// The sync benchmarks run custody-sim --bench against a real 3-node
// cluster. They start processes and take a while, so they run only with
// CUSTODY_E2E_BENCH=1:
//
//	CUSTODY_E2E_BENCH=1 go test -run '^$' -bench Sync -benchtime 1x -count 5 ./e2e/
//
// Each iteration is one run of the simulator against the 3-node
// cluster's leader; its figures are reported as metrics (seconds to
// drain, acknowledged events/s, latency).

type benchFigures struct {
	Events      int     `json:"events"`
	Seconds     float64 `json:"seconds"`
	AckedPerSec float64 `json:"acked_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	DrainSec    float64 `json:"returning_drained_s"`
}

func syncBench(b *testing.B, args ...string) {
	if os.Getenv("CUSTODY_E2E_BENCH") == "" {
		b.Skip("set CUSTODY_E2E_BENCH=1 to run the sync benchmarks (they start a cluster)")
	}
	dir := b.TempDir()
	srvBin := procs.Build(b, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	simBin := procs.Build(b, dir, "github.com/custodyhq/custody/e2e/cmd/custody-sim")
	// Memtable sizes apart, as the random default would draw them, but
	// the same in every run.
	// CUSTODY_BENCH_NODES (default 3) sets the cluster's size: with 1,
	// the site has the machine's cores to itself, which is how each
	// replica runs in a real site (a machine each).
	nodes := procs.StartClusterWith(b, srvBin, benchNodes(), func(i int) []string {
		return []string{"--insecure-devices", fmt.Sprintf("--memtable-mib=%d", 64+12*i)}
	})
	// Devices talk to the leader (a follower would forward every push
	// to it over HTTP, one more hop): the figures are the cluster's, not
	// the forwarding's.
	var st procs.Status
	if err := procs.Client(nodes[0], "admin").Get("/api/v1/cluster/status", &st); err != nil {
		b.Fatal(err)
	}
	var urls []string
	for _, n := range nodes {
		if n.ID == st.Leader {
			urls = append(urls, n.URL())
		}
	}
	var sum benchFigures
	b.ResetTimer()
	for i := range b.N {
		cmd := exec.Command(simBin, append([]string{"--servers", strings.Join(urls, ","), "--dir", filepath.Join(dir, "run", string(rune('a'+i%26)))}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("custody-sim: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var f benchFigures
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &f); err != nil {
			b.Fatalf("custody-sim output: %v\n%s", err, out)
		}
		sum.Seconds += f.Seconds
		sum.AckedPerSec += f.AckedPerSec
		sum.P50ms += f.P50ms
		sum.P99ms += f.P99ms
		sum.DrainSec += f.DrainSec
	}
	n := float64(b.N)
	b.ReportMetric(sum.AckedPerSec/n, "acked/s")
	if sum.P99ms > 0 {
		b.ReportMetric(sum.P50ms/n, "p50-ms")
		b.ReportMetric(sum.P99ms/n, "p99-ms")
	} else {
		b.ReportMetric(sum.Seconds/n, "s-to-ack-all")
	}
	if sum.DrainSec > 0 {
		b.ReportMetric(sum.DrainSec/n, "returning-drained-s")
	}
}

func benchNodes() int {
	if n, err := strconv.Atoi(os.Getenv("CUSTODY_BENCH_NODES")); err == nil && n > 0 {
		return n
	}
	return 3
}

// BenchmarkSyncReturn20k: one device returns with 20,000 queued events.
func BenchmarkSyncReturn20k(b *testing.B) { syncBench(b, "--bench", "return", "--events", "20000") }

// BenchmarkSyncOnline50: 50 devices online push 20,000 events/s together.
func BenchmarkSyncOnline50(b *testing.B) {
	syncBench(b, "--bench", "online", "--memory", "--devices", "50", "--rate", "20000", "--duration", "10s")
}

// BenchmarkSyncOnline40: the online load of the next benchmark alone,
// 40 devices at 100 events/s each.
func BenchmarkSyncOnline40(b *testing.B) {
	syncBench(b, "--bench", "online", "--memory", "--devices", "40", "--rate", "4000", "--duration", "10s")
}

// BenchmarkSyncOnlineWhileReconciling: the same 40 devices online while
// 10 devices come back at once with 5,000 queued events each.
func BenchmarkSyncOnlineWhileReconciling(b *testing.B) {
	syncBench(b, "--bench", "mixed", "--memory", "--devices", "40", "--returning", "10", "--events", "5000", "--rate", "4000", "--duration", "10s")
}
