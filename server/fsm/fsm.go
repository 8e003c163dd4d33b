// Package fsm adapts the command processor to hashicorp/raft. It is thin
// on purpose: decoding, dispatch and every rule live in package command,
// which replays a log without raft; this package only hands raft's
// batches to it and streams state snapshots in and out.
package fsm

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
)

// FSM is a raft.BatchingFSM over the site state. Raft hands it what was
// committed since the last call, up to the node's MaxAppendEntries
// entries, and no caller hears back before the whole batch is applied:
// the cluster keeps that bound small (32 entries) so one batch is tens of
// milliseconds of work, while still applying many entries per state
// transaction.
type FSM struct {
	st      *state.Store
	p       *command.Processor
	applied atomic.Uint64
	// seen is the last index of every batch raft handed to ApplyBatch
	// (commands and configuration entries), stored after the batch is
	// applied.
	seen atomic.Uint64
	// snapIndex, when set, is the raft index of the snapshot a Restore
	// just loaded (see New).
	snapIndex func() uint64

	mu sync.Mutex
	// changed is closed, and replaced, whenever seen moves: waiters in
	// WaitSeen wake on it instead of polling.
	changed chan struct{}
}

// New returns the FSM over st, resuming at the state's applied index.
// snapIndex, when not nil, tells a Restore the raft index of the
// snapshot it loads (the newest in the node's snapshot store): the
// state's own applied index is that of the snapshot's last command,
// and entries after it up to the snapshot's index (a new leader's
// no-op, barriers) are reflected too.
func New(st *state.Store, p *command.Processor, snapIndex func() uint64) *FSM {
	f := &FSM{st: st, p: p, snapIndex: snapIndex, changed: make(chan struct{})}
	f.applied.Store(p.Applied())
	f.seen.Store(p.Applied())
	return f
}

// setSeen moves seen to idx and wakes the waiters.
func (f *FSM) setSeen(idx uint64) {
	f.seen.Store(idx)
	f.mu.Lock()
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// WaitSeen waits until Seen reaches idx or ctx ends. The FSM wakes its
// waiters after every batch it applies and every restore.
func (f *FSM) WaitSeen(ctx context.Context, idx uint64) error {
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if f.seen.Load() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Applied is the last log index the state reflects.
func (f *FSM) Applied() uint64 { return f.applied.Load() }

// Seen is the last log index raft handed to the FSM whose batch is
// applied: Applied, or a later configuration entry. Raft's own
// AppliedIndex runs ahead of it (raft counts an entry applied once it is
// queued for the FSM).
func (f *FSM) Seen() uint64 { return f.seen.Load() }

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM: the commands of the batch go
// to the processor in one state transaction.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	entries := make([]command.Entry, 0, len(logs))
	pos := make([]int, 0, len(logs))
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		entries = append(entries, command.Entry{Index: l.Index, Data: l.Data})
		pos = append(pos, i)
	}
	out := make([]any, len(logs))
	if len(entries) > 0 {
		res := f.p.Apply(entries)
		for i, r := range res {
			out[pos[i]] = r
		}
		f.applied.Store(f.p.Applied())
	}
	if len(logs) > 0 {
		f.setSeen(max(f.seen.Load(), logs[len(logs)-1].Index, f.p.Applied()))
	}
	return out
}

// Snapshot implements raft.FSM. It runs on the FSM goroutine, so the
// Badger view it opens is exactly the state at the last applied index;
// writing it out happens later, concurrently with new applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return &snapshot{s: f.st.Snapshot()}, nil
}

// Restore implements raft.FSM: the state is replaced by the stream.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	err := f.st.Restore(rc)
	if err != nil {
		err = fmt.Errorf("fsm restore: %w", err)
	}
	// A failed restore leaves the state empty: the processor must not
	// go on from the index it had before.
	if rerr := f.p.Reset(); rerr != nil && err == nil {
		err = rerr
	}
	f.applied.Store(f.p.Applied())
	seen := f.p.Applied()
	if err == nil && f.snapIndex != nil {
		seen = max(seen, f.snapIndex())
	}
	f.setSeen(seen)
	return err
}

type snapshot struct{ s *state.Snap }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.s.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() { s.s.Close() }

var _ raft.BatchingFSM = (*FSM)(nil)
