package syncsite

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/session"
	"github.com/custodyhq/custody/sync/wire"
)

// Path is where a node serves device sync.
const Path = "/api/v1/sync"

// EndpointConfig configures the websocket endpoint.
type EndpointConfig struct {
	Session     session.Config // TrustHello is taken from TrustHello below
	MaxSessions int            // devices served at once by this node (default 1000)
	// Verifier establishes the device from its client certificate
	// (mTLS). Without it, only TrustHello admits devices.
	Verifier *certs.Verifier
	// TrustHello takes the device id HELLO claims when the connection
	// carries no certificate: for demos and tests without device
	// certificates only. A certificate that is presented is still
	// verified, and a HELLO without one may not name a device id of the
	// form certificates carry (closed with the identity code).
	TrustHello bool
	// Revocations, when set, is checked every RevokeCheck (default 1 s):
	// the open sessions of devices revoked since they connected are
	// closed with the forbidden code. (New connections are refused by
	// the Verifier, which should consult the same list.)
	Revocations *Revocations
	RevokeCheck time.Duration
	Logger      *slog.Logger
}

// Endpoint serves sync sessions over websockets on a Fiber app.
type Endpoint struct {
	hub     *session.Hub
	cfg     EndpointConfig
	log     *slog.Logger
	metrics *metrics

	mu    sync.Mutex
	conns map[*conn.WSConn]string // open connections of certified devices → device id
}

// NewEndpoint returns the endpoint for site.
func NewEndpoint(site *Site, cfg EndpointConfig) *Endpoint {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RevokeCheck <= 0 {
		cfg.RevokeCheck = time.Second
	}
	cfg.Session.TrustHello = cfg.TrustHello
	if cfg.Session.Logger == nil {
		cfg.Session.Logger = cfg.Logger
	}
	e := &Endpoint{cfg: cfg, log: cfg.Logger, conns: map[*conn.WSConn]string{}}
	e.metrics = newMetrics(cfg.Session.Node, func() *session.Hub { return e.hub })
	if cfg.Session.Observer == nil {
		cfg.Session.Observer = e.metrics
	}
	e.hub = session.NewHub(site, cfg.Session, cfg.MaxSessions)
	return e
}

// Collectors are the endpoint's Prometheus metrics (custody_sync_*):
// sessions, verdicts, push→ack latency, BUSY and NACK_GAP answers, change
// sets sent and refusals.
func (e *Endpoint) Collectors() []prometheus.Collector { return e.metrics.collectors() }

// Hub is the endpoint's session hub (the console lists its sessions).
func (e *Endpoint) Hub() *session.Hub { return e.hub }

// Serve runs until ctx ends, closing the sessions of devices that are
// revoked meanwhile, then closes every session: Fiber's own shutdown
// does not close hijacked websockets.
func (e *Endpoint) Serve(ctx context.Context) error {
	if e.cfg.Revocations != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			t := time.NewTicker(e.cfg.RevokeCheck)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					e.closeRevoked()
				}
			}
		}()
	}
	return e.hub.Serve(ctx)
}

// closeRevoked closes the connections of revoked devices.
func (e *Endpoint) closeRevoked() {
	e.mu.Lock()
	n := len(e.conns)
	e.mu.Unlock()
	if n == 0 {
		return
	}
	revoked, err := e.cfg.Revocations.Revoked()
	if err != nil {
		e.log.Error("read revoked devices", "err", err)
		return
	}
	e.mu.Lock()
	var closing []*conn.WSConn
	for wc, dev := range e.conns {
		if revoked[dev] {
			closing = append(closing, wc)
			delete(e.conns, wc)
		}
	}
	e.mu.Unlock()
	for _, wc := range closing {
		e.log.Warn("closing the session of a revoked device", "device", wc.Peer().Device, "addr", wc.Peer().Addr)
		_ = wc.Close(conn.CloseApp+int(wire.CodeForbidden), "device revoked")
	}
}

func (e *Endpoint) track(wc *conn.WSConn, device string) {
	if device == "" {
		return
	}
	e.mu.Lock()
	e.conns[wc] = device
	e.mu.Unlock()
}

func (e *Endpoint) untrack(wc *conn.WSConn) {
	e.mu.Lock()
	delete(e.conns, wc)
	e.mu.Unlock()
}

const localDevice = "syncsite.device"

// Handler is the Fiber handler for Path: it establishes the device from
// the TLS client certificate, then upgrades and hands the connection to
// the hub. Anything but a websocket upgrade gets 426; a certificate the
// Verifier refuses (another CA, expired, revoked, not a device) 403; no
// certificate 401, unless TrustHello (then a HELLO naming a certificate
// device id is closed with the identity code: see helloGuard).
func (e *Endpoint) Handler() fiber.Handler {
	ws := websocket.New(func(c *websocket.Conn) {
		id, _ := c.Locals(localDevice).(string)
		// fasthttp takes the connection back when this handler returns:
		// Release first, so no scheduled deadline or close reaches it.
		wc := conn.WebSocket(c.Conn, conn.Peer{Device: id}, conn.Options{})
		defer wc.Release()
		if id == "" {
			// TrustHello: the HELLO names the device, but never one that
			// proves itself with a certificate. Such a session names no
			// device that can be revoked, so it is not tracked.
			_ = e.hub.Handle(context.Background(), &helloGuard{Conn: wc, log: e.log, addr: c.IP()})
			return
		}
		e.track(wc, id)
		defer e.untrack(wc)
		_ = e.hub.Handle(context.Background(), wc)
	}, websocket.Config{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		id := ""
		if cs := c.Context().TLSConnectionState(); cs != nil && len(cs.PeerCertificates) > 0 && e.cfg.Verifier != nil {
			dev, err := e.cfg.Verifier.DeviceIDFromConn(*cs)
			if err != nil {
				e.log.Warn("sync connection refused", "addr", c.IP(), "err", err)
				e.metrics.refused.WithLabelValues("certificate_refused").Inc()
				return fiber.NewError(fiber.StatusForbidden, "device certificate refused: "+err.Error())
			}
			id = dev.String()
		}
		if id == "" && !e.cfg.TrustHello {
			e.log.Debug("sync connection without a device certificate", "addr", c.IP())
			e.metrics.refused.WithLabelValues("no_certificate").Inc()
			return fiber.NewError(fiber.StatusUnauthorized, "sync needs the client certificate of an enrolled device")
		}
		c.Locals(localDevice, id)
		return ws(c)
	}
}

// Mount registers the endpoint at Path on r.
func (e *Endpoint) Mount(r fiber.Router) { r.Get(Path, e.Handler()) }

// helloGuard is a connection the transport authenticated nobody on
// (TrustHello). It refuses a HELLO that names a device id of the form
// device certificates carry (certs.ParseDeviceID): that device is an
// enrolled handheld, which proves itself with its certificate, so
// nobody without it may take its place in the device's sequence.
type helloGuard struct {
	conn.Conn
	log  *slog.Logger
	addr string
	// seen is set once the first message went through the check (only
	// the session's reading goroutine reads).
	seen bool
}

// helloRefusal is the close reason of a refused HELLO (a close reason
// has at most 123 bytes).
const helloRefusal = "a certificate device id needs its certificate"

func (g *helloGuard) ReadMessage(ctx context.Context) ([]byte, error) {
	data, err := g.Conn.ReadMessage(ctx)
	if err != nil || g.seen {
		return data, err
	}
	g.seen = true
	f, derr := wire.Decode(data)
	if derr != nil {
		return data, nil // the session answers a malformed frame
	}
	h, ok := f.Msg.(*wire.Hello)
	if !ok {
		return data, nil
	}
	if _, perr := certs.ParseDeviceID(h.Device); perr != nil {
		return data, nil
	}
	g.log.Warn("sync HELLO refused: a certificate device id without its certificate", "device", h.Device, "addr", g.addr)
	_ = g.Conn.Close(conn.CloseApp+int(wire.CodeIdentity), helloRefusal)
	return nil, fmt.Errorf("HELLO for device %s without its certificate: %w", h.Device, conn.ErrClosed)
}
