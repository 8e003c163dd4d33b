// Command custody-server runs one node of a Custody site cluster.
//
// A single node started with only --data DIR is a complete site: it
// bootstraps a one-node cluster on first start. A three-node site starts
// the first node with --bootstrap and the others with --join URL:
//
//	custody-server --id n1 --data d1 --raft 127.0.0.1:7001 --http 127.0.0.1:8081 --bootstrap
//	custody-server --id n2 --data d2 --raft 127.0.0.1:7002 --http 127.0.0.1:8082 --join http://127.0.0.1:8081
//
// Handhelds sync on /api/v1/sync (a websocket); --insecure-devices admits
// them without client certificates, for demos and tests.
//
// --restore FILE turns a backup into a new cluster's first node before
// starting (DIR must be empty). SIGTERM or SIGINT stops the node: the API
// first, then the node, which hands leadership to another voter first.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/sync/session"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	id, data, raft, http, join, restore, logLevel string
	clusterSecret                                 string // file
	bootstrap, raftTLS                            bool
	insecureDevices                               bool // accept the device a HELLO names (no client certificates)
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("custody-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.id, "id", "n1", "node id, unique in the cluster")
	fs.StringVar(&o.data, "data", "", "data directory (required)")
	fs.StringVar(&o.raft, "raft", "127.0.0.1:7001", "raft address (host:port), listened on and advertised")
	fs.StringVar(&o.http, "http", "127.0.0.1:8081", "HTTP API address (host:port), listened on and advertised")
	fs.StringVar(&o.join, "join", "", "URL of a member's API to join an existing cluster through")
	fs.BoolVar(&o.bootstrap, "bootstrap", false, "form a new cluster (the default when --join is not given)")
	fs.StringVar(&o.restore, "restore", "", "restore this backup file into the empty data directory, then start")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.clusterSecret, "cluster-secret", "", "FILE holding the cluster secret that node-to-node requests (forwarded writes, join)\nmust carry; created on the first node when missing, copy it to each other node")
	fs.BoolVar(&o.raftTLS, "raft-tls", false, "mutual TLS between nodes, with the site PKI in DIR/certs: created on the first\nnode; copy its ca.pem and ca-key.pem into each other node's DIR/certs before that node's first start")
	fs.BoolVar(&o.insecureDevices, "insecure-devices", false, "serve handhelds on "+syncsite.Path+" without client certificates, taking the device id their HELLO names\n(demos and tests only)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.data == "" {
		return o, errors.New("--data DIR is required")
	}
	if o.join != "" && o.bootstrap {
		return o, errors.New("--bootstrap and --join exclude each other")
	}
	return o, nil
}

// component is a long-running part, started in order and stopped in
// reverse.
type component struct {
	name  string
	serve func(ctx context.Context) error
}

func run(args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "custody-server:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(stderr, "custody-server: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if o.restore != "" {
		f, err := os.Open(o.restore)
		if err != nil {
			log.Error("open backup", "err", err)
			return 1
		}
		idx, err := cluster.RestoreBackup(o.data, o.id, o.raft, f)
		f.Close()
		if err != nil {
			log.Error("restore backup", "err", err)
			return 1
		}
		log.Info("restored backup", "applied", idx, "data", o.data)
	}

	cfg := cluster.Config{ID: o.id, Dir: o.data, RaftAddr: o.raft, HTTPAddr: o.http,
		Bootstrap: o.join == "", Join: o.join, Logger: log}
	if o.clusterSecret != "" {
		if cfg.Secret, err = clusterSecret(o.clusterSecret, o.join == ""); err != nil {
			log.Error("cluster secret", "err", err)
			return 1
		}
	} else {
		log.Warn("no --cluster-secret: the node-to-node routes accept anyone who reaches the HTTP port")
	}
	if o.raftTLS {
		host, _, err := net.SplitHostPort(o.raft)
		if err != nil {
			log.Error("raft address", "err", err)
			return 2
		}
		site, err := certs.Bootstrap(o.data, "custody", o.id, []string{host})
		if err != nil {
			log.Error("site certificates", "err", err)
			return 1
		}
		cert := site.Node.TLSCertificate()
		cfg.RaftServerTLS = certs.ServerTLS(site.CA.Cert(), cert, nil, certs.AcceptKinds(certs.KindNode))
		cfg.RaftClientTLS = certs.ClientTLS(site.CA.Cert(), cert, "")
	}
	node, err := cluster.Open(cfg)
	if err != nil {
		log.Error("open node", "err", err)
		return 1
	}
	reg := prometheus.NewRegistry()
	// Handhelds sync over a websocket on the API's port. Without client
	// certificates on the API, only --insecure-devices admits them.
	site := syncsite.New(node, syncsite.Config{Logger: log})
	ep := syncsite.NewEndpoint(site, syncsite.EndpointConfig{TrustHello: o.insecureDevices, Logger: log,
		Session: session.Config{Node: o.id}})
	srv := api.New(api.Config{Addr: o.http, Node: node, Logger: log, Registry: reg, Metrics: node.Collectors(), Before: ep.Mount,
		ClusterSecret: cfg.Secret})
	// Stopped in reverse: the sync sessions first (Fiber's shutdown does
	// not close websockets), then the API, then the node.
	comps := []component{{"node", node.Serve}, {"api", srv.Serve}, {"sync", ep.Serve}}

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	type running struct {
		cancel context.CancelFunc
		done   chan error
	}
	var rs []running
	failed := make(chan string, len(comps))
	for _, c := range comps {
		ctx, cancel := context.WithCancel(context.Background())
		r := running{cancel, make(chan error, 1)}
		go func(c component) {
			err := c.serve(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("component failed", "component", c.name, "err", err)
				failed <- c.name
			}
			r.done <- err
		}(c)
		rs = append(rs, r)
	}
	log.Info("custody-server running", "id", o.id, "http", o.http, "raft", o.raft)
	code := 0
	select {
	case <-sig.Done():
		log.Info("stopping")
	case name := <-failed:
		log.Error("stopping after a failure", "component", name)
		code = 1
	}
	for i := len(rs) - 1; i >= 0; i-- {
		rs[i].cancel()
		if err := <-rs[i].done; err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("component stopped with an error", "component", comps[i].name, "err", err)
		}
	}
	log.Info("stopped")
	return code
}

// clusterSecret reads the cluster secret from path, creating a random one
// there when it is missing and create is set (the first node).
func clusterSecret(path string, create bool) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		b = []byte(hex.EncodeToString(raw))
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 16 {
		return "", fmt.Errorf("%s: a cluster secret has at least 16 characters", path)
	}
	return s, nil
}
