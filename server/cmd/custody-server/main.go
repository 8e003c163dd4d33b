// Command custody-server runs one node of a Custody site cluster.
//
// A single node started with only --data DIR is a complete site: it
// bootstraps a one-node cluster on first start. A three-node site starts
// the first node with --bootstrap and the others with --join URL:
//
//	custody-server --id n1 --data d1 --raft 127.0.0.1:7001 --http 127.0.0.1:8081 --bootstrap
//	custody-server --id n2 --data d2 --raft 127.0.0.1:7002 --http 127.0.0.1:8082 --join http://127.0.0.1:8081
//
// Handhelds sync on /api/v1/sync (a websocket). --tls serves the API over
// HTTPS with this node's certificate from the site PKI in DIR/certs (the
// same files --raft-tls uses: the first node creates the CA; copy its
// ca.pem and ca-key.pem into each other node's DIR/certs before that
// node's first start, and join through an https:// URL). Client
// certificates are then asked for and verified when presented: the sync
// endpoint admits a handheld only with a valid, unrevoked device
// certificate (its device id is the certificate's), the node-to-node
// routes accept a node certificate (or the cluster secret), and nodes
// forward to one another over HTTPS. --tls implies --raft-tls: raft
// would otherwise stay plaintext and let anyone who reaches its port
// append entries.
//
// Over HTTPS the user routes know a user only by a user certificate of
// the site (the X-Custody-User header alone is refused). When the first
// node creates the site CA it also issues the bootstrap admin user's
// certificate, DIR/certs/admin.pem and admin-key.pem (logged at start):
// custodyctl --ca DIR/certs/ca.pem --cert admin.pem --key admin-key.pem.
// An admin gets other users theirs with custodyctl users cert ID.
// Handhelds enroll with a one-time token an admin mints (custodyctl
// devices token; custody-hh enroll). --insecure-devices admits handhelds
// without certificates, taking the device id their HELLO names, for
// demos and tests (a HELLO naming a certificate-style device id still
// needs that device's certificate).
//
//	custody-server --id n1 --data d1 --tls --cluster-secret d1/secret
//	custody-server --id n2 --data d2 --raft 127.0.0.1:7002 --http 127.0.0.1:8082 --tls \
//	    --cluster-secret d2/secret --join https://127.0.0.1:8081
//
// Without --tls the API trusts the X-Custody-User header and raft (without
// --raft-tls) takes entries from anyone: the node refuses to listen on an
// address other than loopback unless --insecure-listen says so, and warns
// at every start. The node-to-node routes (forwarded writes, join, status)
// then answer only callers on the same host unless --cluster-secret is
// set; with --tls a node certificate admits them.
//
// --restore FILE turns a backup into a new cluster's first node before
// starting (DIR must be empty). --recover PEERS.json rewrites a stopped
// node's membership after its cluster lost its quorum for good, keeping
// its state, then starts it (see cluster.Recover). SIGTERM or SIGINT stops the node: the API
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
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/analyzer"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/console"
	"github.com/custodyhq/custody/server/notifyclock"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/session"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

type options struct {
	id, data, raft, http, join, restore, logLevel string
	recoverPeers                                  string // file
	clusterSecret                                 string // file
	bootstrap, raftTLS, tls                       bool
	insecureDevices                               bool // accept the device a HELLO names (no client certificates)
	insecureListen                                bool // plain HTTP (or raft) beyond loopback
	debugAddr                                     string
	memtableMiB                                   int
	consoleIdle, consoleMaxAge                    time.Duration
	consoleTZ                                     string
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
	fs.StringVar(&o.recoverPeers, "recover", "", "PEERS.json: the cluster lost its quorum for good; rewrite this stopped node's membership to the\nmembers listed ([{\"id\",\"address\",\"non_voter\"}], raft addresses; usually this node alone), keeping its state,\nthen start; the file is renamed PEERS.json.done once applied (see README, \"When two of three nodes are gone for good\")")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.clusterSecret, "cluster-secret", "", "FILE holding the cluster secret that node-to-node requests (forwarded writes, join)\nmust carry; created on the first node when missing, copy it to each other node")
	fs.BoolVar(&o.raftTLS, "raft-tls", false, "mutual TLS between nodes, with the site PKI in DIR/certs: created on the first\nnode; copy its ca.pem and ca-key.pem into each other node's DIR/certs before that node's first start\n(implied by --tls)")
	fs.BoolVar(&o.tls, "tls", false, "serve the API over HTTPS with the site PKI in DIR/certs; implies --raft-tls. Users then need a user\ncertificate (the first node writes the admin's, DIR/certs/admin.pem and admin-key.pem), handhelds sync\nonly with an enrolled device certificate, and nodes forward over HTTPS with their node certificate")
	fs.IntVar(&o.memtableMiB, "memtable-mib", 0, "size of the state's Badger memtables in MiB, at least 64 (0: a random 64–96, so the nodes\nof a site rotate their memtables at different times)")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this address (host:port); keep it on loopback")
	fs.BoolVar(&o.insecureDevices, "insecure-devices", false, "serve handhelds on "+syncsite.Path+" without client certificates, taking the device id their HELLO names\n(demos and tests only)")
	fs.BoolVar(&o.insecureListen, "insecure-listen", false, "allow listening on an address other than loopback without --tls (the API then trusts the "+api.HeaderUser+"\nheader: anyone who reaches the port acts as any user) or without --raft-tls (raft takes entries from anyone)")
	fs.DurationVar(&o.consoleIdle, "console-idle", console.DefaultIdle, "end a console session after this long without a request")
	fs.DurationVar(&o.consoleMaxAge, "console-max-age", console.DefaultMaxAge, "end a console session this long after sign-in")
	fs.StringVar(&o.consoleTZ, "console-tz", "", "the site's time zone for the console (IANA name such as Europe/Berlin; default: the machine's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.data == "" {
		return o, errors.New("--data DIR is required")
	}
	if o.join != "" && o.bootstrap {
		return o, errors.New("--bootstrap and --join exclude each other")
	}
	if o.recoverPeers != "" && (o.join != "" || o.restore != "") {
		return o, errors.New("--recover excludes --join and --restore: it recovers the node in --data as it is")
	}
	if o.tls && o.join != "" && !strings.HasPrefix(o.join, "https://") {
		return o, errors.New("--tls: --join must be the https:// URL of a member")
	}
	if o.tls {
		// An authenticated API over a raft port that takes entries from
		// anyone would protect nothing.
		o.raftTLS = true
	}
	if err := checkListen(o); err != nil {
		return o, err
	}
	return o, nil
}

// checkListen refuses to serve plain HTTP or plaintext raft beyond
// loopback unless --insecure-listen says to: a port reached from the
// network would take anyone for any user, or append anyone's entries.
func checkListen(o options) error {
	if o.insecureListen {
		return nil
	}
	if !o.tls && !loopback(o.http) {
		return fmt.Errorf("--http %s is not a loopback address: without --tls anyone who reaches it acts as any user (%s is trusted); serve --tls, or accept that with --insecure-listen", o.http, api.HeaderUser)
	}
	if !o.raftTLS && !loopback(o.raft) {
		return fmt.Errorf("--raft %s is not a loopback address: without --raft-tls (or --tls) anyone who reaches it can append raft entries; add --raft-tls, or accept that with --insecure-listen", o.raft)
	}
	return nil
}

// loopback reports whether a listen address (host:port) is on loopback
// only: localhost or a loopback IP. An empty or unspecified host listens
// on every interface; any other name may resolve anywhere.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// warnInsecure says, at every start, what the node trusts without TLS.
func warnInsecure(log *slog.Logger, o options, secret bool) {
	if !o.tls {
		log.Warn("plain HTTP: the API trusts the "+api.HeaderUser+" header, so whoever reaches the HTTP port acts as any user; use --tls beyond a demo",
			"http", o.http, "loopback", loopback(o.http))
		if !secret {
			log.Warn("no --tls and no --cluster-secret: the node-to-node routes answer only callers on this host; nodes on other hosts need --cluster-secret")
		}
	}
	if o.insecureListen && (!o.tls && !loopback(o.http) || !o.raftTLS && !loopback(o.raft)) {
		log.Warn("--insecure-listen: serving without TLS beyond loopback", "http", o.http, "raft", o.raft, "tls", o.tls, "raft_tls", o.raftTLS)
	}
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

	if o.recoverPeers != "" {
		peers, err := cluster.ReadPeers(o.recoverPeers)
		if err != nil {
			if _, serr := os.Stat(o.recoverPeers + ".done"); serr == nil {
				err = fmt.Errorf("%w (%s.done says this recovery was applied already: drop --recover)", err, o.recoverPeers)
			}
			log.Error("recover", "err", err)
			return 1
		}
		idx, err := cluster.Recover(cluster.Config{ID: o.id, Dir: o.data, RaftAddr: o.raft, StateMemTableSize: int64(o.memtableMiB) << 20, Logger: log}, peers)
		if err != nil {
			log.Error("recover", "err", err)
			return 1
		}
		// Applied once: started again with the same file, a node that
		// has grown back into a cluster would leave it.
		done := o.recoverPeers + ".done"
		if err := os.Rename(o.recoverPeers, done); err != nil {
			log.Error("recover: the membership is recovered, but the peers file could not be set aside: remove it and --recover before the next start", "err", err)
			return 1
		}
		log.Warn("recovered after a quorum loss: this node starts with the recovered membership; drop --recover from its command line",
			"last_index", idx, "peers", len(peers.Servers), "peers_file", done)
	}

	cfg := cluster.Config{ID: o.id, Dir: o.data, RaftAddr: o.raft, HTTPAddr: o.http, StateMemTableSize: int64(o.memtableMiB) << 20,
		Bootstrap: o.join == "", Join: o.join, Logger: log}
	if o.clusterSecret != "" {
		if cfg.Secret, err = clusterSecret(o.clusterSecret, o.join == ""); err != nil {
			log.Error("cluster secret", "err", err)
			return 1
		}
	}
	warnInsecure(log, o, cfg.Secret != "")
	var site *certs.Site
	if o.raftTLS || o.tls {
		hosts, err := certHosts(o)
		if err != nil {
			log.Error("addresses", "err", err)
			return 2
		}
		if site, err = certs.Bootstrap(o.data, "custody", o.id, hosts); err != nil {
			log.Error("site certificates", "err", err)
			return 1
		}
		log.Info("site CA", "fingerprint", certs.Fingerprint(site.CA.Cert()), "dir", site.Layout.Dir)
		if o.tls && o.join == "" {
			certFile, keyFile, issued, err := ensureAdminCert(site)
			if err != nil {
				log.Error("admin user certificate", "err", err)
				return 1
			}
			if issued {
				log.Info("issued the admin user's certificate: use it with custodyctl --cert/--key", "cert", certFile, "key", keyFile)
			}
		}
	}
	if o.raftTLS {
		cert := site.Node.TLSCertificate()
		cfg.RaftServerTLS = certs.ServerTLS(site.CA.Cert(), cert, nil, certs.AcceptKinds(certs.KindNode))
		cfg.RaftClientTLS = certs.ClientTLS(site.CA.Cert(), cert, "")
	}
	if o.tls {
		// Any node of the site is trusted as any other: they are dialled
		// by the address they registered.
		cfg.HTTPClientTLS = certs.ClientTLS(site.CA.Cert(), site.Node.TLSCertificate(), "")
	}
	node, err := cluster.Open(cfg)
	if err != nil {
		log.Error("open node", "err", err)
		return 1
	}
	reg := prometheus.NewRegistry()
	// Handhelds sync over a websocket on the API's port: with --tls they
	// are known by their device certificates; without it, only
	// --insecure-devices admits them.
	epCfg := syncsite.EndpointConfig{TrustHello: o.insecureDevices, Logger: log, Session: session.Config{Node: o.id}}
	apiCfg := api.Config{Addr: o.http, Node: node, Logger: log, Registry: reg, Metrics: node.Collectors(),
		ClusterSecret: cfg.Secret}
	if o.tls {
		// The handshake checks the chain; the application checks again,
		// with the revoked devices, and answers a refusal a device can
		// show (a handshake failure would only say "bad certificate").
		revs := syncsite.NewRevocations(node.State(), log)
		verifier := certs.NewVerifier(site.CA.Cert(), revs, nil)
		epCfg.Verifier, epCfg.Revocations = verifier, revs
		apiCfg.TLS = certs.ServerTLS(site.CA.Cert(), site.Node.TLSCertificate(), nil, certs.AllowNoClientCert())
		apiCfg.Verifier, apiCfg.CA, apiCfg.NodeClientTLS = verifier, site.CA, cfg.HTTPClientTLS
	}
	ss := syncsite.New(node, syncsite.Config{Logger: log})
	ep := syncsite.NewEndpoint(ss, epCfg)
	// The console: web pages on the API's port, signed-in users only.
	var srv *api.Server
	conCfg := console.Config{Node: node, Logger: log, DataDir: o.data, Secure: o.tls, Idle: o.consoleIdle, MaxAge: o.consoleMaxAge,
		Sessions: func() []session.Info { return ep.Hub().Sessions() }}
	if o.consoleTZ != "" {
		if conCfg.Location, err = time.LoadLocation(o.consoleTZ); err != nil {
			log.Error("--console-tz", "err", err)
			return 2
		}
	}
	if o.tls {
		conCfg.Enroll = "https://" + o.http
		conCfg.Mint = func(ctx context.Context, by, label string, ttl time.Duration) (string, time.Time, string, error) {
			a, err := srv.MintToken(ctx, by, label, ttl)
			return a.Token, a.ExpiresAt, a.CAFingerprint, err
		}
	}
	con, err := console.New(conCfg)
	if err != nil {
		log.Error("console", "err", err)
		return 1
	}
	apiCfg.Before = func(r fiber.Router) { ep.Mount(r); con.Mount(r) }
	apiCfg.Metrics = append(apiCfg.Metrics, ep.Collectors()...)
	srv = api.New(apiCfg)
	// Stopped in reverse: the sync sessions first (Fiber's shutdown does
	// not close websockets), then the API, then the node.
	comps := []component{{"node", node.Serve}, {"api", srv.Serve}, {"sync", ep.Serve}, {"console", con.Serve}}
	// Counterfeit and diversion signals: follow the log, the leader proposes findings.
	comps = append(comps, component{"signals", analyzer.New(analyzer.Config{Node: node, Logger: log}).Serve})
	// The 24-hour clock of investigations: the leader raises the overdue FDA notifications.
	comps = append(comps, component{"notifyclock", notifyclock.New(notifyclock.Config{Node: node, Logger: log}).Serve})
	if o.debugAddr != "" {
		comps = append(comps, component{"debug", func(ctx context.Context) error { return serveDebug(ctx, o.debugAddr) }})
	}
	if o.tls {
		comps = append(comps, component{"tokens", func(ctx context.Context) error { return purgeTokens(ctx, node, srv, log) }})
	}

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
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	log.Info("custody-server running", "id", o.id, "http", o.http, "raft", o.raft, "tls", o.tls, "console", scheme+"://"+o.http+"/")
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

// Files of the bootstrap admin user's certificate in DIR/certs.
const (
	adminCertFile = "admin.pem"
	adminKeyFile  = "admin-key.pem"
	// adminUser is the user a new site starts with (the cluster seeds it
	// with every client granted).
	adminUser = "admin"
)

// issueAdminCert writes a user certificate for the bootstrap admin user
// beside the site CA that was just created, and returns its files.
// ensureAdminCert gives the operator a first credential whenever there is
// none: a new site, one that ran with --raft-tls before --tls, or a start
// that stopped between creating the CA and this file. Whoever can read
// DIR/certs holds the CA key anyway.
func ensureAdminCert(site *certs.Site) (certFile, keyFile string, issued bool, err error) {
	certFile = filepath.Join(site.Layout.Dir, adminCertFile)
	keyFile = filepath.Join(site.Layout.Dir, adminKeyFile)
	if fileExists(certFile) || fileExists(keyFile) {
		return certFile, keyFile, false, nil
	}
	certFile, keyFile, err = issueAdminCert(site)
	return certFile, keyFile, err == nil, err
}

func issueAdminCert(site *certs.Site) (certFile, keyFile string, err error) {
	leaf, err := site.CA.IssueUser(adminUser, string(master.RoleAdmin))
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(site.Layout.Dir, adminCertFile)
	keyFile = filepath.Join(site.Layout.Dir, adminKeyFile)
	if err := leaf.Save(certFile, keyFile); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// certHosts are the names the node certificate must be valid for: the
// hosts of the raft address and, with --tls, of the HTTP address
// (wildcard listen addresses are left out).
func certHosts(o options) ([]string, error) {
	addrs := []string{o.raft}
	if o.tls {
		addrs = append(addrs, o.http)
	}
	var hosts []string
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", a, err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			continue
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	return hosts, nil
}

// Expired enrollment tokens are kept this long (their records say who
// minted them and which device used them), then purged.
const (
	tokenKeep  = 7 * 24 * time.Hour
	tokenPurge = time.Hour
)

// purgeTokens forgets old enrollment tokens, on the leader, every
// tokenPurge until ctx ends.
func purgeTokens(ctx context.Context, node *cluster.Node, srv *api.Server, log *slog.Logger) error {
	t := time.NewTicker(tokenPurge)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if !node.IsLeader() {
			continue
		}
		n, err := srv.PurgeTokens(ctx, tokenKeep)
		if err != nil {
			log.Warn("purge enrollment tokens", "err", err)
		} else if n > 0 {
			log.Info("purged enrollment tokens", "count", n)
		}
	}
}

// serveDebug serves the profiler on addr until ctx ends.
func serveDebug(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	select {
	case err := <-done:
		return fmt.Errorf("debug listener: %w", err)
	case <-ctx.Done():
		return srv.Close()
	}
}
