package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

// products gives the site the master data of the devices' receipts (the
// workload's client and each device's GTIN), as a warehouse has before
// it receives: without it every unit received raises UNKNOWN_GTIN, and
// the benchmark measures an exception per event instead of receiving.
func products(b *testing.B, leader *sitetest.Member, devices int) {
	b.Helper()
	put := func(t command.Type, v any) {
		data, err := command.EncodeJSON(t, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := leader.Node.Propose(context.Background(), data, false); err != nil {
			b.Fatalf("propose %d: %v", t, err)
		}
	}
	put(command.TypeClient, master.Client{ID: "acme", Name: "Acme"})
	for d := range devices {
		put(command.TypeProduct, master.Product{GTIN: workload.GTIN(d), Client: "acme", Name: fmt.Sprintf("Product %d", d), CompanyPrefixLen: 7})
	}
}

// devices prepares one generator per device, each with pre-generated
// batches so generation does not compete with the cluster for CPU.
func batches(devices, perDevice, size int) [][][]event.Event {
	out := make([][][]event.Event, devices)
	for d := range devices {
		g := workload.New(workload.Options{Seed: uint64(d + 1), Devices: 1, Prefix: fmt.Sprintf("bench-%d", d),
			GTIN: workload.GTIN(d)})
		for range perDevice {
			out[d] = append(out[d], g.Receive(size))
		}
	}
	return out
}

// BenchmarkClusterPeak: as many events as 64 devices can push into a
// 3-node cluster (in this process, real raft over loopback TCP, real
// Badger), submitted to the leader's coalescer in batches of 100. One
// op is one event; events/s is the figure to read. CUSTODY_BENCH_NODES
// (default 3) sets the site's size: 1 gives one replica the machine, as
// each replica of a real site has a machine of its own.
func BenchmarkClusterPeak(b *testing.B) {
	site := sitetest.Start(b, sitetest.Options{Nodes: envInt("CUSTODY_BENCH_NODES", 3)})
	leader := site.WaitLeader(10 * time.Second)
	const devices, size = 64, 100
	products(b, leader, devices)
	per := (b.N + devices*size - 1) / (devices * size)
	work := batches(devices, per, size)
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Value
	for d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, per)
			for _, evs := range work[d] {
				t0 := time.Now()
				if _, err := submitRetry(leader, evs); err != nil {
					failed.Store(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(devices*per*size)/el.Seconds(), "events/s")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds())/1000, "p50-ms")
}

func submitRetry(m *sitetest.Member, evs []event.Event) (int, error) {
	for attempt := 0; ; attempt++ {
		_, err := m.Node.SubmitEvents(context.Background(), evs, false)
		if err == nil {
			return attempt, nil
		}
		var re *cluster.RetryError
		if !errors.As(err, &re) || attempt > 200 {
			return attempt, err
		}
		time.Sleep(re.After / 10)
	}
}

// BenchmarkClusterSustained offers a fixed rate (CUSTODY_BENCH_RATE
// events/s, default 20000) for CUSTODY_BENCH_SECONDS (default 20: long
// enough for several memtable rotations on every replica) from 32
// devices, each sending a batch of 50 on its own clock, and reports the
// rate achieved and the submit→commit+apply latency of the batches.
// CUSTODY_BENCH_NODES sets the site's size, as for ClusterPeak.
func BenchmarkClusterSustained(b *testing.B) {
	rate := envInt("CUSTODY_BENCH_RATE", 20000)
	secs := envInt("CUSTODY_BENCH_SECONDS", 20)
	site := sitetest.Start(b, sitetest.Options{Nodes: envInt("CUSTODY_BENCH_NODES", 3)})
	leader := site.WaitLeader(10 * time.Second)
	const devices, size = 32, 50
	products(b, leader, devices)
	interval := time.Duration(float64(time.Second) * float64(devices*size) / float64(rate))
	per := int(time.Duration(secs)*time.Second/interval) + 1
	for range b.N {
		work := batches(devices, per, size)
		var mu sync.Mutex
		var lat []time.Duration
		var late atomic.Int64
		tl := &timeline{}
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for d := range devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := start.Add(time.Duration(d) * interval / devices)
				mine := make([]time.Duration, 0, per)
				for _, evs := range work[d] {
					if w := time.Until(next); w > 0 {
						time.Sleep(w)
					} else {
						late.Add(1)
					}
					t0 := time.Now()
					if _, err := submitRetry(leader, evs); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
					tl.add(t0.Sub(start), time.Since(t0))
					next = next.Add(interval)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(devices*per*size)/el.Seconds(), "events/s")
		b.ReportMetric(float64(rate), "offered/s")
		b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(pct(lat, 0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(late.Load())/float64(devices*per), "late-frac")
		if os.Getenv("CUSTODY_BENCH_TIMELINE") != "" {
			b.Log(tl)
		}
	}
}

// timeline keeps the worst latency of the batches sent in each 100 ms
// window of a run: with CUSTODY_BENCH_TIMELINE=1 the sustained benchmark
// logs it, which shows whether a p99 comes from steady queueing or from
// stalls (a memtable rotation, an election).
type timeline struct {
	mu    sync.Mutex
	worst []time.Duration
}

func (t *timeline) add(sent, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := int(sent / (100 * time.Millisecond))
	for len(t.worst) <= w {
		t.worst = append(t.worst, 0)
	}
	t.worst[w] = max(t.worst[w], took)
}

func (t *timeline) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sb strings.Builder
	sb.WriteString("worst submit→verdict per 100 ms window (ms):")
	for i, d := range t.worst {
		if i%20 == 0 {
			fmt.Fprintf(&sb, "\n%5.1fs", float64(i)/10)
		}
		fmt.Fprintf(&sb, " %4d", d.Milliseconds())
	}
	return sb.String()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkFailover kills the leader (raft shut down with no handover,
// as a dead process) at the default timeouts and measures the time to
// the first commit on the new leader. One op is one failover; use
// -benchtime=Nx. Reports the median and worst of the run.
func BenchmarkFailover(b *testing.B) {
	site := sitetest.Start(b, sitetest.Options{Nodes: 3})
	g := workload.New(workload.Options{Seed: 1, Devices: 1})
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		old := site.WaitLeader(30 * time.Second)
		site.WaitConverged(30 * time.Second)
		var other *sitetest.Member
		for _, m := range site.Members {
			if m != old {
				other = m
				break
			}
		}
		evs := g.Receive(1)
		b.StartTimer()
		killed := time.Now()
		site.Kill(old)
		for {
			// Through a survivor: it forwards to whoever leads now.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := other.Node.SubmitEvents(ctx, evs, false)
			cancel()
			if err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		times = append(times, time.Since(killed))
		b.StopTimer()
		site.Restart(old)
		site.WaitMembers(3, 60*time.Second)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(pct(times, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(pct(times, 1).Milliseconds()), "max-ms")
}
