package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/fsm"
	"github.com/custodyhq/custody/server/state"
)

// ReadPeers reads a recovery configuration: a JSON array of the members
// the cluster is to have, each {"id", "address" (raft host:port),
// "non_voter"}, the format of raft's peers.json.
func ReadPeers(path string) (raft.Configuration, error) {
	conf, err := raft.ReadConfigJSON(path)
	if err != nil {
		return raft.Configuration{}, fmt.Errorf("%w: peers file %s: %v", ErrConfig, path, err)
	}
	return conf, nil
}

// Recover rewrites the membership of the stopped node in cfg.Dir to
// peers, for a cluster that lost its quorum for good (two of three nodes
// gone): started afterwards, the node forms a cluster with those peers
// alone (itself alone, usually), elects a leader and takes writes again;
// new nodes then join it as usual.
//
// The node keeps its state and applies every entry in its log, including
// any its old cluster had not committed yet. Entries the old cluster
// committed without this node are lost with the nodes that held them:
// recover the survivor whose log is the longest. The state gets a new
// incarnation id, as a restored backup does, so devices whose cursors
// may name entries of the lost history resync (they never drop their
// outboxes).
//
// It returns the last log index the recovered configuration starts
// from. peers must list this node, as a voter, at cfg.RaftAddr.
func Recover(cfg Config, peers raft.Configuration) (uint64, error) {
	if err := cfg.defaults(); err != nil {
		return 0, err
	}
	if err := checkPeers(cfg, peers); err != nil {
		return 0, err
	}
	raftDir := filepath.Join(cfg.Dir, "raft")
	if _, err := os.Stat(filepath.Join(raftDir, "wal")); err != nil {
		return 0, fmt.Errorf("%w: %s holds no node to recover: %v", ErrConfig, cfg.Dir, err)
	}
	log := cfg.Logger.With("node", cfg.ID)
	st, err := state.Open(filepath.Join(cfg.Dir, "state"), state.Options{Logger: log, MemTableSize: cfg.StateMemTableSize})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: raftLog{log}, DisableTime: true})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl)
	if err != nil {
		return 0, fmt.Errorf("snapshot store: %w", err)
	}
	if err := catchUpFromSnapshot(st, snaps, log); err != nil {
		return 0, err
	}
	proc, err := command.New(st, 0)
	if err != nil {
		return 0, err
	}
	meta := &metadb.BoltMetaDB{}
	defer meta.Close()
	wal, err := raftwal.Open(filepath.Join(raftDir, "wal"), raftwal.WithMetaStore(meta))
	if err != nil {
		return 0, fmt.Errorf("raft log: %w", err)
	}
	defer wal.Close()
	last, err := wal.LastIndex()
	if err != nil {
		return 0, fmt.Errorf("raft log: %w", err)
	}
	// The transport only encodes the legacy peer list of the snapshot meta.
	_, trans := raft.NewInmemTransport(raft.ServerAddress(cfg.RaftAddr))
	defer trans.Close()
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = hl
	f := &recoveringFSM{FSM: fsm.New(st, proc, newestSnapshot(snaps)), st: st}
	if err := raft.RecoverCluster(rc, f, wal, wal, snaps, trans, peers); err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	if f.incarnation == "" {
		return 0, errors.New("recover: raft took no snapshot of the state")
	}
	log.Warn("recovered the cluster configuration: start the node, then join new nodes to it",
		"last_index", last, "peers", len(peers.Servers), "incarnation", f.incarnation)
	return last, nil
}

// checkPeers makes sure the node recovers into a configuration it is a
// voter of, at the address it listens on.
func checkPeers(cfg Config, peers raft.Configuration) error {
	if len(peers.Servers) == 0 {
		return fmt.Errorf("%w: the peers list is empty", ErrConfig)
	}
	for _, s := range peers.Servers {
		if string(s.ID) != cfg.ID {
			continue
		}
		if s.Suffrage != raft.Voter {
			return fmt.Errorf("%w: the peers list makes %s a non-voter", ErrConfig, cfg.ID)
		}
		if string(s.Address) != cfg.RaftAddr {
			return fmt.Errorf("%w: the peers list gives %s the raft address %s, the node's is %s", ErrConfig, cfg.ID, s.Address, cfg.RaftAddr)
		}
		return nil
	}
	return fmt.Errorf("%w: the peers list does not name this node (%s)", ErrConfig, cfg.ID)
}

// recoveringFSM gives the state a new incarnation id just before raft
// snapshots it for the recovered configuration: the snapshot, which
// every node that joins receives, carries the new id.
type recoveringFSM struct {
	*fsm.FSM
	st          *state.Store
	incarnation string
}

func (f *recoveringFSM) Snapshot() (raft.FSMSnapshot, error) {
	id := NewIncarnation()
	if err := f.st.SetIncarnation(id); err != nil {
		return nil, err
	}
	f.incarnation = id
	return f.FSM.Snapshot()
}
