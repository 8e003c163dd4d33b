package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/custodyhq/custody/server/coalesce"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/fsm"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// Config is one node's configuration.
type Config struct {
	ID        string // raft server id, e.g. "n1"
	Dir       string // data directory: state/, raft/
	RaftAddr  string // host:port raft listens on and advertises
	HTTPAddr  string // host:port of this node's API, as other nodes reach it
	Bootstrap bool   // form a new cluster when the node has no state
	Join      string // URL of any member's API to join through ("" = none)
	// RaftServerTLS and RaftClientTLS, when both set, put raft on mutual
	// TLS: the listener presents the node certificate and requires a node
	// certificate of the site CA; dialling peers verifies theirs.
	RaftServerTLS *tls.Config
	RaftClientTLS *tls.Config
	// RaftLayer, when set, wraps the stream layer raft sends and receives
	// on (TCP or mutual TLS): tests cut a node off the network with it.
	RaftLayer func(raft.StreamLayer) raft.StreamLayer
	// Secret, when set, goes with every request this node makes to
	// another node's API (HeaderSecret); the API refuses node-to-node
	// requests without it (api.Config.ClusterSecret).
	Secret string
	// HTTPClientTLS, when set, is the TLS configuration of this node's
	// requests to other nodes' APIs (forwarded writes, join, status):
	// every node serves its API over HTTPS, so these requests go to
	// https:// whatever scheme the address or join URL was written with,
	// and present the node certificate this configuration carries.
	HTTPClientTLS *tls.Config
	Logger        *slog.Logger

	// Raft timing; zero values take the defaults sized for slow shared
	// hardware (1 s heartbeat and election timeouts).
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	SnapshotThreshold  uint64
	SnapshotInterval   time.Duration
	// TrailingLogs is how many entries survive a snapshot, for followers
	// that fall slightly behind.
	TrailingLogs uint64

	// StateMemTableSize is the size of the state's Badger memtables. Every
	// replica applies the same log, so with one size for all they would
	// rotate memtables (allocate and zero a new arena, then flush the old
	// one to a table) at the same log position: on shared hardware the
	// three stalls coincide, and a stall on the leader delays verdicts.
	// Zero picks a size at random between 64 and 96 MiB when the node
	// opens, which keeps replicas' rotations apart. Not below 64 MiB:
	// Badger's transaction limit is a share of the memtable, and the
	// processor's transactions (command.commitEvery writes, plus one
	// bounded entry) are sized for 64 MiB.
	StateMemTableSize int64

	Coalesce coalesce.Options
	// ApplyTimeout bounds one proposal's wait to be enqueued.
	ApplyTimeout time.Duration
}

func (c *Config) defaults() error {
	if c.ID == "" || c.Dir == "" || c.RaftAddr == "" {
		return fmt.Errorf("%w: a node needs an id, a data directory and a raft address", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = time.Second
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = time.Second
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = c.HeartbeatTimeout
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 16384
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 60 * time.Second
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = 10 * time.Second
	}
	if c.StateMemTableSize == 0 {
		c.StateMemTableSize = (64 + rand.Int64N(33)) << 20
	}
	c.StateMemTableSize = max(c.StateMemTableSize, 64<<20)
	return nil
}

// Node is one member of a site cluster.
type Node struct {
	cfg   Config
	log   *slog.Logger
	st    *state.Store
	proc  *command.Processor
	fsm   *fsm.FSM
	raft  *raft.Raft
	wal   *raftwal.WAL
	meta  *metadb.BoltMetaDB
	trans *raft.NetworkTransport
	coal  *coalesce.Coalescer
	clock *hlc.Clock
	http  *http.Client

	// readTerm is the latest term in which this node, leading, has
	// committed an entry of its own (a barrier): from then on its commit
	// index covers everything earlier leaders committed (see VerifyRead).
	readTerm   atomic.Uint64
	readTermMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

// Open opens the node's state and log and starts raft. The node takes
// part in elections at once; Serve runs the rest.
func Open(cfg Config) (*Node, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.ID), clock: hlc.NewClock(nil, 0),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &secretTransport{secret: cfg.Secret,
			next: nodeTransport(cfg.HTTPClientTLS)}}}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	raftDir := filepath.Join(cfg.Dir, "raft")
	walDir := filepath.Join(raftDir, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var err error
	if n.st, err = state.Open(filepath.Join(cfg.Dir, "state"), state.Options{Logger: n.log, MemTableSize: cfg.StateMemTableSize}); err != nil {
		return nil, err
	}
	n.log.Info("state opened", "memtable_mib", cfg.StateMemTableSize>>20)
	// raft-wal does not close a meta store it opened itself: own it.
	n.meta = &metadb.BoltMetaDB{}
	if n.wal, err = raftwal.Open(walDir, raftwal.WithMetaStore(n.meta)); err != nil {
		return nil, fmt.Errorf("raft log: %w", err)
	}
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: raftLog{n.log}, DisableTime: true})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl)
	if err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	if err := catchUpFromSnapshot(n.st, snaps, n.log); err != nil {
		return nil, err
	}
	if n.proc, err = command.New(n.st, 0); err != nil {
		return nil, err
	}
	n.proc.SetLogger(n.log)
	n.fsm = fsm.New(n.st, n.proc, newestSnapshot(snaps))
	if n.trans, err = newTransport(cfg, hl); err != nil {
		return nil, err
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = 5 * time.Millisecond
	rc.MaxAppendEntries = 32 // also bounds the FSM's batches, hence commit→verdict latency
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NoSnapshotRestoreOnStart = true // the state survives restarts; see catchUpFromSnapshot
	rc.Logger = hl
	existing, err := raft.HasExistingState(n.wal, n.wal, snaps)
	if err != nil {
		return nil, fmt.Errorf("raft state: %w", err)
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.wal, n.wal, snaps, n.trans); err != nil {
		return nil, fmt.Errorf("raft: %w", err)
	}
	if !existing && cfg.Bootstrap && cfg.Join == "" {
		f := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{
			{ID: raft.ServerID(cfg.ID), Address: raft.ServerAddress(cfg.RaftAddr), Suffrage: raft.Voter}}})
		if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		n.log.Info("bootstrapped a new cluster", "raft", cfg.RaftAddr)
	}
	n.coal = coalesce.New(n.proposeAsync, n.clock.Now, cfg.Coalesce)
	ok = true
	return n, nil
}

// nodeTransport carries a node's requests to other nodes' APIs: over
// HTTPS with tlsCfg when it is set (see Config.HTTPClientTLS).
func nodeTransport(tlsCfg *tls.Config) http.RoundTripper {
	t := &http.Transport{MaxIdleConnsPerHost: 64}
	if tlsCfg == nil {
		return t
	}
	t.TLSClientConfig = tlsCfg.Clone()
	t.ForceAttemptHTTP2 = false
	return httpsTransport{next: t}
}

// httpsTransport sends every request over HTTPS. Nodes address one
// another by the host:port they registered, and the forwarding, join
// and status code writes http:// URLs: with TLS on, the scheme is
// decided here, in one place.
type httpsTransport struct{ next http.RoundTripper }

func (t httpsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" {
		r = r.Clone(r.Context())
		r.URL.Scheme = "https"
	}
	return t.next.RoundTrip(r)
}

func newTransport(cfg Config, hl hclog.Logger) (*raft.NetworkTransport, error) {
	adv, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("%w: raft address %q: %v", ErrConfig, cfg.RaftAddr, err)
	}
	if (cfg.RaftServerTLS == nil || cfg.RaftClientTLS == nil) && cfg.RaftLayer == nil {
		t, err := raft.NewTCPTransportWithLogger(cfg.RaftAddr, adv, 8, 10*time.Second, hl)
		if err != nil {
			return nil, fmt.Errorf("raft transport: %w", err)
		}
		return t, nil
	}
	var layer raft.StreamLayer
	layer, err = newStreamLayer(cfg.RaftAddr, adv, cfg.RaftServerTLS, cfg.RaftClientTLS)
	if err != nil {
		return nil, fmt.Errorf("raft transport: %w", err)
	}
	if cfg.RaftLayer != nil {
		layer = cfg.RaftLayer(layer)
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{Stream: layer, MaxPool: 8, Timeout: 10 * time.Second, Logger: hl}), nil
}

// catchUpFromSnapshot restores the newest raft snapshot into the state
// when the state is behind it (it lost unsynced writes in a crash, or it
// is new). Raft then replays the log after the state's applied index.
//
// A state a crash left between the parts of one entry (state.Partial)
// is no state at any index: it is replaced by the newest snapshot, or,
// when there is none, dropped so raft replays the whole log (raft keeps
// every entry until its first snapshot).
func catchUpFromSnapshot(st *state.Store, snaps raft.SnapshotStore, log *slog.Logger) error {
	partial, err := st.Partial()
	if err != nil {
		return err
	}
	list, err := snaps.List()
	if err != nil {
		return err
	}
	if partial && len(list) == 0 {
		log.Warn("state holds part of an entry (a crash between its parts): replaying the log from its start")
		return st.Clear()
	}
	if len(list) == 0 {
		return nil
	}
	applied, err := st.Applied()
	if err != nil {
		return err
	}
	if partial {
		log.Warn("state holds part of an entry (a crash between its parts): restoring the newest snapshot", "snapshot", list[0].Index)
	} else if list[0].Index <= applied {
		return nil
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	defer rc.Close()
	log.Info("state behind the newest snapshot: restoring it", "applied", applied, "snapshot", list[0].Index)
	return st.Restore(rc)
}

// raftLog passes raft's log lines (warnings and errors) to slog.
type raftLog struct{ l *slog.Logger }

func (w raftLog) Write(p []byte) (int, error) {
	w.l.Warn("raft", "line", strings.TrimSpace(string(p)))
	return len(p), nil
}

// State is the node's Badger state, for reads.
func (n *Node) State() *state.Store { return n.st }

// ID is the node's raft id.
func (n *Node) ID() string { return n.cfg.ID }

// Raft exposes the raft instance (tests, metrics).
func (n *Node) Raft() *raft.Raft { return n.raft }

// Coalescer exposes the write batcher (metrics).
func (n *Node) Coalescer() *coalesce.Coalescer { return n.coal }

// Applied is the last log index the state reflects.
func (n *Node) Applied() uint64 { return n.fsm.Applied() }

// IsLeader reports whether this node leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Serve runs the write batcher and the membership chores until ctx
// ends, then hands leadership to another voter and shuts raft down.
func (n *Node) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(context.Background())
	wg.Add(2)
	go func() { defer wg.Done(); _ = n.coal.Serve(cctx) }()
	go func() { defer wg.Done(); n.chores(cctx) }()
	if n.cfg.Join != "" {
		if err := n.join(ctx); err != nil && ctx.Err() == nil {
			cancel()
			wg.Wait()
			return err
		}
	}
	<-ctx.Done()
	n.log.Info("node stopping")
	if n.IsLeader() && n.voters() > 1 {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			n.log.Warn("leadership transfer failed", "err", err)
		} else {
			n.log.Info("leadership transferred")
		}
	}
	cancel()
	wg.Wait()
	return n.Close()
}

func (n *Node) voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	c := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			c++
		}
	}
	return c
}

// Close shuts raft down and closes the log and the state. Should raft
// not stop (a replication pipeline waiting on a peer that waits on us),
// the transport is closed to break the wait; if raft still does not
// stop, the log and the state are left open rather than closed under
// running goroutines, and an error says so.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		transClosed := false
		if n.raft != nil {
			done := make(chan error, 1)
			go func() { done <- n.raft.Shutdown().Error() }()
			select {
			case err := <-done:
				errs = append(errs, err)
			case <-time.After(shutdownWait):
				n.log.Warn("raft shutdown is slow: closing the transport")
				if n.trans != nil {
					errs = append(errs, n.trans.Close())
					transClosed = true
				}
				select {
				case err := <-done:
					errs = append(errs, err)
				case <-time.After(shutdownWait):
					n.closeErr = fmt.Errorf("%w: raft did not shut down", ErrTimeout)
					return
				}
			}
		}
		if n.trans != nil && !transClosed {
			errs = append(errs, n.trans.Close())
		}
		if n.wal != nil {
			errs = append(errs, n.wal.Close())
		}
		if n.meta != nil {
			errs = append(errs, n.meta.Close())
		}
		if n.st != nil {
			errs = append(errs, n.st.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// shutdownWait bounds each stage of Close.
const shutdownWait = 10 * time.Second

// chores runs leader duties: registering this node's addresses and
// seeding a new site with its site record and admin user.
func (n *Node) chores(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.raft.LeaderCh():
		case <-t.C:
		}
		if !n.IsLeader() {
			continue
		}
		if err := n.leaderChores(); err != nil && ctx.Err() == nil {
			n.log.Warn("leader chores", "err", err)
		}
	}
}

// seedAdmin is the user a new site starts with.
var seedAdmin = master.User{ID: "admin", Name: "Administrator", Role: master.RoleAdmin, Clients: []string{"*"}}

func (n *Node) leaderChores() error {
	var self state.Node
	var haveSelf, haveUsers, haveSite bool
	err := n.st.View(func(r *state.Reader) error {
		var err error
		self, err = r.Node(n.cfg.ID)
		haveSelf = err == nil
		us, err := r.Users()
		if err != nil {
			return err
		}
		haveUsers = len(us) > 0
		_, err = r.Site()
		haveSite = err == nil
		return nil
	})
	if err != nil {
		return err
	}
	want := state.Node{ID: n.cfg.ID, Raft: n.cfg.RaftAddr, HTTP: n.cfg.HTTPAddr}
	if !haveSelf || self != want {
		if _, err := n.proposeJSON(command.TypeNode, want); err != nil {
			return err
		}
	}
	if !haveSite {
		// A new cluster names its change feed once, with its first site
		// record (a restored cluster got a new name before it started):
		// devices holding a cursor of another incarnation resync.
		// Clusters from before incarnations keep none ("site:<id>"), so
		// an upgrade neither proposes a command older nodes cannot read
		// nor sends every device into a resync.
		if err := n.EnsureIncarnation(); err != nil {
			return err
		}
		// A new cluster bounds its change feed by references (state/
		// feedlimit.go); older clusters switch when an operator asks.
		if _, err := n.proposeJSON(command.TypeFeedLimit, command.FeedLimit{Refs: state.DefaultFeedRefs}); err != nil {
			return err
		}
		if _, err := n.proposeJSON(command.TypeSite, master.Site{ID: "site", Name: "Custody site"}); err != nil {
			return err
		}
	}
	if !haveUsers {
		if _, err := n.proposeJSON(command.TypeUser, seedAdmin); err != nil {
			return err
		}
		n.log.Info("created the bootstrap admin user", "user", seedAdmin.ID)
	}
	return nil
}

func (n *Node) proposeJSON(t command.Type, v any) (any, error) {
	data, err := command.EncodeJSON(t, v)
	if err != nil {
		return nil, err
	}
	return n.proposeLocal(data)
}

// Ready reports whether the node can serve: a leader is known and the
// state has applied everything this node knows to be committed.
func (n *Node) Ready() (bool, string) {
	_, leader := n.raft.LeaderWithID()
	if leader == "" {
		return false, "no leader known"
	}
	if c := n.raft.CommitIndex(); !n.reflects(c) {
		return false, fmt.Sprintf("applied %d of %d committed entries", n.fsm.Seen(), c)
	}
	return true, "ok"
}
