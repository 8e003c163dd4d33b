// Package api is the site's HTTP API: versioned JSON under /api/v1,
// health and metrics, and the internal endpoints nodes use to forward
// writes to the leader. Every /api/v1 request acts as a user and sees
// only the clients that user is granted. See README.md for the routes.
package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Cluster is what the API needs from the node it runs on.
type Cluster interface {
	State() *state.Store
	SubmitEvents(ctx context.Context, evs []event.Event, forwarded bool) ([]command.Verdict, error)
	Propose(ctx context.Context, data []byte, forwarded bool) (json.RawMessage, error)
	IsLeader() bool
	LeaderHTTP() (string, error)
	VerifyRead(ctx context.Context) error
	CheckFresh(maxLag time.Duration) error
	Ready() (bool, string)
	SelfStatus(withHash bool) (cluster.Self, error)
	ClusterStatus(ctx context.Context, withHash bool) (cluster.Status, error)
	Join(ctx context.Context, j cluster.JoinRequest) error
	Remove(ctx context.Context, id string) error
	TransferLeadership(ctx context.Context, id string) error
}

// Config is the API server's configuration.
type Config struct {
	Addr      string // listen address, host:port
	Node      Cluster
	Logger    *slog.Logger
	Registry  *prometheus.Registry // metrics go here; nil: a private registry
	BodyLimit int                  // bytes, default 8 MiB
	Clock     *hlc.Clock           // stamps ASNs, holds and exception updates; nil: a new clock
	// Metrics registers extra collectors (the node's raft and coalescer gauges).
	Metrics []prometheus.Collector
	// ClusterSecret, when set, is required (cluster.HeaderSecret) on the
	// node-to-node routes: forwarded writes, join and self.
	ClusterSecret string
	// Before registers routes ahead of the user-authenticated API: the
	// device sync websocket, which establishes its devices itself.
	Before func(r fiber.Router)

	// TLS, when set, serves the API over HTTPS with this configuration:
	// certs.ServerTLS with AllowNoClientCert, so client certificates are
	// asked for and verified when presented, not required by the
	// handshake (the CA certificate and enrollment serve handhelds that
	// have none yet). Every user route then needs a user certificate:
	// HeaderUser alone is refused.
	TLS *tls.Config
	// Verifier judges client certificates at the application: a node
	// certificate authenticates the node-to-node routes (as the cluster
	// secret does), a user certificate the user routes. It should
	// consult the revoked devices.
	Verifier *certs.Verifier
	// NodeClientTLS, with TLS, is how this node dials the leader when it
	// forwards a leader-consistent read: HTTPS with the node's
	// certificate.
	NodeClientTLS *tls.Config
	// CA, when set, lets this node enroll handhelds (it signs their
	// certificates) and serves the CA certificate at /api/v1/ca.
	CA *certs.CA
	// EnrollRate is how many enrollment requests one address may make
	// per minute (default DefaultEnrollRate).
	EnrollRate int
	// DeviceValidity is how long an enrolled device's certificate is
	// valid (default certs.DefaultDeviceValidity).
	DeviceValidity time.Duration
	// Now stamps enrollment tokens, their use and revocations (default
	// time.Now).
	Now func() time.Time
}

// Server is the HTTP API of one node.
type Server struct {
	cfg     Config
	node    Cluster
	log     *slog.Logger
	app     *fiber.App
	reg     *prometheus.Registry
	clock   *hlc.Clock
	latency *prometheus.HistogramVec
	proxy   *proxy
	// enrollRate limits enrollment requests per address.
	enrollRate *rateLimit
	// users verifies the client certificates that name users over HTTPS
	// (Config.Verifier, or one for Config.CA's certificate).
	users *certs.Verifier
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 8 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Clock == nil {
		cfg.Clock = hlc.NewClock(nil, 0)
	}
	if cfg.EnrollRate <= 0 {
		cfg.EnrollRate = DefaultEnrollRate
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var proxyTLS *tls.Config
	if cfg.TLS != nil {
		proxyTLS = cfg.NodeClientTLS
		if proxyTLS == nil {
			proxyTLS = &tls.Config{MinVersion: tls.VersionTLS13}
		}
	}
	s := &Server{cfg: cfg, node: cfg.Node, log: cfg.Logger, reg: cfg.Registry, clock: cfg.Clock, proxy: newProxy(proxyTLS, cfg.ClusterSecret),
		enrollRate: newRateLimit(cfg.EnrollRate, time.Minute, time.Now), users: cfg.Verifier}
	if s.users == nil && cfg.CA != nil {
		s.users = certs.NewVerifier(cfg.CA.Cert(), nil, nil)
	}
	s.app = fiber.New(fiber.Config{
		AppName: "custody",
		// Immutable: every string and byte slice Fiber hands a handler
		// (method, path, params, query, headers, body) is the
		// handler's own copy, not a view of fasthttp's request buffers,
		// which the next request on the connection overwrites. Without
		// it a value kept past the handler (a metric label, a map key, a
		// log line written later, anything given to another goroutine)
		// silently changes under its holder: request-latency labels
		// turned "GET" into "GETT" and every /metrics scrape failed.
		// Copying at each such place instead leaves every future handler
		// one forgotten copy away from the same fault; the price here is
		// a few small allocations per request (and a body copy per
		// Body() call: handlers read it once), small beside a raft
		// round trip. Values read around Fiber's getters
		// (c.Request(), c.Context()) are still views: copy those
		// explicitly (README "Request values").
		Immutable:             true,
		BodyLimit:             cfg.BodyLimit,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	s.metrics()
	s.routes()
	return s
}

// App exposes the Fiber app (tests use app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve listens on cfg.Addr until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx ends, over TLS when Config.TLS
// is set.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.app.ShutdownWithContext(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (s *Server) routes() {
	a := s.app
	a.Use(s.observe, plainBodies)
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metricsHandler())
	if s.cfg.Before != nil {
		s.cfg.Before(a)
	}
	// Device admission without a user: the CA certificate, and the
	// handheld's side of enrollment (the token is its authority).
	a.Get("/api/v1/ca", s.caCert)
	a.Post("/api/v1/enroll", s.enrollLimit(), s.enroll)

	// Node to node.
	a.Post(cluster.PathForwardEvents, s.fromNode, s.forwardedEvents)
	a.Post(cluster.PathForwardPropose, s.fromNode, s.forwardedPropose)
	a.Get(cluster.PathSelf, s.fromNode, s.clusterSelf)
	a.Post(cluster.PathJoin, s.fromNode, s.clusterJoin)

	v1 := a.Group("/api/v1", s.authenticate)
	v1.Get("/me", s.me)
	v1.Get("/site", s.getSite)
	v1.Put("/site", s.admin, s.putSite)
	v1.Get("/clients", s.listClients)
	v1.Get("/clients/:id", s.getClient)
	v1.Put("/clients/:id", s.admin, s.putClient)
	v1.Get("/products", s.listProducts)
	v1.Get("/products/:gtin", s.getProduct)
	v1.Put("/products/:gtin", s.admin, s.putProduct)
	v1.Get("/locations", s.listLocations)
	v1.Put("/locations/:id", s.admin, s.putLocation)
	v1.Get("/partners", s.listPartners)
	v1.Put("/partners/:id", s.admin, s.putPartner)
	v1.Get("/users", s.admin, s.listUsers)
	v1.Get("/users/:id", s.admin, s.getUser)
	v1.Put("/users/:id", s.admin, s.putUser)
	v1.Post("/users/:id/pin", s.admin, s.setUserPIN)
	v1.Post("/users/:id/certificate", s.admin, s.userCertificate)
	v1.Post("/users/:id/revoke-certificates", s.admin, s.revokeUserCerts)
	v1.Put("/users/:id/password", s.admin, s.setPassword)
	v1.Get("/devices", s.admin, s.listDevices)
	v1.Post("/devices/tokens", s.admin, s.mintToken)
	v1.Get("/devices/tokens", s.admin, s.listTokens)
	v1.Get("/devices/revoked", s.admin, s.listRevoked)
	v1.Post("/devices/:id/revoke", s.admin, s.revokeDevice)

	v1.Post("/events", s.submitEvents)
	v1.Get("/events/:id", s.getEvent)
	v1.Get("/units", s.listUnits)
	v1.Get("/units/:key", s.getUnit)
	v1.Get("/lots/:gtin/:lot/units", s.lotUnits)

	v1.Get("/asns", s.listASNs)
	v1.Post("/asns", s.importASN)
	v1.Post("/asns/epcis", s.importASNFromEPCIS)
	v1.Get("/asns/:id", s.getASN)
	v1.Get("/orders", s.listOrders)
	v1.Post("/orders", s.putOrder)
	v1.Get("/orders/:id", s.getOrder)
	v1.Get("/shipments", s.listShipments)
	v1.Post("/shipments", s.putShipment)
	v1.Get("/shipments/:id", s.getShipment)
	v1.Get("/shipments/:id/epcis", s.shipmentEPCIS)
	v1.Get("/activity", s.activity)

	v1.Get("/holds", s.listHolds)
	v1.Post("/holds", s.lead, s.createHold)
	v1.Get("/holds/:id", s.getHold)
	v1.Post("/holds/:id/release", s.lead, s.releaseHold)

	v1.Get("/recalls", s.listRecalls)
	v1.Post("/recalls", s.lead, s.openRecall)
	v1.Get("/recalls/:id", s.getRecall)
	v1.Post("/records-requests", s.recordsRequest)
	v1.Get("/epcis/events", s.epcisEvents)
	v1.Get("/investigations", s.listInvestigations)
	v1.Post("/investigations", s.lead, s.openInvestigation)
	v1.Get("/investigations/:id", s.getInvestigation)
	v1.Get("/investigations/:id/form3911", s.getForm3911)
	v1.Get("/investigations/:id/notices", s.getNotices)
	v1.Post("/investigations/:id/clear", s.lead, s.investigationAction(command.ActionClear))
	v1.Post("/investigations/:id/illegitimate", s.lead, s.investigationAction(command.ActionIllegitimate))
	v1.Post("/investigations/:id/notified", s.lead, s.investigationAction(command.ActionNotified))
	v1.Post("/investigations/:id/dispose", s.lead, s.investigationAction(command.ActionDispose))

	v1.Post("/digests", s.digests)
	v1.Post("/digests/find", s.findDigests)
	v1.Post("/network-duplicates", s.lead, s.networkDuplicate)
	v1.Get("/exceptions", s.listExceptions)
	v1.Get("/exceptions/:id", s.getException)
	v1.Post("/exceptions/:id/acknowledge", s.exceptionTo(ackStatus))
	v1.Post("/exceptions/:id/resolve", s.lead, s.exceptionTo(resolveStatus))
	v1.Get("/exceptions/:id/signal", s.signalRecord)
	v1.Post("/exceptions/:id/verdict", s.lead, s.signalVerdict)

	v1.Get("/cluster/status", s.clusterStatus)
	v1.Get("/cluster/hash", s.clusterHash)
	v1.Post("/cluster/remove", s.admin, s.clusterRemove)
	v1.Post("/cluster/transfer-leadership", s.admin, s.clusterTransfer)
	v1.Get("/cluster/backup", s.admin, s.clusterBackup)
	v1.Get("/cluster/feed", s.clusterFeed)
	v1.Put("/cluster/feed", s.admin, s.putClusterFeed)
}
