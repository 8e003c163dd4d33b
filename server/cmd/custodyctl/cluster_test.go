package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
)

func ctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestClusterStatusBackupRestore(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	url := site.Follower().URL()
	code, out, errs := ctl(t, "--server", url, "cluster", "status", "--hash")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	var st struct {
		Leader string
		Nodes  []struct {
			ID, Address, State, Hash string
			Applied                  uint64
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status output is not JSON: %v\n%s", err, out)
	}
	if st.Leader == "" || len(st.Nodes) != 3 {
		t.Fatalf("status %+v", st)
	}
	for _, n := range st.Nodes {
		if n.ID == "" || n.Address == "" || n.State == "" || n.Applied == 0 {
			t.Fatalf("node %+v", n)
		}
	}
	if code, _, errs := ctl(t, "--server", url, "cluster", "transfer-leadership"); code != 0 {
		t.Fatalf("transfer: %d %s", code, errs)
	}
	if code, _, _ := ctl(t, "--server", url, "cluster", "remove"); code != 2 {
		t.Fatal("remove without an id accepted")
	}

	// A new cluster bounds its feed by references; an admin changes the
	// bound through any node, within limits.
	feed := func() (limit, from uint64) {
		t.Helper()
		code, out, errs := ctl(t, "--server", url, "cluster", "feed")
		var f struct {
			LimitRefs uint64 `json:"limit_refs"`
			FromIndex uint64 `json:"from_index"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &f) != nil {
			t.Fatalf("feed: %d %s %s", code, out, errs)
		}
		return f.LimitRefs, f.FromIndex
	}
	if limit, from := feed(); limit != state.DefaultFeedRefs || from != 1 {
		t.Fatalf("new cluster's feed: limit %d from %d", limit, from)
	}
	if code, _, errs := ctl(t, "--server", url, "cluster", "feed", "100"); code != 1 || !strings.Contains(errs, "limit_refs") {
		t.Fatalf("a limit below the minimum: %d %s", code, errs)
	}
	if code, _, errs := ctl(t, "--server", url, "cluster", "feed", "70000"); code != 0 {
		t.Fatalf("set the feed limit: %d %s", code, errs)
	}
	site.WaitConverged(30 * time.Second)
	if limit, _ := feed(); limit != 70000 {
		t.Fatalf("feed limit %d after setting 70000", limit)
	}

	file := filepath.Join(t.TempDir(), "site.backup")
	if code, out, errs := ctl(t, "--server", url, "backup", file); code != 0 || !strings.Contains(out, "log index") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	dir := filepath.Join(t.TempDir(), "new")
	raftAddr := sitetest.FreeAddr(t)
	if code, out, errs := ctl(t, "restore", file, "--data", dir, "--id", "n1", "--raft", raftAddr); code != 0 {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if code, _, _ := ctl(t, "restore", file, "--data", dir); code != 1 {
		t.Fatal("restore into a used directory accepted")
	}
	restored := sitetest.StartRestored(t, dir, raftAddr, 1)
	var users int
	restored.Members[0].Node.State().View(func(r *state.Reader) error {
		us, err := r.Users()
		users = len(us)
		return err
	})
	if users == 0 {
		t.Fatal("restored site has no users")
	}
}
