package cluster_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
)

func incarnations(t *testing.T, s *sitetest.Site) []string {
	t.Helper()
	var out []string
	for _, m := range s.Running() {
		var inc string
		if err := m.Node.State().View(func(r *state.Reader) error { var err error; inc, err = r.Incarnation(); return err }); err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
	return out
}

func sameIncarnation(t *testing.T, what string, incs []string) string {
	t.Helper()
	for _, inc := range incs {
		if inc == "" || inc != incs[0] {
			t.Fatalf("%s: incarnations %q", what, incs)
		}
	}
	return incs[0]
}

// A bootstrapped cluster gets its incarnation through the log, once, on
// every replica; a cluster restored from its backup gets another one, on
// every node that joins it (through the snapshot), and so does a second
// restore of the same backup.
func TestIncarnationPerCluster(t *testing.T) {
	old := sitetest.Start(t, sitetest.Options{Nodes: 2})
	leader := old.WaitLeader(30 * time.Second)
	if err := leader.Node.EnsureIncarnation(); err != nil {
		t.Fatal(err)
	}
	old.WaitConverged(30 * time.Second)
	first := sameIncarnation(t, "bootstrapped", incarnations(t, old))
	if err := leader.Node.EnsureIncarnation(); err != nil {
		t.Fatal(err)
	}
	if err := old.Follower().Node.EnsureIncarnation(); err != nil {
		t.Fatal(err)
	}
	old.WaitConverged(30 * time.Second)
	if again := sameIncarnation(t, "asked again", incarnations(t, old)); again != first {
		t.Fatalf("incarnation changed from %q to %q", first, again)
	}
	submit(t, leader, workload.New(workload.Options{Seed: 3}).Mixed(50))
	snap := leader.Node.State().Snapshot()
	var backup bytes.Buffer
	if _, err := snap.WriteTo(&backup); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	old.StopAll()

	restore := func() (string, string) {
		dir := filepath.Join(t.TempDir(), "n1")
		raftAddr := sitetest.FreeAddr(t)
		if _, err := cluster.RestoreBackup(dir, "n1", raftAddr, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		return dir, raftAddr
	}
	dir, raftAddr := restore()
	site := sitetest.StartRestored(t, dir, raftAddr, 3)
	site.WaitConverged(60 * time.Second)
	restored := sameIncarnation(t, "restored", incarnations(t, site))
	if restored == first {
		t.Fatal("the restored cluster kept the old incarnation")
	}
	// A leader that asks finds one and proposes nothing.
	before := site.WaitLeader(30 * time.Second).Node.Applied()
	if err := site.WaitLeader(30 * time.Second).Node.EnsureIncarnation(); err != nil {
		t.Fatal(err)
	}
	if after := site.WaitLeader(30 * time.Second).Node.Applied(); after != before {
		t.Fatalf("applied %d entries asking for an incarnation the cluster has", after-before)
	}
	site.StopAll()

	dir2, _ := restore()
	st, err := state.Open(filepath.Join(dir2, "state"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var second string
	if err := st.View(func(r *state.Reader) error { var err error; second, err = r.Incarnation(); return err }); err != nil {
		t.Fatal(err)
	}
	if second == "" || second == restored || second == first {
		t.Fatalf("second restore: incarnation %q (first %q, restored %q)", second, first, restored)
	}
}
