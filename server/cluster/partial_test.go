package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// entry writes n units as the raft entry at index idx and commits it
// unless crash, which stops it after its first parts, as a crash would.
func entry(t *testing.T, st *state.Store, idx uint64, first, n int, crash bool) {
	t.Helper()
	tx := st.Begin()
	defer tx.Discard()
	if err := tx.FeedAt(idx); err != nil {
		t.Fatal(err)
	}
	for i := first; i < first+n; i++ {
		s := unit.State{Key: event.SGTIN("00300010123455", fmt.Sprintf("P%d", i)), Client: "acme", Status: unit.StatusInStock, Version: 1}
		if err := tx.PutUnit(s); err != nil {
			t.Fatal(err)
		}
	}
	if crash {
		if tx.Splits() == 0 {
			t.Fatal("the entry did not split")
		}
		return
	}
	if err := tx.SetApplied(idx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func hashAt(t *testing.T, st *state.Store) (string, uint64) {
	t.Helper()
	var h string
	var idx uint64
	if err := st.View(func(r *state.Reader) error {
		var err error
		if h, err = r.Hash(); err != nil {
			return err
		}
		idx, err = r.Applied()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return h, idx
}

// A node whose state a crash left between the parts of an entry starts
// from the newest snapshot, or from nothing when there is none, and
// never from the partial state.
func TestStartAfterACrashBetweenParts(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() *state.Store {
		st, err := state.Open(t.TempDir(), state.Options{MemTableSize: 8 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}

	t.Run("with a snapshot", func(t *testing.T) {
		st := open()
		entry(t, st, 1, 0, 100, false)
		entry(t, st, 2, 100, 100, false)
		wantHash, wantIdx := hashAt(t, st)
		snaps := raft.NewInmemSnapshotStore()
		sink, err := snaps.Create(raft.SnapshotVersionMax, wantIdx, 1, raft.Configuration{}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		snap := st.Snapshot()
		if _, err := snap.WriteTo(sink); err != nil {
			t.Fatal(err)
		}
		snap.Close()
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		entry(t, st, 3, 200, 100, false)
		entry(t, st, 4, 1000, 20000, true) // the crash
		if p, _ := st.Partial(); !p {
			t.Fatal("no partial mark")
		}
		if err := catchUpFromSnapshot(st, snaps, log); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.Partial(); p {
			t.Fatal("still partial")
		}
		if h, idx := hashAt(t, st); h != wantHash || idx != wantIdx {
			t.Fatalf("state after start: %s@%d, want the snapshot's %s@%d", h, idx, wantHash, wantIdx)
		}
	})

	t.Run("without a snapshot", func(t *testing.T) {
		st := open()
		entry(t, st, 1, 0, 100, false)
		entry(t, st, 2, 1000, 20000, true)
		if err := catchUpFromSnapshot(st, raft.NewInmemSnapshotStore(), log); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.Partial(); p {
			t.Fatal("still partial")
		}
		empty, _ := hashAt(t, open())
		if h, idx := hashAt(t, st); idx != 0 || h != empty {
			t.Fatalf("state after start at %d, want empty for a replay from the log's start", idx)
		}
	})
}
