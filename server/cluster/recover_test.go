package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
)

// view reads a member's state hash, applied index and incarnation.
func view(t *testing.T, m *sitetest.Member) (hash string, applied uint64, inc string) {
	t.Helper()
	err := m.Node.State().View(func(r *state.Reader) error {
		var err error
		if hash, err = r.Hash(); err != nil {
			return err
		}
		if applied, err = r.Applied(); err != nil {
			return err
		}
		inc, err = r.Incarnation()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hash, applied, inc
}

func submitApplied(t *testing.T, m *sitetest.Member, g *workload.Gen, n int) {
	t.Helper()
	vs, err := m.Node.SubmitEvents(context.Background(), g.Receive(n), false)
	if err != nil {
		t.Fatalf("write on %s: %v", m.ID, err)
	}
	for i, v := range vs {
		if v.Status != command.StatusApplied {
			t.Fatalf("write on %s: event %d: %+v", m.ID, i, v)
		}
	}
}

// Two of three nodes gone for good: the survivor, recovered as a cluster
// of one, keeps its state, takes writes, and grows back to three nodes
// that agree.
func TestRecoverAfterQuorumLoss(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(30 * time.Second)
	g := workload.New(workload.Options{Seed: 21, Prefix: "rec"})
	for range 4 {
		submitApplied(t, leader, g, 200)
	}
	site.WaitConverged(time.Minute)
	surv := site.Follower()
	hash, applied, inc := view(t, surv)
	for _, m := range site.Members {
		if m != surv {
			site.Kill(m)
		}
	}
	// Without a quorum the survivor takes no write.
	lost := workload.New(workload.Options{Seed: 22, Prefix: "noquorum"})
	if _, err := surv.Node.SubmitEvents(context.Background(), lost.Receive(1), false); !errors.Is(err, cluster.ErrNoLeader) && !errors.Is(err, cluster.ErrForward) {
		t.Fatalf("write without a quorum: %v, want no leader", err)
	}
	site.Kill(surv)

	site.Recover(surv, surv.Alone())
	if l := site.WaitLeader(30 * time.Second); l != surv {
		t.Fatalf("leader %s after recovery, want %s", l.ID, surv.ID)
	}
	h2, a2, inc2 := view(t, surv)
	if h2 != hash || a2 != applied {
		t.Fatalf("recovered state at %d hash %.12s, was at %d hash %.12s", a2, h2, applied, hash)
	}
	if inc2 == "" || inc2 == inc {
		t.Fatalf("incarnation %q after recovery, was %q: devices would not resync", inc2, inc)
	}
	submitApplied(t, surv, g, 100)

	site.Add("n4", surv)
	site.Add("n5", surv)
	site.WaitMembers(3, 2*time.Minute)
	submitApplied(t, surv, g, 100)
	site.WaitConverged(time.Minute)
	for _, m := range site.Running() {
		if _, _, i := view(t, m); i != inc2 {
			t.Fatalf("%s incarnation %q, want %q", m.ID, i, inc2)
		}
	}
}

// Recover refuses a peers list that would leave the node out or give it
// another address, and a directory holding no node.
func TestRecoverRefusesBadPeers(t *testing.T) {
	dir := t.TempDir()
	cfg := cluster.Config{ID: "n1", Dir: dir, RaftAddr: "127.0.0.1:7001"}
	voter := func(id, addr string) raft.Server {
		return raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Voter}
	}
	for _, tc := range []struct {
		name  string
		peers []raft.Server
	}{
		{"empty", nil},
		{"without the node", []raft.Server{voter("n2", "127.0.0.1:7002")}},
		{"another address", []raft.Server{voter("n1", "127.0.0.1:7009")}},
		{"non-voter", []raft.Server{{ID: "n1", Address: "127.0.0.1:7001", Suffrage: raft.Nonvoter}}},
		{"no node in the directory", []raft.Server{voter("n1", "127.0.0.1:7001")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cluster.Recover(cfg, raft.Configuration{Servers: tc.peers}); !errors.Is(err, cluster.ErrConfig) {
				t.Fatalf("Recover: %v, want ErrConfig", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err == nil {
		t.Fatal("a refused recovery created a state")
	}
}

func TestReadPeers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "peers.json")
	if err := os.WriteFile(good, []byte(`[{"id":"n1","address":"127.0.0.1:7001","non_voter":false}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := cluster.ReadPeers(good)
	if err != nil || len(conf.Servers) != 1 || conf.Servers[0].ID != "n1" || conf.Servers[0].Suffrage != raft.Voter {
		t.Fatalf("ReadPeers: %+v %v", conf, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"id":"n1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.ReadPeers(bad); !errors.Is(err, cluster.ErrConfig) {
		t.Fatalf("ReadPeers of a bad file: %v", err)
	}
}
