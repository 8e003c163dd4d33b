// Package cluster runs one site node: the Badger state, the command
// processor behind a raft FSM, hashicorp/raft with a raft-wal log and
// stable store, a file snapshot store and a TCP (optionally TLS)
// transport, and the coalescer that batches events into entries.
//
// Any node accepts writes: the leader proposes them, a follower forwards
// them to the leader's HTTP endpoint (one hop; a forwarded request that
// meets a follower is refused with ErrNotLeader so a stale leader view
// never loops). Nodes find each other's HTTP addresses in the state: a
// node registers itself through the log when it joins or leads.
package cluster

import "errors"

// Errors returned by this package.
var (
	// ErrNoLeader reports that no leader is known: retry shortly.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNotLeader reports a forwarded request that reached a follower.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrBusy reports full write queues: retry after a short pause.
	ErrBusy = errors.New("cluster: busy, retry after a short pause")
	// ErrForward reports a failure talking to the leader.
	ErrForward = errors.New("cluster: forwarding to the leader failed")
	// ErrConfig reports a bad node configuration.
	ErrConfig = errors.New("cluster: bad configuration")
	// ErrMembership reports a join or removal the cluster refused.
	ErrMembership = errors.New("cluster: membership change refused")
	// ErrTimeout reports a write that did not commit in time.
	ErrTimeout = errors.New("cluster: timed out waiting for commit")
	// ErrOutcomeUnknown reports a command the leader proposed and then
	// lost its leadership: it may or may not be in the log. Read the
	// state before proposing it again.
	ErrOutcomeUnknown = errors.New("cluster: outcome unknown, the leader changed while the command was proposed")
	// ErrStale reports a local read refused because this node's state
	// may trail the leader by more than the freshness the reader asked
	// for (Node.CheckFresh): retry, read another node, or read at the
	// leader.
	ErrStale = errors.New("cluster: this node's state may be older than the freshness asked for")
	// ErrAnswerLost reports a forwarded write whose request reached the
	// leader but whose answer did not come back (the connection broke,
	// the leader stopped): it may have been applied. Not a "retry": say
	// so. Sending it again is safe all the same, events, ASN items and
	// records being idempotent.
	ErrAnswerLost = errors.New("cluster: the leader received the forwarded write but its answer was lost: it may have been applied; sending it again is safe (events and records are idempotent)")
	// ErrJoinUnanswered reports a join whose node does not answer on the
	// addresses it gave (not yet started, or not there at all): it is
	// not added. Retry once the node runs.
	ErrJoinUnanswered = errors.New("cluster: the joining node does not answer")
)

// HTTP paths the nodes serve to one another (the api package mounts
// them). They carry the binary command encoding, not the public JSON.
const (
	PathForwardEvents  = "/internal/v1/events"
	PathForwardPropose = "/internal/v1/propose"
	PathSelf           = "/api/v1/cluster/self"
	PathJoin           = "/api/v1/cluster/join"
	// HeaderForwarded marks a request a node forwarded to the leader.
	HeaderForwarded = "X-Custody-Forwarded"
	// HeaderSecret carries the cluster secret on node-to-node requests
	// (Config.Secret).
	HeaderSecret = "X-Custody-Cluster-Secret"
)
