package syncsite

import (
	"context"
	"log/slog"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/session"
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
	// carries no verified certificate: for demos and tests without TLS
	// only.
	TrustHello bool
	Logger     *slog.Logger
}

// Endpoint serves sync sessions over websockets on a Fiber app.
type Endpoint struct {
	hub *session.Hub
	cfg EndpointConfig
	log *slog.Logger
}

// NewEndpoint returns the endpoint for site.
func NewEndpoint(site *Site, cfg EndpointConfig) *Endpoint {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Session.TrustHello = cfg.TrustHello
	if cfg.Session.Logger == nil {
		cfg.Session.Logger = cfg.Logger
	}
	return &Endpoint{hub: session.NewHub(site, cfg.Session, cfg.MaxSessions), cfg: cfg, log: cfg.Logger}
}

// Hub is the endpoint's session hub (the console lists its sessions).
func (e *Endpoint) Hub() *session.Hub { return e.hub }

// Serve runs until ctx ends, then closes every session: Fiber's own
// shutdown does not close hijacked websockets.
func (e *Endpoint) Serve(ctx context.Context) error { return e.hub.Serve(ctx) }

const localDevice = "syncsite.device"

// Handler is the Fiber handler for Path: it establishes the device from
// the TLS client certificate, then upgrades and hands the connection to
// the hub. Anything but a websocket upgrade gets 426.
func (e *Endpoint) Handler() fiber.Handler {
	ws := websocket.New(func(c *websocket.Conn) {
		id, _ := c.Locals(localDevice).(string)
		// fasthttp takes the connection back when this handler returns:
		// Release first, so no scheduled deadline or close reaches it.
		wc := conn.WebSocket(c.Conn, conn.Peer{Device: id}, conn.Options{})
		defer wc.Release()
		_ = e.hub.Handle(context.Background(), wc)
	}, websocket.Config{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		id := ""
		if cs := c.Context().TLSConnectionState(); cs != nil && e.cfg.Verifier != nil {
			dev, err := e.cfg.Verifier.DeviceIDFromConn(*cs)
			if err != nil {
				e.log.Warn("sync connection refused", "addr", c.IP(), "err", err)
				return fiber.ErrForbidden
			}
			id = dev.String()
		}
		if id == "" && !e.cfg.TrustHello {
			return fiber.ErrUnauthorized
		}
		c.Locals(localDevice, id)
		return ws(c)
	}
}

// Mount registers the endpoint at Path on r.
func (e *Endpoint) Mount(r fiber.Router) { r.Get(Path, e.Handler()) }
