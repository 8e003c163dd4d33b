package state

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

func putUnits(t *testing.T, st *Store, commit bool, units ...unit.State) {
	t.Helper()
	tx := st.Begin()
	for _, u := range units {
		if err := tx.PutUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if !commit {
		tx.Discard()
		return
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func txUnit(t *testing.T, st *Store, k event.Key) unit.State {
	t.Helper()
	tx := st.Begin()
	defer tx.Discard()
	u, err := tx.Unit(k)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The write path's unit cache must answer exactly what Badger holds:
// after commits, after a discarded transaction, and after a restore.
func TestUnitCacheFollowsCommittedState(t *testing.T) {
	st := openTest(t)
	a := sampleUnit()
	putUnits(t, st, true, a)

	if got := txUnit(t, st, a.Key); got != a {
		t.Fatalf("after commit: %+v", got)
	}
	// The commit filled the cache, and the write path reads from it.
	if rec, ok := st.units.get(a.Key); !ok || !bytes.Equal(rec, encodeUnit(&a)) {
		t.Fatalf("cache after commit: %x %v", rec, ok)
	}

	// A discarded transaction leaves nothing behind.
	moved := a
	moved.Location, moved.Version = "B-02", a.Version+1
	putUnits(t, st, false, moved)
	if got := txUnit(t, st, a.Key); got != a {
		t.Fatalf("after a discarded write: %+v", got)
	}

	// A snapshot taken now, then a newer state, then the snapshot
	// restored: the write path sees the restored state.
	var snap bytes.Buffer
	s := st.Snapshot()
	if _, err := s.WriteTo(&snap); err != nil {
		t.Fatal(err)
	}
	s.Close()
	putUnits(t, st, true, moved)
	if got := txUnit(t, st, a.Key); got != moved {
		t.Fatalf("after the second commit: %+v", got)
	}
	if err := st.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	if got := txUnit(t, st, a.Key); got != a {
		t.Fatalf("after restore: %+v", got)
	}
	// And it agrees with a read transaction.
	if err := st.View(func(r *Reader) error {
		got, err := r.Unit(a.Key)
		if err == nil && got != a {
			t.Fatalf("reader after restore: %+v", got)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestUnitCacheBounded(t *testing.T) {
	c := newUnitCache(8)
	recs := map[event.Key][]byte{}
	for i := range 100 {
		k := event.SGTIN("00300010123455", fmt.Sprint(i))
		recs[k] = encodeUnit(&unit.State{Key: k, Version: uint64(i)})
		c.put(map[event.Key][]byte{k: recs[k]})
		if n := len(c.cur) + len(c.prev); n > 8 {
			t.Fatalf("%d entries held, at most 8", n)
		}
	}
	// The newest entries are there, with their records; the oldest are gone.
	k99 := event.SGTIN("00300010123455", "99")
	if rec, ok := c.get(k99); !ok || !bytes.Equal(rec, recs[k99]) {
		t.Fatalf("newest entry: %x %v", rec, ok)
	}
	if _, ok := c.get(event.SGTIN("00300010123455", "0")); ok {
		t.Fatal("the oldest entry is still held")
	}
}

// A unit the site does not know is cached as unknown, and a later write
// replaces that.
func TestUnitCacheUnknownThenWritten(t *testing.T) {
	st := openTest(t)
	a := sampleUnit()
	tx := st.Begin()
	if u, err := tx.Unit(a.Key); err != nil || u.Known() {
		t.Fatalf("unknown unit: %+v %v", u, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if u := txUnit(t, st, a.Key); u.Known() {
		t.Fatalf("unknown unit after commit: %+v", u)
	}
	putUnits(t, st, true, a)
	if u := txUnit(t, st, a.Key); u != a {
		t.Fatalf("after the write: %+v", u)
	}
}
