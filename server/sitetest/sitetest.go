// Package sitetest starts real site nodes inside a test process: raft on
// loopback TCP, Badger in t.TempDir(), the HTTP API on a real listener.
// Package tests and benchmarks use it; end-to-end tests start real
// processes instead (see e2e/procs).
package sitetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/coalesce"
	"github.com/custodyhq/custody/server/state"
)

// Options shape a test site.
type Options struct {
	Nodes    int // default 1
	Coalesce coalesce.Options
	// Timeouts override the raft defaults (1 s) when set.
	Heartbeat, Election time.Duration
	Verbose             bool // log to stderr
	// RaftTLS, when set, gives each node id its raft server and client
	// TLS configurations.
	RaftTLS func(id string) (server, client *tls.Config)
	// ClusterSecret, when set, is every node's cluster secret.
	ClusterSecret string
	// NetCut lets the test cut members off the raft network
	// (Member.Isolate, Member.Heal).
	NetCut bool
	// Configure, when set, adjusts each member's configuration before
	// it first starts (per-node raft timing, say).
	Configure func(id string, c *cluster.Config)
}

// Member is one running node.
type Member struct {
	ID      string
	Dir     string
	Raft    string
	HTTP    string // host:port
	Node    *cluster.Node
	API     *api.Server
	cfg     cluster.Config
	stop    context.CancelFunc
	stopped chan struct{}
	net     *netCut // with Options.NetCut
}

// Isolate cuts the member off the other members' raft traffic (the site
// must have been started with Options.NetCut); its API stays reachable.
func (m *Member) Isolate() { m.net.set(true) }

// Heal undoes Isolate.
func (m *Member) Heal() { m.net.set(false) }

// URL is the member's API base URL.
func (m *Member) URL() string { return "http://" + m.HTTP }

// Site is a running test cluster.
type Site struct {
	t       testing.TB
	opts    Options
	Members []*Member
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start starts a site and waits until every node applied the seed
// records (site, admin user, node registrations).
func Start(t testing.TB, o Options) *Site {
	t.Helper()
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	s := &Site{t: t, opts: o}
	root := t.TempDir()
	for i := range o.Nodes {
		id := fmt.Sprintf("n%d", i+1)
		m := &Member{ID: id, Dir: filepath.Join(root, id), Raft: FreeAddr(t)}
		join := ""
		if i > 0 {
			join = s.Members[0].URL()
		}
		m.cfg = cluster.Config{ID: id, Dir: m.Dir, RaftAddr: m.Raft, Bootstrap: i == 0, Join: join,
			// Memtable sizes apart, as cluster.Config's random default
			// would pick them, but the same in every run.
			StateMemTableSize: int64(64+8*i) << 20,
			Coalesce:          o.Coalesce, HeartbeatTimeout: o.Heartbeat, ElectionTimeout: o.Election, Secret: o.ClusterSecret, Logger: s.logger()}
		if o.RaftTLS != nil {
			m.cfg.RaftServerTLS, m.cfg.RaftClientTLS = o.RaftTLS(id)
		}
		if o.Configure != nil {
			o.Configure(id, &m.cfg)
		}
		if o.NetCut {
			m.cfg.RaftLayer = func(inner raft.StreamLayer) raft.StreamLayer {
				m.net = newNetCut(inner)
				return m.net
			}
		}
		s.Members = append(s.Members, m)
		s.start(m)
		if i == 0 {
			s.WaitLeader(30 * time.Second)
		}
	}
	t.Cleanup(s.StopAll)
	s.WaitMembers(o.Nodes, 60*time.Second)
	return s
}

func (s *Site) logger() *slog.Logger {
	if s.opts.Verbose {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (s *Site) start(m *Member) {
	s.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if m.HTTP != "" {
		ln, err = net.Listen("tcp", m.HTTP)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	m.HTTP = ln.Addr().String()
	m.cfg.HTTPAddr = m.HTTP
	node, err := cluster.Open(m.cfg)
	if err != nil {
		ln.Close()
		s.t.Fatal(err)
	}
	m.Node = node
	m.API = api.New(api.Config{Node: node, Logger: m.cfg.Logger, Metrics: node.Collectors(), ClusterSecret: m.cfg.Secret})
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.stopped = cancel, make(chan struct{})
	apiCtx, apiCancel := context.WithCancel(context.Background())
	apiDone := make(chan struct{})
	go func() { defer close(apiDone); _ = m.API.ServeListener(apiCtx, ln) }()
	go func() {
		defer close(m.stopped)
		nodeCtx, nodeCancel := context.WithCancel(context.Background())
		nodeDone := make(chan struct{})
		go func() { defer close(nodeDone); _ = node.Serve(nodeCtx) }()
		<-ctx.Done()
		apiCancel()
		<-apiDone
		nodeCancel()
		<-nodeDone
	}()
}

// Stop stops one member gracefully (leadership transfer first).
func (s *Site) Stop(m *Member) {
	if m.stop == nil {
		return
	}
	m.stop()
	<-m.stopped
	_ = m.Node.Close()
	m.stop = nil
}

// Restart starts a stopped member again on the same addresses and data.
func (s *Site) Restart(m *Member) {
	s.t.Helper()
	m.cfg.Join = ""
	m.cfg.Bootstrap = false
	s.start(m)
}

// StopAll stops every running member.
func (s *Site) StopAll() {
	for _, m := range s.Members {
		s.Stop(m)
	}
}

// Running lists the members not stopped.
func (s *Site) Running() []*Member {
	var out []*Member
	for _, m := range s.Members {
		if m.stop != nil {
			out = append(out, m)
		}
	}
	return out
}

// WaitLeader waits until one running member leads and returns it.
func (s *Site) WaitLeader(timeout time.Duration) *Member {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, m := range s.Running() {
			if m.Node.IsLeader() {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no leader after %s", timeout)
	return nil
}

// Follower returns a running member that does not lead.
func (s *Site) Follower() *Member {
	for _, m := range s.Running() {
		if !m.Node.IsLeader() {
			return m
		}
	}
	return nil
}

// WaitMembers waits until the leader has n voters, all registered and
// caught up.
func (s *Site) WaitMembers(n int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		l := s.WaitLeader(timeout)
		st, err := l.Node.ClusterStatus(context.Background(), false)
		if err == nil && len(st.Nodes) == n {
			ok := true
			for _, m := range st.Nodes {
				if m.State == "unreachable" || m.HTTP == "" {
					ok = false
				}
			}
			if ok && s.seeded() && s.Converged() {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("cluster of %d did not form in %s", n, timeout)
}

// seeded reports whether every running member holds the seed admin user.
func (s *Site) seeded() bool {
	for _, m := range s.Running() {
		err := m.Node.State().View(func(r *state.Reader) error { _, err := r.User("admin"); return err })
		if err != nil {
			return false
		}
	}
	return true
}

// Converged reports whether every running member applied the same
// index and holds the same state hash.
func (s *Site) Converged() bool {
	var hash string
	var idx uint64
	for i, m := range s.Running() {
		var h string
		var a uint64
		err := m.Node.State().View(func(r *state.Reader) error {
			var err error
			if a, err = r.Applied(); err != nil {
				return err
			}
			h, err = r.Hash()
			return err
		})
		if err != nil {
			return false
		}
		if i == 0 {
			hash, idx = h, a
		} else if h != hash || a != idx {
			return false
		}
	}
	return true
}

// WaitConverged waits until Converged.
func (s *Site) WaitConverged(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.Converged() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("nodes did not converge in %s", timeout)
}

// StartRestored starts a site whose first node runs on a data directory
// prepared by cluster.RestoreBackup; the other n-1 nodes join it.
func StartRestored(t testing.TB, dir, raftAddr string, n int) *Site {
	t.Helper()
	s := &Site{t: t, opts: Options{Nodes: n}}
	root := t.TempDir()
	first := &Member{ID: "n1", Dir: dir, Raft: raftAddr}
	first.cfg = cluster.Config{ID: "n1", Dir: dir, RaftAddr: raftAddr, Logger: s.logger()}
	s.Members = append(s.Members, first)
	s.start(first)
	t.Cleanup(s.StopAll)
	s.WaitLeader(30 * time.Second)
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("n%d", i+1)
		m := &Member{ID: id, Dir: filepath.Join(root, id), Raft: FreeAddr(t)}
		m.cfg = cluster.Config{ID: id, Dir: m.Dir, RaftAddr: m.Raft, Join: first.URL(), Logger: s.logger()}
		s.Members = append(s.Members, m)
		s.start(m)
	}
	s.WaitMembers(n, 60*time.Second)
	return s
}

// Kill stops a member the hard way: raft shuts down without handing
// leadership over, as when a process dies; the others must notice.
func (s *Site) Kill(m *Member) {
	if m.stop == nil {
		return
	}
	_ = m.Node.Close()
	m.stop()
	<-m.stopped
	m.stop = nil
}

// Recover rewrites the stopped member's cluster membership to peers
// (cluster.Recover) and starts it again on the same addresses and data.
func (s *Site) Recover(m *Member, peers raft.Configuration) {
	s.t.Helper()
	if m.stop != nil {
		s.t.Fatalf("recover %s: the member is running", m.ID)
	}
	if _, err := cluster.Recover(m.cfg, peers); err != nil {
		s.t.Fatalf("recover %s: %v", m.ID, err)
	}
	s.Restart(m)
}

// Alone is the recovery configuration of m by itself.
func (m *Member) Alone() raft.Configuration {
	return raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.Raft), Suffrage: raft.Voter}}}
}

// Add starts a new member, with a new id and an empty data directory,
// that joins the cluster through via.
func (s *Site) Add(id string, via *Member) *Member {
	s.t.Helper()
	dir := filepath.Join(s.t.TempDir(), id)
	m := &Member{ID: id, Dir: dir, Raft: FreeAddr(s.t)}
	m.cfg = cluster.Config{ID: id, Dir: dir, RaftAddr: m.Raft, Join: via.URL(), StateMemTableSize: int64(64+8*len(s.Members)) << 20,
		Coalesce: s.opts.Coalesce, HeartbeatTimeout: s.opts.Heartbeat, ElectionTimeout: s.opts.Election, Secret: s.opts.ClusterSecret, Logger: s.logger()}
	s.Members = append(s.Members, m)
	s.start(m)
	return m
}
