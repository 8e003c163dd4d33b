package engine

import (
	"bufio"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// reportLatency reports the median and 99th percentile of ds in ms.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// memKB reads VmRSS and VmHWM (peak RSS) from /proc/self/status.
func memKB() (rss, hwm int) {
	m := procStatus()
	return m["VmRSS"], m["VmHWM"]
}

// procStatus reads the kB fields of /proc/self/status.
func procStatus() map[string]int {
	out := map[string]int{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if f := strings.Fields(rest); ok && len(f) == 2 && f[1] == "kB" {
			out[name], _ = strconv.Atoi(f[0])
		}
	}
	return out
}

// BenchmarkScanCommit measures a receiving scan from raw scanner bytes to
// a durable commit (SyncWrites on): GS1 parse, replica reads, Evaluate,
// one Badger transaction with the outbox entry, fsync.
func BenchmarkScanCommit(b *testing.B) {
	p := demo.DefaultParams()
	p.Pallets, p.CasesPerPallet, p.UnitsPerCase = 4, 20, 50 // 4,000 units to receive
	fx, err := demo.Build(p)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(b.TempDir(), store.Options{Device: "hh-bench", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e, err := New(st, Config{DeviceNumber: 1, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Load(&fx.Snapshot); err != nil {
		b.Fatal(err)
	}
	if s, err := e.Login("op2", fx.PIN("op2")); err != nil || s.Verdict != Accepted {
		b.Fatal(s.Reason, err)
	}
	var scans [][]byte
	for _, it := range fx.ASN(demo.ASNUS).Items {
		if !it.Key.IsContainer() {
			scans = append(scans, demo.KeyScan(it.Key, it.Lot, it.Expiry))
		}
	}
	e.StartReceive(demo.ASNUS)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		if i == len(scans) { // everything received: hold and release instead
			e.user = &fx.Snapshot.Users[2]
			i = 0
		}
		if i == 0 && len(lat) >= len(scans) {
			if len(lat)/len(scans)%2 == 1 {
				e.StartHold("investigation", "")
			} else {
				e.StartRelease("")
			}
		}
		t0 := time.Now()
		s, err := e.Scan(scans[i])
		lat = append(lat, time.Since(t0))
		if err != nil || s.Verdict == Refused {
			b.Fatalf("scan %d: %v %+v", i, err, s)
		}
		i++
	}
	reportLatency(b, lat)
}

// replicaUnits is how many expected units the replica benchmarks load:
// CUSTODY_BENCH_UNITS, default 100,000 (set 1000000 for the handheld
// target).
func replicaUnits(b *testing.B) demo.Params {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CUSTODY_BENCH_UNITS")); err == nil && v > 0 {
		n = v
	}
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 20, 50
	p.Pallets = max(1, n/(p.CasesPerPallet*p.UnitsPerCase))
	return p
}

// loadReplica streams the US ASN's expected units into st through the
// bulk loader, without building the ASN in memory.
func loadReplica(b *testing.B, st *store.Store, p demo.Params) (units int, roots []event.Key) {
	small := p
	small.Pallets = 0
	fx, err := demo.Build(small)
	if err != nil {
		b.Fatal(err)
	}
	l, err := st.NewLoader()
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Master(&fx.Snapshot); err != nil {
		b.Fatal(err)
	}
	hdr := store.ASN{ID: demo.ASNUS, Client: demo.ClientUS, Supplier: "SUP-1"}
	err = demo.EachExpected(p, func(a *master.ASN, it master.ASNItem) error {
		if it.Parent == "" {
			hdr.Roots = append(hdr.Roots, it.Key)
		}
		hdr.Items++
		return l.Unit(store.ExpectedState(a, it))
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.ASN(hdr); err != nil {
		b.Fatal(err)
	}
	if err := l.Finish(); err != nil {
		b.Fatal(err)
	}
	return l.Units(), hdr.Roots
}

// BenchmarkReplicaLoad bulk-loads a replica of expected units.
func BenchmarkReplicaLoad(b *testing.B) {
	p := replicaUnits(b)
	total := 0
	for b.Loop() {
		dir := b.TempDir()
		st, err := store.Open(dir, store.Options{Device: "hh-bench", Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		n, _ := loadReplica(b, st, p)
		total += n
		m := procStatus()
		b.ReportMetric(float64(m["RssAnon"])/1024, "open-anon-MB")
		b.ReportMetric(float64(m["RssFile"])/1024, "open-file-MB")
		st.Close()
		b.ReportMetric(float64(dirSize(dir))/(1<<20), "disk-MB")
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "units/s")
	rss, hwm := memKB()
	m := procStatus()
	b.ReportMetric(float64(m["RssAnon"])/1024, "anon-MB")
	b.ReportMetric(float64(m["RssFile"])/1024, "file-MB")
	b.ReportMetric(float64(rss)/1024, "rss-MB")
	b.ReportMetric(float64(hwm)/1024, "peak-rss-MB")
}

// BenchmarkLookup looks up random units of a large replica, with their
// product, holds, contents, exceptions and history. The replica is
// loaded, closed and reopened as a device would after a restart; the
// peak RSS counter is reset before reopening, so rss-MB and peak-rss-MB
// are the process's resident memory while working on the replica (the
// load's own peak is BenchmarkReplicaLoad's).
func BenchmarkLookup(b *testing.B) {
	p := replicaUnits(b)
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	st, err := store.Open(dir, store.Options{Device: "hh-bench", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	n, _ := loadReplica(b, st, p)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	var keys []event.Key
	rng := rand.New(rand.NewPCG(1, 2))
	stride := max(1, n/20000)
	_ = demo.EachExpected(p, func(_ *master.ASN, it master.ASNItem) error {
		if rng.IntN(stride) == 0 {
			keys = append(keys, it.Key)
		}
		return nil
	})
	runtime.GC()
	debug.FreeOSMemory()
	resetPeak := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	st, err = store.Open(dir, store.Options{Device: "hh-bench", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e, err := New(st, Config{DeviceNumber: 1, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	e.user = &fx.Snapshot.Users[2]
	var lat []time.Duration
	for b.Loop() {
		k := keys[rng.IntN(len(keys))]
		t0 := time.Now()
		s, err := e.Lookup(k)
		lat = append(lat, time.Since(t0))
		if err != nil || s.Info == nil || !s.Info.Known {
			b.Fatalf("lookup %s: %v %+v", k, err, s)
		}
	}
	reportLatency(b, lat)
	rss, hwm := memKB()
	m := procStatus()
	b.ReportMetric(float64(m["RssAnon"])/1024, "anon-MB")
	b.ReportMetric(float64(m["RssFile"])/1024, "file-MB")
	b.ReportMetric(float64(n), "units")
	if os.Getenv("CUSTODY_BENCH_HEAP") != "" {
		f, err := os.Create(os.Getenv("CUSTODY_BENCH_HEAP"))
		if err == nil {
			runtime.GC()
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	b.ReportMetric(float64(rss)/1024, "rss-MB")
	if resetPeak {
		b.ReportMetric(float64(hwm)/1024, "peak-rss-MB")
	}
}

func dirSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if i, err := e.Info(); err == nil {
			n += i.Size()
		}
	}
	return n
}
