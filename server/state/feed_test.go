package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// applyAt writes one "entry" at index idx the way the processor does.
func applyAt(t *testing.T, st *Store, idx uint64, fn func(tx *Tx) error) {
	t.Helper()
	tx := st.Begin()
	defer tx.Discard()
	if err := tx.FeedAt(idx); err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetApplied(idx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestFeed(t *testing.T) {
	st := openTest(t)
	u := func(i int) unit.State {
		return unit.State{Key: event.SGTIN("00300010123455", fmt.Sprintf("F%d", i)), Client: "acme", Status: unit.StatusInStock, Version: 1}
	}
	applyAt(t, st, 1, func(tx *Tx) error { return tx.PutClient(master.Client{ID: "acme", Name: "Acme"}) })
	applyAt(t, st, 2, func(tx *Tx) error {
		for i := range 3 {
			if err := tx.PutUnit(u(i)); err != nil {
				return err
			}
			if err := tx.PutUnit(u(i)); err != nil { // twice in one entry: noted once
				return err
			}
		}
		return nil
	})
	applyAt(t, st, 3, func(tx *Tx) error { return tx.PutNode(Node{ID: "n1", Raft: "x"}) }) // nodes are not in the feed
	applyAt(t, st, 4, func(tx *Tx) error { return tx.PutUnit(u(0)) })
	read := func(after uint64, max int) ([]FeedRef, uint64, bool, error) {
		var refs []FeedRef
		var to uint64
		var more bool
		err := st.View(func(r *Reader) error { var err error; refs, to, more, err = r.Feed(after, max); return err })
		return refs, to, more, err
	}
	for _, tc := range []struct {
		after uint64
		max   int
		want  []FeedRef
		to    uint64
		more  bool
	}{
		{0, 100, []FeedRef{{MasterClient, "acme"}, {FeedUnit, string(u(1).Key)}, {FeedUnit, string(u(2).Key)}, {FeedUnit, string(u(0).Key)}}, 4, false},
		{1, 2, []FeedRef{{FeedUnit, string(u(0).Key)}, {FeedUnit, string(u(1).Key)}, {FeedUnit, string(u(2).Key)}}, 2, true},
		{2, 100, []FeedRef{{FeedUnit, string(u(0).Key)}}, 4, false},
		{4, 100, nil, 4, false},
	} {
		refs, to, more, err := read(tc.after, tc.max)
		if err != nil || fmt.Sprint(refs) != fmt.Sprint(tc.want) || to != tc.to || more != tc.more {
			t.Errorf("Feed(%d, %d) = %v, %d, %v, %v; want %v, %d, %v", tc.after, tc.max, refs, to, more, err, tc.want, tc.to, tc.more)
		}
	}
	// Entries past the window drop the oldest feed; older cursors are gone.
	for i := uint64(5); i <= FeedWindow+3; i++ {
		applyAt(t, st, i, func(tx *Tx) error { return nil })
	}
	if _, _, _, err := read(1, 10); !errors.Is(err, ErrFeedGone) {
		t.Fatalf("old cursor: %v", err)
	}
	refs, _, _, err := read(3, 10)
	if err != nil || len(refs) != 1 {
		t.Fatalf("cursor at the window's edge: %v %v", refs, err)
	}
	n := 0
	_ = st.View(func(r *Reader) error {
		return r.scan([]byte{tFeed}, nil, false, func(k, _ []byte) (bool, error) { n++; return true, nil })
	})
	if n != 1 {
		t.Fatalf("%d feed records kept, want the one of entry 4", n)
	}
}

// Records of the per-reference layout (f index pos → kind id) are read
// alongside the per-entry ones and dropped when they leave the window.
func TestFeedLegacyRecords(t *testing.T) {
	st := openTest(t)
	legacy := func(idx uint64, pos uint32) []byte {
		return binary.BigEndian.AppendUint32(feedKey(idx), pos)
	}
	err := st.db.Update(func(txn *badger.Txn) error {
		for i, id := range []string{"old-a", "old-b"} {
			if err := txn.Set(legacy(1, uint32(i+1)), append([]byte{FeedUnit}, id...)); err != nil {
				return err
			}
		}
		return txn.Set(keyApplied, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	applyAt(t, st, 2, func(tx *Tx) error { return tx.PutClient(master.Client{ID: "acme", Name: "Acme"}) })
	var refs []FeedRef
	err = st.View(func(r *Reader) error { var err error; refs, _, _, err = r.Feed(0, 100); return err })
	want := []FeedRef{{FeedUnit, "old-a"}, {FeedUnit, "old-b"}, {MasterClient, "acme"}}
	if err != nil || fmt.Sprint(refs) != fmt.Sprint(want) {
		t.Fatalf("Feed = %v, %v; want %v", refs, err, want)
	}
	for i := uint64(3); i <= FeedWindow+1; i++ {
		applyAt(t, st, i, func(tx *Tx) error { return nil })
	}
	var keys []string
	_ = st.View(func(r *Reader) error {
		return r.scan([]byte{tFeed}, nil, false, func(k, _ []byte) (bool, error) { keys = append(keys, fmt.Sprintf("%x", k)); return true, nil })
	})
	if len(keys) != 1 || keys[0] != fmt.Sprintf("%x", feedKey(2)) {
		t.Fatalf("feed records kept: %v, want only entry 2's", keys)
	}
}
