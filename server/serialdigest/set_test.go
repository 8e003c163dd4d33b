package serialdigest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

func TestSetAdd(t *testing.T) {
	tests := []struct {
		name       string
		base, add  []uint64
		fresh, all []uint64
	}{
		{"into empty", nil, []uint64{3, 5}, []uint64{3, 5}, []uint64{3, 5}},
		{"all known", []uint64{1, 2, 3}, []uint64{1, 3}, nil, []uint64{1, 2, 3}},
		{"some new", []uint64{2, 4, 6}, []uint64{1, 4, 7}, []uint64{1, 7}, []uint64{1, 2, 4, 6, 7}},
		{"nothing", []uint64{2}, nil, nil, []uint64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSet(slices.Clone(tc.base))
			if got := s.Add(tc.add); !slices.Equal(got, tc.fresh) {
				t.Errorf("fresh %v, want %v", got, tc.fresh)
			}
			if s.Len() != len(tc.all) {
				t.Errorf("len %d, want %d", s.Len(), len(tc.all))
			}
			for _, d := range tc.all {
				if !s.Has(d) {
					t.Errorf("lacks %d", d)
				}
			}
			if got := s.Sorted(); !slices.Equal(got, tc.all) {
				t.Errorf("sorted %v, want %v", got, tc.all)
			}
		})
	}
}

// TestFindNewAgreesWithFind: over rounds of random additions (with
// digests planted at two and three sites, within a round and across
// rounds), what FindNew reports each round is exactly what merging every
// list anew finds minus what earlier rounds found.
func TestFindNewAgreesWithFind(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const k = 6
	sets := make([]*Set, k)
	for i := range sets {
		l := make([]uint64, 2000)
		for j := range l {
			l[j] = r.Uint64() >> 40 // a small range: chance matches too
		}
		sets[i] = NewSet(Sort(l))
	}
	known := map[uint64]bool{}
	for _, m := range Find(sorted(sets)) {
		known[m.Digest] = true
	}
	for round := 0; round < 40; round++ {
		fresh := make([][]uint64, k)
		for i := range sets {
			add := make([]uint64, r.IntN(30))
			for j := range add {
				add[j] = r.Uint64() >> 40
			}
			if round%3 == 0 && i > 0 {
				add = append(add, sets[(i+round)%k].Sorted()[r.IntN(100)]) // one already at another site
			}
			fresh[i] = sets[i].Add(Sort(add))
		}
		got := FindNew(sets, fresh)
		var want []Match
		for _, m := range Find(sorted(sets)) {
			if !known[m.Digest] {
				want = append(want, m)
			}
		}
		if !slices.EqualFunc(got, want, func(a, b Match) bool { return a.Digest == b.Digest && slices.Equal(a.Sites, b.Sites) }) {
			t.Fatalf("round %d: FindNew %v, Find %v", round, got, want)
		}
		for _, m := range want {
			known[m.Digest] = true
		}
	}
	if len(known) == 0 {
		t.Fatal("the rounds planted no match")
	}
}

func sorted(sets []*Set) [][]uint64 {
	out := make([][]uint64, len(sets))
	for i, s := range sets {
		out[i] = s.Sorted()
	}
	return out
}

// BenchmarkFindNew: one incremental round at the operator: 1,000 new
// receipts spread over the sites, each looked up in every site's set.
// CUSTODY_DIGEST_SITES and CUSTODY_DIGEST_UNITS set the scale (default
// 50 sites × 1,000,000; 50 × 10,000,000 needs about 4.5 GB).
func BenchmarkFindNew(b *testing.B) {
	k, n := envInt("CUSTODY_DIGEST_SITES", 50), envInt("CUSTODY_DIGEST_UNITS", 1_000_000)
	ls := lists(k, n, 0)
	sets := make([]*Set, k)
	for i, l := range ls {
		sets[i] = NewSet(l)
	}
	r := rand.New(rand.NewPCG(7, 8))
	const perRound = 1000
	b.Run(fmt.Sprintf("sites=%d/per_site=%d/new=%d", k, n, perRound), func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			batch := make([][]uint64, k)
			for j := 0; j < perRound; j++ {
				batch[j%k] = append(batch[j%k], r.Uint64())
			}
			// One of them a serial another site received before.
			batch[0] = append(batch[0], ls[1][r.IntN(n)])
			b.StartTimer()
			fresh := make([][]uint64, k)
			for i := range sets {
				fresh[i] = sets[i].Add(Sort(batch[i]))
			}
			if len(FindNew(sets, fresh)) == 0 {
				b.Fatal("the planted match was not found")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/perRound, "ns/new")
	})
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
