package cluster_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// submit retries while the cluster has no leader, as a device would.
func submit(t *testing.T, m *sitetest.Member, evs []event.Event) []command.Verdict {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		vs, err := m.Node.SubmitEvents(ctx, evs, false)
		cancel()
		if err == nil {
			return vs
		}
		var re *cluster.RetryError
		if !errors.As(err, &re) || time.Now().After(deadline) {
			t.Fatalf("submit: %v", err)
		}
		time.Sleep(re.After)
	}
}

func units(t *testing.T, m *sitetest.Member) []unit.State {
	t.Helper()
	var out []unit.State
	err := m.Node.State().View(func(r *state.Reader) error {
		p, err := r.Units(state.UnitFilter{})
		out = p.Items
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestThreeNodesWriteThroughFollower(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	f := site.Follower()
	g := workload.New(workload.Options{Seed: 5})
	vs := submit(t, f, g.Receive(200))
	if len(vs) != 200 {
		t.Fatalf("%d verdicts", len(vs))
	}
	for _, v := range vs {
		if v.Status != command.StatusApplied || v.Result.Verdict != unit.VerdictApplied {
			t.Fatalf("verdict %+v", v)
		}
	}
	vs = submit(t, f, g.Mixed(500))
	for _, v := range vs {
		if v.Status != command.StatusApplied {
			t.Fatalf("verdict %+v", v)
		}
	}
	// A command through a follower, and a rejected one.
	data, _ := command.EncodeJSON(command.TypeClient, master.Client{ID: "acme", Name: "Acme"})
	if _, err := f.Node.Propose(context.Background(), data, false); err != nil {
		t.Fatal(err)
	}
	bad, _ := command.EncodeJSON(command.TypeProduct, master.Product{GTIN: "12", Client: "acme"})
	if _, err := f.Node.Propose(context.Background(), bad, false); !errors.Is(err, command.ErrRejected) {
		t.Fatalf("bad product through a follower: %v", err)
	}
	site.WaitConverged(30 * time.Second)
	if got := len(units(t, f)); got < 200 {
		t.Fatalf("follower holds %d units", got)
	}
	st, err := f.Node.ClusterStatus(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 3 || st.Leader == "" {
		t.Fatalf("status %+v", st)
	}
	for _, n := range st.Nodes[1:] {
		if n.Hash != st.Nodes[0].Hash || n.Applied != st.Nodes[0].Applied {
			t.Fatalf("status shows diverging nodes: %+v", st.Nodes)
		}
	}
}

func TestPlannedShutdownTransfersLeadership(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	old := site.WaitLeader(10 * time.Second)
	term := old.Node.Raft().CurrentTerm()
	site.Stop(old)
	// The leader handed over before it stopped: a successor is already there.
	var next *sitetest.Member
	for _, m := range site.Running() {
		if m.Node.IsLeader() {
			next = m
		}
	}
	if next == nil {
		next = site.WaitLeader(10 * time.Second)
	}
	if next.Node.Raft().CurrentTerm() <= term {
		t.Fatalf("term did not advance")
	}
	g := workload.New(workload.Options{Seed: 6})
	if vs := submit(t, site.Follower(), g.Receive(10)); vs[9].Status != command.StatusApplied {
		t.Fatalf("write after the handover: %+v", vs[9])
	}
}

func TestRestartReplaysAndRestoresSnapshot(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 1})
	m := site.Members[0]
	g := workload.New(workload.Options{Seed: 7})
	submit(t, m, g.Mixed(300))
	if err := m.Node.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	submit(t, m, g.Mixed(300))
	want := units(t, m)
	var wantHash string
	m.Node.State().View(func(r *state.Reader) error { wantHash, _ = r.Hash(); return nil })

	// A plain restart: the state is kept, nothing is replayed twice.
	site.Stop(m)
	site.Restart(m)
	site.WaitLeader(20 * time.Second)
	if got := units(t, m); !reflect.DeepEqual(got, want) {
		t.Fatal("state changed across a restart")
	}

	// Lose the state entirely: the snapshot is restored, then the log after it replayed.
	site.Stop(m)
	if err := os.RemoveAll(filepath.Join(m.Dir, "state")); err != nil {
		t.Fatal(err)
	}
	site.Restart(m)
	site.WaitLeader(20 * time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var h string
		m.Node.State().View(func(r *state.Reader) error { h, _ = r.Hash(); return nil })
		if h == wantHash {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rebuilt state differs")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Writes continue.
	if vs := submit(t, m, g.Receive(5)); vs[4].Status != command.StatusApplied {
		t.Fatalf("%+v", vs[4])
	}
}

func TestBackupRestoresIntoNewCluster(t *testing.T) {
	old := sitetest.Start(t, sitetest.Options{Nodes: 1})
	g := workload.New(workload.Options{Seed: 8})
	submit(t, old.Members[0], g.Mixed(400))
	snap := old.Members[0].Node.State().Snapshot()
	var backup bytes.Buffer
	if _, err := snap.WriteTo(&backup); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	want := units(t, old.Members[0])
	old.StopAll()

	dir := filepath.Join(t.TempDir(), "n1")
	raftAddr := sitetest.FreeAddr(t)
	idx, err := cluster.RestoreBackup(dir, "n1", raftAddr, bytes.NewReader(backup.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if idx == 0 {
		t.Fatal("restored index 0")
	}
	if _, err := cluster.RestoreBackup(dir, "n1", raftAddr, bytes.NewReader(backup.Bytes())); err == nil {
		t.Fatal("restore into a used directory accepted")
	}
	site := sitetest.StartRestored(t, dir, raftAddr, 3)
	site.WaitConverged(60 * time.Second)
	for _, m := range site.Members {
		if got := units(t, m); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: restored units differ (%d vs %d)", m.ID, len(got), len(want))
		}
	}
	// The devices' sequences survived: a resend is a duplicate.
	evs := workload.New(workload.Options{Seed: 8}).Mixed(5)
	for _, v := range submit(t, site.Follower(), evs) {
		if v.Status != command.StatusDuplicate {
			t.Fatalf("resend after restore: %+v", v)
		}
	}
}

func TestRaftOverMutualTLS(t *testing.T) {
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "test-site"})
	if err != nil {
		t.Fatal(err)
	}
	tlsFor := func(id string) (*tls.Config, *tls.Config) {
		leaf, err := ca.IssueNode(id, []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		return certs.ServerTLS(ca.Cert(), leaf.TLSCertificate(), nil, certs.AcceptKinds(certs.KindNode)),
			certs.ClientTLS(ca.Cert(), leaf.TLSCertificate(), "")
	}
	site := sitetest.Start(t, sitetest.Options{Nodes: 3, RaftTLS: tlsFor})
	g := workload.New(workload.Options{Seed: 11})
	for _, v := range submit(t, site.Follower(), g.Mixed(200)) {
		if v.Status != command.StatusApplied {
			t.Fatalf("%+v", v)
		}
	}
	site.WaitConverged(30 * time.Second)

	// A node with a certificate of another CA cannot take part.
	other, _ := certs.NewCA(certs.CAConfig{SiteName: "other-site"})
	leaf, _ := other.IssueNode("n9", []string{"127.0.0.1"})
	cfg := certs.ClientTLS(other.Cert(), leaf.TLSCertificate(), "")
	conn, err := tls.Dial("tcp", site.Members[0].Raft, cfg)
	if err == nil {
		// TLS 1.3 reports a refused client certificate on the first read.
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a foreign node certificate was accepted by the raft listener")
	}
}
