package state

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Big-state benchmarks. CUSTODY_BENCH_UNITS sets how many units the
// state holds (default 200000); the state is built once, directly in
// Badger, under CUSTODY_BENCH_DIR (default the system temp dir) and
// reused by later runs. The first benchLot units share one lot.

const (
	benchGTIN       = "00300010123455"
	benchLot        = 100000
	benchPerUnit    = 3 // history entries per unit
	benchMarkerFile = "complete"
)

func benchUnits() int {
	if n, err := strconv.Atoi(os.Getenv("CUSTODY_BENCH_UNITS")); err == nil && n > 0 {
		return n
	}
	return 200000
}

func benchKey(i int) event.Key { return event.SGTIN(benchGTIN, fmt.Sprintf("S%010d", i)) }

func benchStore(b *testing.B) *Store {
	b.Helper()
	n := benchUnits()
	root := os.Getenv("CUSTODY_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("custody-state-bench-%d", n))
	if _, err := os.Stat(filepath.Join(dir, benchMarkerFile)); err != nil {
		os.RemoveAll(dir)
		start := time.Now()
		buildBench(b, dir, n)
		b.Logf("built %d units in %s", n, time.Since(start).Round(time.Second))
	}
	st, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func buildBench(b *testing.B, dir string, n int) {
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(false))
	if err != nil {
		b.Fatal(err)
	}
	wb := db.NewWriteBatch()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := func(k, v []byte) {
		if err := wb.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		k := benchKey(i)
		lot := "BIG"
		if i >= benchLot {
			lot = fmt.Sprintf("L%04d", i%5000)
		}
		s := unit.State{Key: k, Client: "acme", Lot: lot, Expiry: "301231", Status: unit.StatusInStock, Location: fmt.Sprintf("A-%03d", i%500),
			Version: benchPerUnit, LastDevice: "dev-1", Updated: hlc.FromTime(t0), Since: hlc.FromTime(t0)}
		set(key(tUnit, string(k)), encodeUnit(&s))
		set(key(tLot, benchGTIN, lot, string(k)), nil)
		set(append([]byte{tStatus, byte(s.Status)}, k...), nil)
		set(key(tLocation, s.Location, string(k)), nil)
		for j := range benchPerUnit {
			var id event.ID
			binary.BigEndian.PutUint64(id[:], uint64(i))
			binary.BigEndian.PutUint64(id[8:], uint64(j))
			ev := event.Event{ID: id, Device: "dev-1", Epoch: 1, Seq: uint64(i*benchPerUnit + j + 1), HLC: hlc.FromTime(t0.Add(time.Duration(j) * time.Minute)),
				User: "u", Site: "s", Client: "acme", Kind: event.KindMove, Subjects: []event.Subject{{Key: k}}, Ctx: event.Context{To: s.Location}}
			res := unit.Result{Verdict: unit.VerdictApplied, Subjects: []unit.SubjectResult{{Key: k, Verdict: unit.VerdictApplied, Version: uint64(j + 1)}}}
			idx := uint64(i*benchPerUnit + j + 1)
			rec, err := encodeRecord(&Record{Event: ev, Index: idx, Result: &res})
			if err != nil {
				b.Fatal(err)
			}
			set(append([]byte{tEvent}, id[:]...), rec)
			hk := append(key(tHistory, string(k), ""), u64(idx)...)
			set(binary.BigEndian.AppendUint32(hk, 0), id[:])
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, benchMarkerFile), nil, 0o644); err != nil {
		b.Fatal(err)
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkUnitHistory looks up random units with their full history.
func BenchmarkUnitHistory(b *testing.B) {
	st := benchStore(b)
	n := benchUnits()
	r := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		k := benchKey(r.IntN(n))
		start := time.Now()
		err := st.View(func(rd *Reader) error {
			u, err := rd.Unit(k)
			if err != nil || !u.Known() {
				return fmt.Errorf("unit %s: %v", k, err)
			}
			h, err := rd.History(k, 0)
			if err != nil || len(h) != benchPerUnit {
				return fmt.Errorf("history of %s: %d, %v", k, len(h), err)
			}
			return nil
		})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(n), "units")
}

// BenchmarkLotQuery lists every unit of one lot of 100,000 units.
func BenchmarkLotQuery(b *testing.B) {
	st := benchStore(b)
	want := min(benchLot, benchUnits())
	b.ResetTimer()
	for range b.N {
		err := st.View(func(rd *Reader) error {
			p, err := rd.Units(UnitFilter{GTIN: benchGTIN, Lot: "BIG"})
			if err != nil {
				return err
			}
			if len(p.Items) != want {
				return fmt.Errorf("lot holds %d units, want %d", len(p.Items), want)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(want), "lot-units")
}
