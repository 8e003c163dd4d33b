package fsm

import (
	"bytes"
	"context"
	"errors"
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
	return New(st, p, nil), st
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

// WaitSeen returns once a batch carries Seen to the index asked for,
// woken by the FSM (no polling), and ends with its context otherwise.
func TestWaitSeenWakesOnApply(t *testing.T) {
	f, _ := newFSM(t)
	g := workload.New(workload.Options{Seed: 5})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitSeen(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitSeen before any entry: %v, want the context's end", err)
	}
	done := make(chan error, 1)
	go func() { done <- f.WaitSeen(context.Background(), 3) }()
	f.ApplyBatch([]*raft.Log{{Index: 1, Type: raft.LogConfiguration}})
	f.ApplyBatch([]*raft.Log{{Index: 2, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(5)})},
		{Index: 3, Type: raft.LogConfiguration}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.Seen(); got != 3 {
		t.Fatalf("Seen %d, want 3", got)
	}
	// Reached already: no wait.
	if err := f.WaitSeen(ctx, 2); err != nil {
		t.Fatalf("WaitSeen for an index reached: %v", err)
	}
}

// After a restore the FSM has seen up to the restored snapshot's raft
// index, which may lie past the snapshot's last command (a no-op, a
// barrier).
func TestRestoreSeesTheSnapshotIndex(t *testing.T) {
	src, _ := newFSM(t)
	g := workload.New(workload.Options{Seed: 6})
	src.ApplyBatch([]*raft.Log{{Index: 4, Type: raft.LogCommand, Data: command.EncodeEvents(&command.Events{Events: g.Mixed(5)})}})
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var out sink
	if err := snap.Persist(&out); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	st, err := state.Open(t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := command.New(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	dst := New(st, p, func() uint64 { return 6 })
	if err := dst.Restore(io.NopCloser(&out)); err != nil {
		t.Fatal(err)
	}
	if dst.Applied() != 4 || dst.Seen() != 6 {
		t.Fatalf("after restore applied %d seen %d, want 4 and 6", dst.Applied(), dst.Seen())
	}
}
