package fsm

import (
	"bytes"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
)

func newFSM(t *testing.T) (*FSM, *state.Store) {
	t.Helper()
	st, err := state.Open(t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := command.New(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	return New(st, p), st
}

type sink struct {
	bytes.Buffer
	cancelled bool
}

func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { s.cancelled = true; return nil }
func (s *sink) Close() error  { return nil }

func hash(t *testing.T, st *state.Store) string {
	var h string
	if err := st.View(func(r *state.Reader) error { var err error; h, err = r.Hash(); return err }); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBatchSkipsNonCommandsAndSnapshotsRestore(t *testing.T) {
	f, st := newFSM(t)
	g := workload.New(workload.Options{Seed: 4})
	logs := []*raft.Log{
		{Index: 1, Type: raft.LogConfiguration},
		{Index: 2, Type: raft.LogNoop},
		{Index: 3, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(50)})},
		{Index: 4, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(50)})},
	}
	res := f.ApplyBatch(logs)
	if res[0] != nil || res[1] != nil {
		t.Fatalf("non-command entries answered %v %v", res[0], res[1])
	}
	if vs, ok := res[3].([]command.Verdict); !ok || len(vs) != 50 {
		t.Fatalf("entry 4 answered %T", res[3])
	}
	if f.Applied() != 4 {
		t.Fatalf("applied %d", f.Applied())
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Entries applied after the snapshot was taken are not in it.
	f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(10)})})
	var s sink
	if err := snap.Persist(&s); err != nil || s.cancelled {
		t.Fatalf("persist: %v", err)
	}
	snap.Release()

	f2, st2 := newFSM(t)
	if err := f2.Restore(io.NopCloser(bytes.NewReader(s.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if f2.Applied() != 4 {
		t.Fatalf("restored at %d", f2.Applied())
	}
	// Replaying entry 5 brings both to the same state.
	f2.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: workload.New(workload.Options{Seed: 4}).Mixed(110)[100:]})})
	if hash(t, st) != hash(t, st2) {
		t.Fatal("restored and replayed state differs")
	}
}

// A restore that fails leaves the state empty, and the processor and the
// FSM start again from index 0 rather than from the index they had.
func TestFailedRestoreResetsTheProcessor(t *testing.T) {
	f, _ := newFSM(t)
	g := workload.New(workload.Options{Seed: 4})
	f.ApplyBatch([]*raft.Log{{Index: 7, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(20)})}})
	if f.Applied() != 7 || f.Seen() != 7 {
		t.Fatalf("applied %d, seen %d", f.Applied(), f.Seen())
	}
	if err := f.Restore(io.NopCloser(bytes.NewReader([]byte("CUSTODY-STATE 1\nbroken")))); err == nil {
		t.Fatal("a damaged snapshot restored")
	}
	if f.Applied() != 0 || f.Seen() != 0 || f.p.Applied() != 0 {
		t.Fatalf("after a failed restore: applied %d, seen %d, processor %d", f.Applied(), f.Seen(), f.p.Applied())
	}
}

// Seen covers configuration entries, which change no state.
func TestSeenCoversConfigurationEntries(t *testing.T) {
	f, _ := newFSM(t)
	f.ApplyBatch([]*raft.Log{{Index: 1, Type: raft.LogConfiguration}, {Index: 2, Type: raft.LogConfiguration}})
	if f.Applied() != 0 || f.Seen() != 2 {
		t.Fatalf("applied %d, seen %d", f.Applied(), f.Seen())
	}
}
