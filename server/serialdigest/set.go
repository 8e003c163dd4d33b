package serialdigest

import "slices"

// Set is one site's digests as the operator keeps them between reads:
// a large sorted base and a small sorted delta of what arrived since
// the base was last rebuilt. Adding a few new digests then costs a
// merge into the delta, not a copy of ten million; the delta is folded
// into the base once it grows past a fraction of it.
type Set struct {
	base  []uint64
	delta []uint64
}

// foldAt is the delta's size, as a fraction of the base, at which it is
// merged into the base: 1/16 keeps the delta's merges small and the
// base's rebuilds rare (each costs one pass over the base).
const foldAt = 16

// NewSet is a set of ds, sorted without repeats (Sort).
func NewSet(ds []uint64) *Set { return &Set{base: ds} }

// Len is the number of digests in the set.
func (s *Set) Len() int { return len(s.base) + len(s.delta) }

// Has reports whether d is in the set: two binary searches.
func (s *Set) Has(d uint64) bool {
	if _, ok := slices.BinarySearch(s.base, d); ok {
		return true
	}
	_, ok := slices.BinarySearch(s.delta, d)
	return ok
}

// Add adds ds (sorted without repeats) and returns those that were not
// in the set already, sorted; the returned slice is the caller's.
func (s *Set) Add(ds []uint64) []uint64 {
	var fresh []uint64
	for _, d := range ds {
		if !s.Has(d) {
			fresh = append(fresh, d)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	s.delta = merge(s.delta, fresh)
	if len(s.delta)*foldAt > len(s.base) {
		s.base, s.delta = merge(s.base, s.delta), nil
	}
	return fresh
}

// Sorted is every digest of the set in one sorted slice (the delta is
// folded into the base first). The slice is the set's: read it only.
func (s *Set) Sorted() []uint64 {
	if len(s.delta) > 0 {
		s.base, s.delta = merge(s.base, s.delta), nil
	}
	return s.base
}

// merge merges two sorted slices without repeats between them into a
// new slice.
func merge(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// FindNew returns the digests of fresh (per site, sorted, as Add
// returned them) that are now in at least two of the sets: what an
// incremental read of the sites found. Every fresh digest is looked up
// in every other set (O(F·k·log n) for F fresh digests, k sites of n),
// so a round that brought a few thousand new receipts costs
// milliseconds however large the sets are. The sets must already hold
// their fresh digests.
func FindNew(sets []*Set, fresh [][]uint64) []Match {
	seen := map[uint64]bool{}
	var out []Match
	for i, ds := range fresh {
		for _, d := range ds {
			if seen[d] {
				continue
			}
			var sites []int
			for j, s := range sets {
				if j == i || s.Has(d) {
					sites = append(sites, j)
				}
			}
			if len(sites) > 1 {
				seen[d] = true
				out = append(out, Match{Digest: d, Sites: sites})
			}
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		switch {
		case a.Digest < b.Digest:
			return -1
		case a.Digest > b.Digest:
			return 1
		}
		return 0
	})
	return out
}
