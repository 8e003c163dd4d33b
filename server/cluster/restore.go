package cluster

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
)

// RestoreBackup turns a backup stream into the data directory of the
// first node of a new cluster: the state is loaded into dir/state, given
// a new incarnation id (the change feed's cluster id changes with it, so
// devices resync) and written as the node's raft snapshot at the
// backup's applied index, with a configuration of this node alone.
// Started on dir, the node elects itself, continues the log after that
// index, and sends the snapshot to every node that joins. dir must hold
// no node yet.
func RestoreBackup(dir, id, raftAddr string, backup io.Reader) (uint64, error) {
	if id == "" || raftAddr == "" {
		return 0, fmt.Errorf("%w: restore needs the node id and raft address", ErrConfig)
	}
	for _, sub := range []string{"state", "raft"} {
		if ents, err := os.ReadDir(filepath.Join(dir, sub)); err == nil && len(ents) > 0 {
			return 0, fmt.Errorf("%w: %s already holds a node: restore into an empty directory", ErrConfig, dir)
		}
	}
	raftDir := filepath.Join(dir, "raft")
	if err := os.MkdirAll(filepath.Join(raftDir, "wal"), 0o700); err != nil {
		return 0, fmt.Errorf("data dir: %w", err)
	}
	st, err := state.Open(filepath.Join(dir, "state"), state.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Restore(backup); err != nil {
		return 0, err
	}
	idx, err := st.Applied()
	if err != nil {
		return 0, err
	}
	if idx == 0 {
		return 0, fmt.Errorf("%w: the backup holds no applied index", state.ErrCorrupt)
	}
	// A new incarnation: the log restarts at the backup's index, so a
	// device cursor from the old cluster may name another history. The id
	// goes into the snapshot below, hence to every node that joins.
	if err := st.SetIncarnation(NewIncarnation()); err != nil {
		return 0, err
	}
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Error, Output: io.Discard})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl)
	if err != nil {
		return 0, fmt.Errorf("snapshot store: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(id), Address: raft.ServerAddress(raftAddr), Suffrage: raft.Voter}}}
	// The transport only encodes the legacy peer list of the snapshot meta.
	_, trans := raft.NewInmemTransport(raft.ServerAddress(raftAddr))
	defer trans.Close()
	sink, err := snaps.Create(raft.SnapshotVersionMax, idx, 1, conf, 1, trans)
	if err != nil {
		return 0, fmt.Errorf("create snapshot: %w", err)
	}
	snap := st.Snapshot()
	_, err = snap.WriteTo(sink)
	snap.Close()
	if err != nil {
		_ = sink.Cancel()
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	meta := &metadb.BoltMetaDB{}
	defer meta.Close()
	wal, err := raftwal.Open(filepath.Join(raftDir, "wal"), raftwal.WithMetaStore(meta))
	if err != nil {
		return 0, fmt.Errorf("raft log: %w", err)
	}
	defer wal.Close()
	if err := wal.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		return 0, fmt.Errorf("raft term: %w", err)
	}
	return idx, nil
}

// NewIncarnation makes a random incarnation id.
func NewIncarnation() string { return rand.Text() }

// EnsureIncarnation gives a cluster formed by bootstrap (not restored
// from a backup) its incarnation id: on the leader, when the state holds
// none, it proposes a random one; on a follower it does nothing. The
// processor keeps the first id the log carries, so leaders racing here
// agree, and every replica has it. Meant for the leader's chores, next
// to seeding the site record.
func (n *Node) EnsureIncarnation() error {
	if !n.IsLeader() {
		return nil
	}
	var cur string
	if err := n.st.View(func(r *state.Reader) error {
		var err error
		cur, err = r.Incarnation()
		return err
	}); err != nil || cur != "" {
		return err
	}
	_, err := n.proposeJSON(command.TypeIncarnation, command.Incarnation{ID: NewIncarnation()})
	return err
}
