package syncsite_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/client"
)

// restoredRig is a rig on a data directory cluster.RestoreBackup made.
func restoredRig(t *testing.T, dir, raftAddr string) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: dir, RaftAddr: raftAddr, HTTPAddr: ln.Addr().String(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	site := syncsite.New(node, syncsite.Config{FeedInterval: 100 * time.Millisecond})
	ep := syncsite.NewEndpoint(site, syncsite.EndpointConfig{TrustHello: true})
	serveSync(t, node, ep, ln)
	waitFor(t, "the restored node to lead", node.IsLeader)
	return &rig{node: node, site: site, url: "ws://" + ln.Addr().String() + syncsite.Path}
}

// runUntil runs the device's sync client against r until the returned
// stop is called.
func (r *rig) runUntil(t *testing.T, d *device) (stop func()) {
	c, err := client.New(d, client.Config{URL: r.url, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// TestRestoredSiteMakesDevicesResync: a cluster restored from a backup
// restarts its log at the backup's index, so it has a feed id of its
// own; a device holding a cursor from before the restore is told to
// resync (it must not take the new cluster's indexes for the old ones),
// and then follows the restored site.
func TestRestoredSiteMakesDevicesResync(t *testing.T) {
	old := newRig(t)
	keys := old.seed(t, 3)
	d := newDevice("dev-a", "op")
	stop := old.runUntil(t, d)
	waitFor(t, "the device's replica", func() bool { return d.unit(keys[0]).Status == unit.StatusExpected })
	oldID := old.site.ClusterID()
	stop()
	cur, _ := d.Cursor()
	if cur.Cluster != oldID || cur.Index == 0 || d.resyncs != 1 {
		t.Fatalf("device cursor %v after %d resyncs; cluster %q", cur, d.resyncs, oldID)
	}

	snap := old.node.State().Snapshot()
	var backup bytes.Buffer
	if _, err := snap.WriteTo(&backup); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	dir := filepath.Join(t.TempDir(), "n1")
	raftAddr := freeAddr(t)
	idx, err := cluster.RestoreBackup(dir, "n1", raftAddr, bytes.NewReader(backup.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	r := restoredRig(t, dir, raftAddr)
	newID := r.site.ClusterID()
	if newID == oldID || !strings.HasPrefix(newID, "site:S1@") {
		t.Fatalf("restored cluster id %q, before %q", newID, oldID)
	}
	// The old cursor's index is within what the restored log numbers.
	if cur.Index > idx {
		t.Fatalf("cursor %d past the backup's index %d", cur.Index, idx)
	}
	_, snapCur, err := r.site.Snapshot(context.Background(), "dev-a", "op")
	if err != nil || snapCur.Cluster != newID {
		t.Fatalf("snapshot cursor %v, %v", snapCur, err)
	}

	r.runUntil(t, d)
	waitFor(t, "the device to resync from the restored site", func() bool {
		c, _ := d.Cursor()
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.resyncs == 2 && c.Cluster == newID
	})
	if d.unit(keys[0]).Status != unit.StatusExpected {
		t.Fatal("the resynced replica lost the units")
	}
	// Every node of the restored cluster names the feed alike.
	var inc string
	if err := r.node.State().View(func(rd *state.Reader) error { var err error; inc, err = rd.Incarnation(); return err }); err != nil {
		t.Fatal(err)
	}
	if newID != "site:S1@"+inc {
		t.Fatalf("cluster id %q, incarnation %q", newID, inc)
	}
}
