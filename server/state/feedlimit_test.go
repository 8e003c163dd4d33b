package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// entryFn is what one raft entry writes.
type entryFn func(tx *Tx) error

// changeUnits is an entry that changes n units, starting at unit first.
func changeUnits(first, n int) entryFn {
	return func(tx *Tx) error {
		for i := first; i < first+n; i++ {
			s := unit.State{Key: event.SGTIN("00300010123455", fmt.Sprintf("L%d", i)), Client: "acme", Status: unit.StatusInStock, Version: 1}
			if err := tx.PutUnit(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// applyBatch applies entries from index first on in one transaction, the
// way the processor applies a batch raft hands it.
func applyBatch(t *testing.T, st *Store, first uint64, entries []entryFn) {
	t.Helper()
	tx := st.Begin()
	defer tx.Discard()
	for i, fn := range entries {
		if err := tx.FeedAt(first + uint64(i)); err != nil {
			t.Fatal(err)
		}
		if err := fn(tx); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.SetApplied(first + uint64(len(entries)) - 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// feedRecords lists the feed's records: index → references.
func feedRecords(t *testing.T, st *Store) (map[uint64]int, uint64) {
	t.Helper()
	out := map[uint64]int{}
	var total uint64
	err := st.View(func(r *Reader) error {
		return r.scan([]byte{tFeed}, nil, true, func(k, v []byte) (bool, error) {
			idx := binary.BigEndian.Uint64(k[1:9])
			return true, decodeFeed(k, v, func(FeedRef) { out[idx]++; total++ })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, total
}

func boundOf(t *testing.T, st *Store) FeedBound {
	t.Helper()
	var b FeedBound
	if err := st.View(func(r *Reader) error { var err error; b, err = r.FeedBound(); return err }); err != nil {
		t.Fatal(err)
	}
	return b
}

func feedFrom(st *Store, after uint64) ([]FeedRef, error) {
	var refs []FeedRef
	err := st.View(func(r *Reader) error { var err error; refs, _, _, err = r.Feed(after, 1<<20); return err })
	return refs, err
}

// TestFeedLimitKeepsTheNewestReferences: with a limit the feed holds the
// newest records up to the limit (plus its slack and the entry just
// applied), counts what it holds exactly, serves every cursor from the
// first entry it still has and calls older ones gone.
func TestFeedLimitKeepsTheNewestReferences(t *testing.T) {
	st := openTest(t)
	const limit = 64 // slack 4
	applyAt(t, st, 1, func(tx *Tx) error { return tx.SetFeedLimit(limit) })
	next := 0
	for idx := uint64(2); idx <= 200; idx++ {
		n := 1 + int(idx%7) // 1–7 units an entry
		applyAt(t, st, idx, changeUnits(next, n))
		next += n

		recs, total := feedRecords(t, st)
		b := boundOf(t, st)
		if b.Held != total || b.Limit != limit {
			t.Fatalf("entry %d: bound %+v, records hold %d", idx, b, total)
		}
		if b.Held > limit+limit/trimSlack+7 {
			t.Fatalf("entry %d: %d references held, limit %d", idx, b.Held, limit)
		}
		oldest := idx
		for i := range recs {
			oldest = min(oldest, i)
		}
		if oldest != b.From && b.From > 2 {
			t.Fatalf("entry %d: oldest record %d, bound from %d", idx, oldest, b.From)
		}
		if b.From > 2 {
			if _, err := feedFrom(st, b.From-2); !errors.Is(err, ErrFeedGone) {
				t.Fatalf("entry %d: cursor %d before the feed: %v", idx, b.From-2, err)
			}
		}
		refs, err := feedFrom(st, b.From-1)
		if err != nil || uint64(len(refs)) != total {
			t.Fatalf("entry %d: cursor %d: %d references, %v; want %d", idx, b.From-1, len(refs), err, total)
		}
	}
	if b := boundOf(t, st); b.From < 150 {
		t.Fatalf("the feed was not trimmed: %+v", b)
	}
}

// TestFeedLimitSameWhateverTheBatching: replicas apply the same log in
// batches of different sizes (the leader and the followers never agree
// on them), through the switch from a feed kept by entries to one kept
// by references, and must end with the same feed and the same bound.
func TestFeedLimitSameWhateverTheBatching(t *testing.T) {
	var log []entryFn
	next := 0
	for i := range FeedWindow + 600 {
		n := 1 + i%5
		if i%5 == 0 {
			// Large entries: a batch of 32 holds more references than
			// the limit below, so trimming reaches records written
			// earlier in the same transaction.
			n = 60
		}
		log = append(log, changeUnits(next, n))
		next += n
	}
	switchAt := FeedWindow + 300 // an index past the old window
	log[switchAt-1] = func(tx *Tx) error { return tx.SetFeedLimit(300) }

	// The reference replica applies one entry a transaction and notes its
	// feed after every entry; the others are compared with it after each
	// of their batches.
	type view struct {
		bound   FeedBound
		records string
	}
	viewOf := func(st *Store) view {
		recs, _ := feedRecords(t, st)
		return view{boundOf(t, st), fmt.Sprint(recs)}
	}
	ref := openTest(t)
	at := map[uint64]view{}
	for i := range log {
		applyBatch(t, ref, uint64(i+1), log[i:i+1])
		if i+1 >= switchAt {
			at[uint64(i+1)] = viewOf(ref)
		}
	}
	wb := at[uint64(len(log))].bound
	if wb.Limit != 300 || wb.From <= uint64(switchAt)-FeedWindow+1 {
		t.Fatalf("bound %+v", wb)
	}
	for _, seed := range []uint64{7, 11} {
		st := openTest(t)
		r := rand.New(rand.NewPCG(seed, 1))
		for i := 0; i < len(log); {
			n := min(1+r.IntN(32), len(log)-i)
			applyBatch(t, st, uint64(i+1), log[i:i+n])
			i += n
			if i < switchAt {
				continue
			}
			if got, want := viewOf(st), at[uint64(i)]; got != want {
				t.Fatalf("seed %d, after entry %d: bound %+v, one entry a batch: %+v (records equal: %v)",
					seed, i, got.bound, want.bound, got.records == want.records)
			}
		}
		h1, err := ref.hashNow()
		if err != nil {
			t.Fatal(err)
		}
		h2, err := st.hashNow()
		if err != nil {
			t.Fatal(err)
		}
		if h1 != h2 {
			t.Errorf("seed %d: state hash differs", seed)
		}
	}
}

// A feed kept by entries switches to a limit without forgetting cursors
// it could serve: the records it has are counted and the first servable
// cursor stays where the old window put it.
func TestFeedLimitSwitchKeepsServableCursors(t *testing.T) {
	st := openTest(t)
	next := 0
	last := uint64(FeedWindow + 20)
	for idx := uint64(1); idx <= last; idx++ {
		applyAt(t, st, idx, changeUnits(next, 2))
		next += 2
	}
	if _, err := feedFrom(st, last-FeedWindow-1); !errors.Is(err, ErrFeedGone) {
		t.Fatalf("before the switch, cursor %d: %v", last-FeedWindow-1, err)
	}
	// The switching entry is the last the old window moves for: after
	// it, the first servable cursor is where the window would put it.
	applyAt(t, st, last+1, func(tx *Tx) error { return tx.SetFeedLimit(DefaultFeedRefs) })
	oldest := last + 1 - FeedWindow
	b := boundOf(t, st)
	if b.From != oldest+1 || b.Held != 2*FeedWindow-2 {
		t.Fatalf("bound after the switch %+v, want from %d holding %d", b, oldest+1, 2*FeedWindow-2)
	}
	if refs, err := feedFrom(st, oldest); err != nil || len(refs) != 2*FeedWindow-2 {
		t.Fatalf("cursor %d after the switch: %d references, %v", oldest, len(refs), err)
	}
	if _, err := feedFrom(st, oldest-1); !errors.Is(err, ErrFeedGone) {
		t.Fatalf("after the switch, cursor %d: %v", oldest-1, err)
	}
	// Entries keep their records now: nothing falls out of a window.
	for idx := last + 2; idx <= last+100; idx++ {
		applyAt(t, st, idx, changeUnits(next, 2))
		next += 2
	}
	if refs, err := feedFrom(st, oldest); err != nil || len(refs) != 2*FeedWindow-2+2*99 {
		t.Fatalf("cursor %d 100 entries later: %d references, %v", oldest, len(refs), err)
	}
}

func (s *Store) hashNow() (string, error) {
	var h string
	err := s.View(func(r *Reader) error { var err error; h, err = r.Hash(); return err })
	return h, err
}
