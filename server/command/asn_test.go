package command

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

const asnGTIN = "00300010123455"

// bigASN is an ASN of n items: a case (SSCC) every 50 units, then its
// units inside it, all of one lot.
func bigASN(id string, n int) master.ASN {
	a := master.ASN{ID: id, Client: "acme", Supplier: "p1"}
	var parent event.Key
	for i := range n {
		if i%51 == 0 {
			parent = event.SSCC(sscc(i))
			a.Items = append(a.Items, master.ASNItem{Key: parent})
			continue
		}
		a.Items = append(a.Items, master.ASNItem{Key: event.SGTIN(asnGTIN, fmt.Sprintf("%s-%06d", id, i)), Parent: parent,
			Lot: "L1", Expiry: "301231"})
	}
	return a
}

// sscc is a valid SSCC-18 (extension 0, company prefix 0300010) for n.
func sscc(n int) string {
	body := fmt.Sprintf("00300010%09d", n)
	sum := 0
	for i := range body {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return body + fmt.Sprint((10-sum%10)%10)
}

func chunkEntries(t testing.TB, cs []ASNChunk) [][]byte {
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = jsonEntry(t, TypeASNChunk, c)
	}
	return out
}

func TestSplitASN(t *testing.T) {
	long := bigASN("A-LONG", MaxASNChunk)
	for i := range long.Items {
		long.Items[i].Lot = strings.Repeat("L", 20)
	}
	// Characters JSON escapes (<, >, & as six bytes each) count as sent.
	escaped := bigASN("A-ESC", MaxASNChunk)
	for i := range escaped.Items {
		escaped.Items[i].Lot = strings.Repeat("<", 20)
	}
	for _, tc := range []struct {
		name   string
		a      master.ASN
		chunks int
	}{
		{"empty", master.ASN{ID: "A0", Client: "acme"}, 1},
		{"one", bigASN("A1", 1), 1},
		{"exactly one chunk", bigASN("A2", MaxASNChunk), 1},
		{"one more", bigASN("A3", MaxASNChunk+1), 2},
		{"large", bigASN("A4", 5*MaxASNChunk+17), 6},
		{"long fields cut by size", long, 2},
		{"escaped fields cut by size", escaped, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := SplitASN(tc.a, "admin", 7)
			if len(cs) != tc.chunks {
				t.Fatalf("%d chunks, want %d", len(cs), tc.chunks)
			}
			digest := ASNDigest(&tc.a)
			next := 0
			var items []master.ASNItem
			for _, c := range cs {
				if c.Start != next || c.Total != len(tc.a.Items) || c.Digest != digest || c.User != "admin" || c.At != 7 ||
					c.ASN.ID != tc.a.ID || c.ASN.Client != tc.a.Client || c.ASN.Supplier != tc.a.Supplier {
					t.Fatalf("chunk %+v", c)
				}
				if len(c.ASN.Items) > MaxASNChunk {
					t.Fatalf("chunk of %d items", len(c.ASN.Items))
				}
				if b := jsonEntry(t, TypeASNChunk, c); len(b) > 128<<10 {
					t.Fatalf("entry of %d bytes", len(b))
				}
				next += len(c.ASN.Items)
				items = append(items, c.ASN.Items...)
			}
			if next != len(tc.a.Items) || !reflect.DeepEqual(items, tc.a.Items) && len(items) > 0 {
				t.Fatalf("chunks cover %d of %d items", next, len(tc.a.Items))
			}
			if again := SplitASN(tc.a, "admin", 7); !reflect.DeepEqual(again, cs) {
				t.Fatal("the same ASN cut differently")
			}
		})
	}
}

// TestSplitASNBudgetsTheHeader: every chunk repeats the ASN header, so
// the header's size comes out of the chunk budget; a large header cuts
// more chunks, none over the entry budget.
func TestSplitASNBudgetsTheHeader(t *testing.T) {
	plain := bigASN("A-HEAD", MaxASNChunk)
	for _, tc := range []struct {
		name     string
		supplier string
	}{
		{"a supplier at the bound, escaped", strings.Repeat("<", event.MaxField)},
		// CheckASN refuses this one; SplitASN still keeps to the budget.
		{"a huge supplier", strings.Repeat("s", 64<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := plain
			a.Supplier = tc.supplier
			head := a
			head.Items = nil
			hjs, err := json.Marshal(&head)
			if err != nil {
				t.Fatal(err)
			}
			cs := SplitASN(a, "admin", 7)
			covered := 0
			for _, c := range cs {
				ijs, err := json.Marshal(c.ASN.Items)
				if err != nil {
					t.Fatal(err)
				}
				if len(ijs)+len(hjs) > maxASNChunkBytes {
					t.Fatalf("chunk at %d: %d bytes of items and %d of header, budget %d", c.Start, len(ijs), len(hjs), maxASNChunkBytes)
				}
				if b := jsonEntry(t, TypeASNChunk, c); len(b) > 128<<10 {
					t.Fatalf("entry of %d bytes", len(b))
				}
				if c.ASN.Supplier != tc.supplier {
					t.Fatal("a chunk without the header")
				}
				covered += len(c.ASN.Items)
			}
			if covered != len(a.Items) {
				t.Fatalf("chunks cover %d of %d items", covered, len(a.Items))
			}
		})
	}
}

// TestCheckASNBoundsTheHeader: every header string is bounded, the
// supplier too.
func TestCheckASNBoundsTheHeader(t *testing.T) {
	long := strings.Repeat("x", event.MaxField+1)
	for name, change := range map[string]func(*master.ASN){
		"id":       func(a *master.ASN) { a.ID = long },
		"client":   func(a *master.ASN) { a.Client = long },
		"supplier": func(a *master.ASN) { a.Supplier = long },
		"lot":      func(a *master.ASN) { a.Items[1].Lot = long },
	} {
		a := bigASN("A-CHK", 5)
		if err := CheckASN(&a); err != nil {
			t.Fatalf("a good ASN: %v", err)
		}
		change(&a)
		if err := CheckASN(&a); !errors.Is(err, master.ErrInvalid) {
			t.Errorf("%s over %d bytes: %v", name, event.MaxField, err)
		}
	}
	a := bigASN("A-CHK", 5)
	a.Supplier = strings.Repeat("x", event.MaxField)
	if err := CheckASN(&a); err != nil {
		t.Errorf("a supplier at the bound: %v", err)
	}
}

func TestASNDigest(t *testing.T) {
	a := bigASN("A1", 5)
	d := ASNDigest(&a)
	for name, change := range map[string]func(*master.ASN){
		"id":       func(a *master.ASN) { a.ID = "A2" },
		"client":   func(a *master.ASN) { a.Client = "other" },
		"supplier": func(a *master.ASN) { a.Supplier = "p2" },
		"closed":   func(a *master.ASN) { a.Closed = true },
		"lot":      func(a *master.ASN) { a.Items[3].Lot = "L2" },
		"order":    func(a *master.ASN) { a.Items[3], a.Items[4] = a.Items[4], a.Items[3] },
		"dropped":  func(a *master.ASN) { a.Items = a.Items[:4] },
		"shifted":  func(a *master.ASN) { a.Items[3].Lot, a.Items[3].Expiry = "L1301231", "" },
	} {
		b := bigASN("A1", 5)
		change(&b)
		if ASNDigest(&b) == d {
			t.Errorf("%s: same digest", name)
		}
	}
	if b := bigASN("A1", 5); ASNDigest(&b) != d {
		t.Error("digest not deterministic")
	}
}

// asnState is what an import left: the record, how much is still
// staged and, with units, each item's unit version (every unit expected
// with one history entry).
func asnState(t *testing.T, st *state.Store, a master.ASN, units bool) (rec master.ASN, staged int, versions []uint64) {
	t.Helper()
	err := st.View(func(r *state.Reader) error {
		var err error
		if rec, err = r.ASN(a.ID); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if staged, err = r.ASNStaged(a.ID, ASNDigest(&a)); err != nil {
			return err
		}
		for _, it := range a.Items {
			if !units {
				break
			}
			u, err := r.Unit(it.Key)
			if err != nil {
				return err
			}
			h, err := r.History(it.Key, 0)
			if err != nil {
				return err
			}
			if u.Status != unit.StatusExpected || len(h) != 1 {
				t.Errorf("%s: %s with %d history entries", it.Key, u.Status, len(h))
			}
			versions = append(versions, u.Version)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec, staged, versions
}

// An import in chunks converges whatever was retried or reordered: the
// record ends whole and equal to the ASN, nothing stays staged, every
// item is expected once, and each item's first application is
// "applied", every later one a duplicate of it.
func TestASNChunksConverge(t *testing.T) {
	a := bigASN("A-CONV", 3*MaxASNChunk/2+MaxASNChunk) // 3 chunks
	cs := SplitASN(a, "admin", 5)
	if len(cs) != 3 {
		t.Fatalf("%d chunks", len(cs))
	}
	for _, order := range [][]int{
		{0, 1, 2},
		{0, 1, 0, 1, 2},       // the import cut short after two chunks, sent again
		{0, 1, 2, 0, 1, 2},    // sent twice
		{0, 0, 1, 1, 2, 2},    // two proposers of the same import, interleaved
		{2, 0, 1},             // out of order
		{1, 2, 0},             // out of order, the first last
		{0, 2, 1, 2},          // a gap filled, then a duplicate
		{0, 1, 2, 2, 1, 0, 0}, // late duplicates after completion
	} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			st := openStore(t)
			l := &log{p: newProc(t, st)}
			l.apply(t, jsonEntry(t, TypeUser, admin))
			first := map[int]Verdict{}
			var complete []bool
			for _, ci := range order {
				out := l.apply(t, jsonEntry(t, TypeASNChunk, cs[ci]))[0]
				res, ok := out.(ASNChunkResult)
				if !ok {
					t.Fatalf("chunk %d: %v", ci, out)
				}
				complete = append(complete, res.Complete)
				for i, v := range res.Verdicts {
					pos := cs[ci].Start + i
					if v.Seq != uint64(pos+1) {
						t.Fatalf("item %d: seq %d", pos, v.Seq)
					}
					f, seen := first[pos]
					switch {
					case !seen && v.Status != StatusApplied:
						t.Fatalf("item %d first seen as %s", pos, v.Status)
					case !seen:
						first[pos] = v
					case v.Status != StatusDuplicate || v.Index != f.Index || v.ID != f.ID || !reflect.DeepEqual(v.Result, f.Result):
						t.Fatalf("item %d again: %+v, first %+v", pos, v, f)
					}
				}
			}
			// Complete from the chunk that covered the ASN on.
			seen := map[int]bool{}
			for i, ci := range order {
				seen[ci] = true
				if want := len(seen) == len(cs); complete[i] != want {
					t.Fatalf("after chunk %d (step %d): complete %v, want %v", ci, i, complete[i], want)
				}
			}
			rec, staged, versions := asnState(t, st, a, true)
			if !reflect.DeepEqual(rec, a) || staged != 0 {
				t.Fatalf("record of %d items (want %d), %d staged", len(rec.Items), len(a.Items), staged)
			}
			for i, v := range versions {
				if v != 1 {
					t.Fatalf("item %d at version %d", i, v)
				}
			}
		})
	}
}

// Chunks of the legacy whole-ASN command and of chunk imports agree:
// the same ASN answered by either is a duplicate in the other, and a
// record stored before digests were kept is recognized.
func TestASNChunksAfterWholeASN(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	a := bigASN("A-OLD", 30)
	whole := l.apply(t, jsonEntry(t, TypeASN, ASN{ASN: a, User: "admin", At: 1, IDs: ASNEventIDs(&a)}))[0].(ASNResult)
	before, _ := hashOf(t, st)
	res := l.apply(t, chunkEntries(t, SplitASN(a, "admin", 2))...)[0].(ASNChunkResult)
	if !res.Complete {
		t.Fatal("the record the whole ASN stored is not taken as complete")
	}
	for i, v := range res.Verdicts {
		if v.Status != StatusDuplicate || v.ID != whole.Verdicts[i].ID || v.Index != whole.Verdicts[i].Index {
			t.Fatalf("item %d: %+v, whole %+v", i, v, whole.Verdicts[i])
		}
	}
	if after, _ := hashOf(t, st); after != before {
		t.Fatal("importing the same ASN again changed the state")
	}
}

// A changed ASN replaces the record; two versions imported at the same
// time end with the one completed last, and the other is told.
func TestASNVersions(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	v1 := bigASN("A-VER", MaxASNChunk+10)
	v2 := bigASN("A-VER", MaxASNChunk+10)
	v2.Items[MaxASNChunk+5].Lot = "L2"
	c1, c2 := SplitASN(v1, "admin", 1), SplitASN(v2, "admin", 2)
	if len(c1) != 2 || len(c2) != 2 || !reflect.DeepEqual(c1[0].ASN.Items, c2[0].ASN.Items) {
		t.Fatal("unexpected cut")
	}
	chunk := func(c ASNChunk) ASNChunkResult {
		t.Helper()
		res, ok := l.apply(t, jsonEntry(t, TypeASNChunk, c))[0].(ASNChunkResult)
		if !ok {
			t.Fatalf("chunk at %d refused", c.Start)
		}
		return res
	}
	record := func() master.ASN {
		var rec master.ASN
		st.View(func(r *state.Reader) error { var err error; rec, err = r.ASN("A-VER"); return err })
		return rec
	}
	chunk(c1[0])
	if !chunk(c1[1]).Complete || !reflect.DeepEqual(record(), v1) {
		t.Fatal("v1 not stored")
	}
	// v2: the unchanged first chunk is all duplicates, yet the record
	// stays v1 until v2 is whole.
	r := chunk(c2[0])
	if r.Complete || r.Verdicts[0].Status != StatusDuplicate || !reflect.DeepEqual(record(), v1) {
		t.Fatalf("v2's first chunk: complete %v, %s", r.Complete, r.Verdicts[0].Status)
	}
	r = chunk(c2[1])
	if !r.Complete || !reflect.DeepEqual(record(), v2) || r.Verdicts[5].Status != StatusApplied {
		t.Fatal("v2 not stored")
	}
	// Interleaved: v1 again and v2 again. v1 completes first, then v2's
	// second chunk is all duplicates: v2's items are expected, but v1 is
	// the record, and v2's import is told it is not.
	chunk(c1[0])
	chunk(c2[0])
	if !chunk(c1[1]).Complete || !reflect.DeepEqual(record(), v1) {
		t.Fatal("v1 again not stored")
	}
	if chunk(c2[1]).Complete || !reflect.DeepEqual(record(), v1) {
		t.Fatal("v2's late chunk took the record without its first part")
	}
	// Sent again whole, v2 is the record.
	chunk(c2[0])
	if !chunk(c2[1]).Complete || !reflect.DeepEqual(record(), v2) {
		t.Fatal("v2 sent again not stored")
	}
	if _, staged, _ := asnState(t, st, v2, false); staged != 0 {
		t.Fatalf("%d staged", staged)
	}
}

func TestASNChunkRefused(t *testing.T) {
	a := bigASN("A-BAD", 20)
	good := SplitASN(a, "admin", 1)[0]
	mod := func(f func(c *ASNChunk)) ASNChunk {
		c := good
		c.ASN.Items = append([]master.ASNItem(nil), good.ASN.Items...)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    ASNChunk
	}{
		{"no id", mod(func(c *ASNChunk) { c.ASN.ID = "" })},
		{"no client", mod(func(c *ASNChunk) { c.ASN.Client = "" })},
		{"too many items", mod(func(c *ASNChunk) {
			c.ASN.Items = bigASN("A-BAD", MaxASNChunk+1).Items
			c.Total = MaxASNChunk + 1
		})},
		{"past the total", mod(func(c *ASNChunk) { c.Start = 5 })},
		{"negative start", mod(func(c *ASNChunk) { c.Start = -1 })},
		{"empty part of a non-empty ASN", mod(func(c *ASNChunk) { c.ASN.Items = nil })},
		{"digest not hex", mod(func(c *ASNChunk) { c.Digest = "zz" })},
		{"bad key", mod(func(c *ASNChunk) { c.ASN.Items[2].Key = "nope" })},
		{"key twice", mod(func(c *ASNChunk) { c.ASN.Items[3].Key = c.ASN.Items[2].Key })},
		{"parent after its child", mod(func(c *ASNChunk) { c.ASN.Items[2].Parent = c.ASN.Items[5].Key })},
		{"parent unknown in the first chunk", mod(func(c *ASNChunk) { c.ASN.Items[2].Parent = event.SSCC(sscc(999)) })},
		{"parent not a key", mod(func(c *ASNChunk) { c.ASN.Items[2].Parent = "case-1" })},
		// Fields the expect event's codec could not read back.
		{"lot too long", mod(func(c *ASNChunk) { c.ASN.Items[2].Lot = strings.Repeat("L", event.MaxField+1) })},
		{"expiry too long", mod(func(c *ASNChunk) { c.ASN.Items[2].Expiry = strings.Repeat("1", 4*event.MaxField+1) })},
		{"id too long", mod(func(c *ASNChunk) { c.ASN.ID = strings.Repeat("A", event.MaxField+1) })},
		{"user too long", mod(func(c *ASNChunk) { c.User = strings.Repeat("u", event.MaxField+1) })},
		// The items make another ASN than the digest says: the events
		// apply (each chunk stands alone), the record is refused.
		{"digest of other items", mod(func(c *ASNChunk) { c.Digest = ASNDigest(&master.ASN{ID: "x"}) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			l := &log{p: newProc(t, st)}
			l.apply(t, jsonEntry(t, TypeUser, admin))
			before, _ := hashOf(t, st)
			res := l.apply(t, jsonEntry(t, TypeASNChunk, tc.c))[0]
			if err, ok := res.(error); !ok || !errors.Is(err, ErrRejected) {
				t.Fatalf("result %v", res)
			}
			var rec error
			var staged int
			st.View(func(r *state.Reader) error {
				_, rec = r.ASN("A-BAD")
				staged, _ = r.ASNStaged("A-BAD", tc.c.Digest)
				return nil
			})
			if !errors.Is(rec, state.ErrNotFound) || staged != 0 {
				t.Fatalf("record %v, %d staged", rec, staged)
			}
			// Only the last case applied its events.
			if after, _ := hashOf(t, st); (after != before) != (tc.name == "digest of other items") {
				t.Fatalf("state changed: %v", after != before)
			}
		})
	}
}

// A full chunk is one small transaction: the entry's writes stay far
// from Badger's limit, and the transaction does not split even when it
// gathers more entries than the processor ever does before committing
// (commitEvery writes and one entry more).
func TestASNChunkTransactionIsSmall(t *testing.T) {
	st := openStore(t)
	p := newProc(t, st)
	a := bigASN("A-TX", 10*MaxASNChunk)
	for i := range a.Items {
		a.Items[i].Lot = strings.Repeat("L", 20)
	}
	cs := SplitASN(a, "admin", 1)
	b := batch{tx: st.Begin(), p: p, auth: map[string]bool{}}
	defer b.tx.Discard()
	for i, c := range cs {
		before := b.tx.Writes()
		must(b.tx.FeedAt(uint64(i+1)), "feed")
		if _, ok := b.apply(Entry{Index: uint64(i + 1), Data: jsonEntry(t, TypeASNChunk, c)}).(ASNChunkResult); !ok {
			t.Fatalf("chunk %d refused", i)
		}
		w := b.tx.Writes() - before
		t.Logf("chunk %d: %d items, %d writes", i, len(c.ASN.Items), w)
		if w > 8*len(c.ASN.Items)+16 {
			t.Fatalf("chunk %d: %d writes for %d items", i, w, len(c.ASN.Items))
		}
	}
	if b.tx.Writes() < commitEvery {
		t.Fatalf("only %d writes gathered", b.tx.Writes())
	}
	if b.tx.Splits() != 0 {
		t.Fatalf("%d splits", b.tx.Splits())
	}
}

// The problem chunks solve, and the check that sees it: a large ASN in
// one entry splits its transaction, and SplitEntries names the entry.
func TestWholeLargeASNSplits(t *testing.T) {
	if testing.Short() {
		t.Skip("30,000 items")
	}
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	a := bigASN("A-WHOLE", 30000)
	ids := ASNEventIDs(&a)
	if _, ok := l.apply(t, jsonEntry(t, TypeASN, ASN{ASN: a, User: "admin", At: 1, IDs: ids}))[0].(ASNResult); !ok {
		t.Fatal("refused")
	}
	var split []uint64
	if err := st.View(func(r *state.Reader) error { var err error; split, err = r.SplitEntries(ids); return err }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(split, []uint64{l.idx}) {
		t.Fatalf("split entries %v, want [%d]", split, l.idx)
	}
	// The same ASN in chunks, in one Apply as raft hands the FSM a batch.
	st2 := openStore(t)
	l2 := &log{p: newProc(t, st2)}
	l2.apply(t, jsonEntry(t, TypeUser, admin))
	for _, res := range l2.apply(t, chunkEntries(t, SplitASN(a, "admin", 1))...) {
		if _, ok := res.(ASNChunkResult); !ok {
			t.Fatalf("chunk: %v", res)
		}
	}
	if err := st2.View(func(r *state.Reader) error { var err error; split, err = r.SplitEntries(ids); return err }); err != nil {
		t.Fatal(err)
	}
	if len(split) != 0 {
		t.Fatalf("chunks split: %v", split)
	}
}

// asnChunkSamples import one ASN whole in chunks and stage part of
// another, so records, digests and staging survive a snapshot.
func asnChunkSamples(t testing.TB) [][]byte {
	done := SplitASN(bigASN("A-SNAP", MaxASNChunk+5), "admin", 3)
	partial := SplitASN(bigASN("A-PART", MaxASNChunk+5), "admin", 3)
	return chunkEntries(t, append(done, partial[0]))
}
