// Package serialdigest is how sites publish what they received without
// publishing it: a keyed hash (HMAC-SHA256, first 8 bytes) of each
// received unit's GTIN and serial under a key the operator's sites
// share. The digest alone reveals nothing of the serials; two sites
// that received the same serial publish the same digest, and the
// operator finds it by matching sorted lists.
package serialdigest

import (
	"container/heap"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/custodyhq/custody/shared/event"
)

// Errors returned by this package.
var (
	// ErrKey reports a key too short to keep digests secret.
	ErrKey = errors.New("serialdigest: a key has at least 32 bytes")
	// ErrEncoding reports a digest list whose length is not a multiple of Size.
	ErrEncoding = errors.New("serialdigest: a digest list is 8 bytes per digest")
)

// Size is the bytes of one digest. With 8 bytes, 50 sites of 10
// million serials each (5×10^8 digests) expect about 0.007 pairs of
// different serials to share a digest (n²/2^65); a match is confirmed
// against the units' keys before anything is raised.
const Size = 8

// MinKey is the shortest key accepted.
const MinKey = 32

// Of is the digest of a unit: ok is false for what has no GTIN and
// serial (an SSCC).
func Of(key []byte, k event.Key) (uint64, bool) {
	g, s := k.GTIN(), k.Serial()
	if g == "" || s == "" {
		return 0, false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(g))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return binary.BigEndian.Uint64(m.Sum(nil)), true
}

// CheckKey refuses a key too short.
func CheckKey(key []byte) error {
	if len(key) < MinKey {
		return ErrKey
	}
	return nil
}

// Encode writes digests as 8 bytes each, big-endian.
func Encode(ds []uint64) []byte {
	b := make([]byte, 0, len(ds)*Size)
	for _, d := range ds {
		b = binary.BigEndian.AppendUint64(b, d)
	}
	return b
}

// Decode reads what Encode wrote.
func Decode(b []byte) ([]uint64, error) {
	if len(b)%Size != 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrEncoding, len(b))
	}
	out := make([]uint64, len(b)/Size)
	for i := range out {
		out[i] = binary.BigEndian.Uint64(b[i*Size:])
	}
	return out, nil
}

// Match is a digest found at more than one site.
type Match struct {
	Digest uint64
	Sites  []int // indexes into the lists given to Find, ascending
}

// Sort sorts a site's digests and drops repeats (a site lists each
// serial once; a repeat within one site is that site's own business).
func Sort(ds []uint64) []uint64 {
	slices.Sort(ds)
	return slices.Compact(ds)
}

// Find returns the digests present in at least two of the lists, each
// sorted without repeats (Sort), by merging them: O(N log k) for N
// digests in k lists, and no memory beyond the lists and the answer.
func Find(lists [][]uint64) []Match {
	h := make(cursors, 0, len(lists))
	for i, l := range lists {
		if len(l) > 0 {
			h = append(h, cursor{list: l, site: i})
		}
	}
	heap.Init(&h)
	var out []Match
	for h.Len() > 0 {
		d := h[0].list[h[0].pos]
		var sites []int
		for h.Len() > 0 && h[0].list[h[0].pos] == d {
			sites = append(sites, h[0].site)
			h[0].pos++
			if h[0].pos == len(h[0].list) {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
		if len(sites) > 1 {
			slices.Sort(sites)
			out = append(out, Match{Digest: d, Sites: sites})
		}
	}
	return out
}

type cursor struct {
	list []uint64
	pos  int
	site int
}

type cursors []cursor

func (c cursors) Len() int { return len(c) }
func (c cursors) Less(i, j int) bool {
	a, b := c[i].list[c[i].pos], c[j].list[c[j].pos]
	if a != b {
		return a < b
	}
	return c[i].site < c[j].site
}
func (c cursors) Swap(i, j int) { c[i], c[j] = c[j], c[i] }
func (c *cursors) Push(x any)   { *c = append(*c, x.(cursor)) }
func (c *cursors) Pop() any {
	old := *c
	x := old[len(old)-1]
	*c = old[:len(old)-1]
	return x
}
