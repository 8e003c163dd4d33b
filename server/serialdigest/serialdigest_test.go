package serialdigest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/custodyhq/custody/shared/event"
)

var key = bytes.Repeat([]byte{7}, 32)

func TestOf(t *testing.T) {
	a, ok := Of(key, event.SGTIN("09506000134352", "A1"))
	b, _ := Of(key, event.SGTIN("09506000134352", "A2"))
	c, _ := Of(bytes.Repeat([]byte{8}, 32), event.SGTIN("09506000134352", "A1"))
	a2, _ := Of(key, event.SGTIN("09506000134352", "A1"))
	if !ok || a == b || a == c || a != a2 {
		t.Fatalf("digests: %x %x %x %x", a, b, c, a2)
	}
	if _, ok := Of(key, event.SSCC("106141412345678908")); ok {
		t.Fatal("an SSCC has a digest")
	}
	if CheckKey(key[:31]) == nil || CheckKey(key) != nil {
		t.Fatal("CheckKey")
	}
}

func TestEncodeDecode(t *testing.T) {
	ds := []uint64{1, 1 << 63, 42}
	got, err := Decode(Encode(ds))
	if err != nil || !reflect.DeepEqual(got, ds) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := Decode([]byte{1, 2, 3}); err == nil {
		t.Fatal("a broken list decodes")
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name  string
		lists [][]uint64
		want  []Match
	}{
		{"none", [][]uint64{{1, 2}, {3, 4}}, nil},
		{"two sites", [][]uint64{{1, 5, 9}, {2, 5}, {9}}, []Match{{5, []int{0, 1}}, {9, []int{0, 2}}}},
		{"three sites", [][]uint64{{7}, {7}, {7}}, []Match{{7, []int{0, 1, 2}}}},
		{"empty lists", [][]uint64{{}, nil, {3}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.lists); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Find = %v, want %v", got, tc.want)
			}
		})
	}
}

// lists makes k sites of n digests each with dups planted across sites.
func lists(k, n, dups int) [][]uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]uint64, k)
	for i := range out {
		l := make([]uint64, n)
		for j := range l {
			l[j] = r.Uint64()
		}
		out[i] = l
	}
	for d := 0; d < dups; d++ {
		v := r.Uint64()
		out[d%k][2*d] = v
		out[(d+1)%k][2*d+1] = v
	}
	for i := range out {
		out[i] = Sort(out[i])
	}
	return out
}

func TestFindPlanted(t *testing.T) {
	got := Find(lists(5, 10000, 7))
	if len(got) != 7 {
		t.Fatalf("found %d planted duplicates, want 7", len(got))
	}
}

// BenchmarkMatch: matching k sites of n digests each (the lists already
// sorted, as the operator keeps them). Scaled down from 50 × 10^7;
// CUSTODY_DIGEST_SITES and CUSTODY_DIGEST_UNITS run that one scale
// instead (50 × 10,000,000 needs about 4.5 GB).
func BenchmarkMatch(b *testing.B) {
	cases := []struct{ k, n int }{{10, 100_000}, {50, 100_000}, {10, 1_000_000}}
	if os.Getenv("CUSTODY_DIGEST_UNITS") != "" {
		cases = []struct{ k, n int }{{envInt("CUSTODY_DIGEST_SITES", 50), envInt("CUSTODY_DIGEST_UNITS", 1_000_000)}}
	}
	for _, c := range cases {
		ls := lists(c.k, c.n, 10)
		b.Run(fmt.Sprintf("sites=%d/per_site=%d", c.k, c.n), func(b *testing.B) {
			for b.Loop() {
				if len(Find(ls)) != 10 {
					b.Fatal("matches")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.k*c.n), "ns/digest")
		})
	}
}

// BenchmarkDigest: computing one digest (at the site).
func BenchmarkDigest(b *testing.B) {
	k := event.SGTIN("09506000134352", "SERIAL000123")
	var sink uint64
	for b.Loop() {
		d, _ := Of(key, k)
		sink ^= d
	}
	_ = sink
}

// BenchmarkSort: sorting one site's digest list.
func BenchmarkSort(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]uint64, 1_000_000)
	for i := range src {
		src[i] = r.Uint64()
	}
	l := make([]uint64, len(src))
	for b.Loop() {
		copy(l, src)
		Sort(l)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(src)), "ns/digest")
}
