package cluster

import (
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the node's Prometheus metrics: raft state, indexes,
// apply lag, a follower's last contact with the leader, the state's size
// on disk, the coalescer's queue and the entries apply refused as
// malformed.
func (n *Node) Collectors() []prometheus.Collector {
	g := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "custody", Subsystem: "raft", Name: name, Help: help,
			ConstLabels: prometheus.Labels{"node": n.cfg.ID}}, f)
	}
	return []prometheus.Collector{
		g("leader", "1 when this node leads.", func() float64 { return b2f(n.raft.State() == raft.Leader) }),
		g("state", "Raft state: 0 follower, 1 candidate, 2 leader, 3 shutdown.", func() float64 { return float64(n.raft.State()) }),
		g("term", "Current raft term.", func() float64 { return float64(n.raft.CurrentTerm()) }),
		g("commit_index", "Last committed log index.", func() float64 { return float64(n.raft.CommitIndex()) }),
		g("applied_index", "Last log index the state reflects.", func() float64 { return float64(n.fsm.Applied()) }),
		g("apply_lag", "Committed entries not yet applied.", func() float64 {
			c, a := n.raft.CommitIndex(), n.raft.AppliedIndex()
			if c < a {
				return 0
			}
			return float64(c - a)
		}),
		g("last_contact_seconds", "Seconds since a follower last heard from the leader (0 on the leader, -1 before it ever heard from one).", func() float64 {
			if n.raft.State() == raft.Leader {
				return 0
			}
			if t := n.raft.LastContact(); !t.IsZero() {
				return time.Since(t).Seconds()
			}
			return -1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "custody", Subsystem: "state", Name: "lsm_bytes",
			Help: "Bytes of the state's tables and manifest on disk.", ConstLabels: prometheus.Labels{"node": n.cfg.ID}},
			func() float64 { lsm, _ := n.st.Size(); return float64(lsm) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "custody", Subsystem: "state", Name: "log_bytes",
			Help: "Bytes of the state's value and memtable logs on disk (memtable logs are preallocated).", ConstLabels: prometheus.Labels{"node": n.cfg.ID}},
			func() float64 { _, vlog := n.st.Size(); return float64(vlog) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "custody", Subsystem: "coalescer", Name: "queued_events",
			Help: "Events waiting for a raft entry.", ConstLabels: prometheus.Labels{"node": n.cfg.ID}},
			func() float64 { return float64(n.coal.Depth()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "custody", Subsystem: "coalescer", Name: "entries_total",
			Help: "Raft entries proposed by the coalescer.", ConstLabels: prometheus.Labels{"node": n.cfg.ID}},
			func() float64 { return float64(n.coal.Entries()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "custody", Subsystem: "apply", Name: "malformed_entries_total",
			Help: "Raft entries refused at apply because their payload did not decode (each is logged once).", ConstLabels: prometheus.Labels{"node": n.cfg.ID}},
			func() float64 { return float64(n.proc.Malformed()) }),
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
