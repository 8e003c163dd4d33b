package cluster

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/raft"
)

// VerifyRead makes a local read linearizable: when it returns nil, the
// state reflects every entry committed before it was called, and this
// node led throughout. It is the read index of the raft dissertation
// (§6.4):
//
//  1. The node leads in term T and has committed an entry of T (a
//     barrier, once per term). A new leader's commit index may trail
//     what its predecessor committed and acknowledged until an entry of
//     its own term commits: reading before that could miss a write a
//     client was told of.
//  2. It takes its commit index as the read index.
//  3. It confirms with a quorum that it still leads (VerifyLeader), and
//     that its term is still T: a node deposed and elected again in
//     between has a read index from another term.
//  4. It waits, woken by the FSM, until the state reflects the read
//     index.
//
// Followers must forward leader-consistent reads instead.
func (n *Node) VerifyRead(ctx context.Context) error {
	if !n.IsLeader() {
		return retry(ErrNotLeader, 200*time.Millisecond)
	}
	term := n.raft.CurrentTerm()
	if err := n.commitOwnTerm(term); err != nil {
		return err
	}
	idx := n.raft.CommitIndex()
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return raftErr(err)
	}
	if now := n.raft.CurrentTerm(); now != term {
		return retry(fmt.Errorf("%w: the term changed from %d to %d during the read", ErrNotLeader, term, now), 200*time.Millisecond)
	}
	return n.WaitApplied(ctx, idx)
}

// commitOwnTerm makes sure this node, leading in term, has committed an
// entry of that term: once per term it commits a barrier. Concurrent
// reads at the start of a term share one barrier.
func (n *Node) commitOwnTerm(term uint64) error {
	if n.readTerm.Load() == term {
		return nil
	}
	n.readTermMu.Lock()
	defer n.readTermMu.Unlock()
	if n.readTerm.Load() == term {
		return nil
	}
	if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err != nil {
		return raftErr(err)
	}
	// The barrier's term is term or later: should the node have been
	// deposed and elected again meanwhile, the term stored is older than
	// the current one and the next read commits another barrier.
	n.readTerm.Store(term)
	return nil
}

// WaitApplied waits until the state reflects index idx: the FSM has
// applied every entry up to it. The FSM wakes the wait after each batch
// it applies; entries it is never handed (a new leader's no-op,
// barriers) need no wait.
func (n *Node) WaitApplied(ctx context.Context, idx uint64) error {
	return n.fsm.WaitSeen(ctx, n.lastForFSM(idx))
}

// reflects reports whether the state reflects every entry up to idx.
// Raft's AppliedIndex is not enough: raft advances it when it queues
// entries for the FSM, before the FSM applied them.
func (n *Node) reflects(idx uint64) bool {
	return n.fsm.Seen() >= n.lastForFSM(idx)
}

// lastForFSM is the last entry at or before idx that raft hands to the
// FSM (a command or a configuration), or the FSM's Seen when there is
// none after it: raft keeps the other entries (no-ops, barriers) from
// the FSM, so the FSM's own index never lands on them. An entry the log
// no longer holds counts as one the FSM is handed.
func (n *Node) lastForFSM(idx uint64) uint64 {
	seen := n.fsm.Seen()
	for i := idx; i > seen; i-- {
		var l raft.Log
		if err := n.wal.GetLog(i, &l); err != nil {
			return i
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i
		}
	}
	return seen
}

// newestSnapshot returns a function that gives the raft index of the
// newest snapshot in snaps: the one the FSM restores when the leader
// sends this node a snapshot.
func newestSnapshot(snaps raft.SnapshotStore) func() uint64 {
	return func() uint64 {
		list, err := snaps.List()
		if err != nil || len(list) == 0 {
			return 0
		}
		return list[0].Index
	}
}

// CheckFresh decides whether a local read on this node meets a bound on
// staleness: nil when this node's state trails its leader by at most
// maxLag, ErrStale otherwise.
//
//   - The leader passes: its state is the newest there is, or was until
//     its lease ran out (a leader that does not hear from a quorum
//     within LeaderLeaseTimeout steps down). Only consistency=leader
//     rules that lease out.
//   - A node that knows no leader fails.
//   - A follower passes when it heard from the leader within maxLag
//     (raft's last contact: every append or heartbeat, which also
//     carries the leader's commit index) and, if its state does not yet
//     reflect everything it knows to be committed, the first entry it
//     has not applied was appended by the leader within maxLag (the
//     entry's AppendedAt, stamped by the leader's clock).
func (n *Node) CheckFresh(maxLag time.Duration) error {
	if n.IsLeader() {
		return nil
	}
	if _, id := n.raft.LeaderWithID(); id == "" {
		return retry(fmt.Errorf("%w: no leader known", ErrStale), time.Second)
	}
	commit := n.raft.CommitIndex()
	caughtUp := n.reflects(commit)
	var pending time.Time
	if !caughtUp {
		var l raft.Log
		if n.wal.GetLog(n.fsm.Seen()+1, &l) == nil {
			pending = l.AppendedAt
		}
	}
	lag := staleness(time.Now(), n.raft.LastContact(), caughtUp, pending)
	if lag > maxLag {
		return retry(fmt.Errorf("%w: up to %s behind the leader, %s allowed", ErrStale, lag.Round(time.Millisecond), maxLag), time.Second)
	}
	return nil
}

// staleness bounds how far, in time, a follower's state trails its
// leader: since it last heard from the leader (contact) when its state
// reflects everything it knows to be committed (caughtUp); otherwise at
// least since the leader appended the first entry the state does not
// reflect yet (pending; zero when unknown, which counts as unbounded).
func staleness(now, contact time.Time, caughtUp bool, pending time.Time) time.Duration {
	if contact.IsZero() {
		return math.MaxInt64
	}
	lag := now.Sub(contact)
	if caughtUp {
		return lag
	}
	if pending.IsZero() {
		return math.MaxInt64
	}
	return max(lag, now.Sub(pending))
}
