package cluster

import "github.com/hashicorp/raft"

// LogEntry reads the entry at index from this node's raft log, for
// readers that follow the committed log beside the FSM (the signals
// analyzer). An index compacted away by a snapshot is raft.ErrLogNotFound.
func (n *Node) LogEntry(index uint64, l *raft.Log) error { return n.wal.GetLog(index, l) }

// FirstLogIndex is the oldest entry the log still holds (0 when empty).
func (n *Node) FirstLogIndex() (uint64, error) { return n.wal.FirstIndex() }
