package syncsite

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

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
		g := &guarded{ws: c.Conn, addr: c.RemoteAddr()}
		defer g.release()
		_ = e.hub.Handle(context.Background(), conn.WebSocket(g, conn.Peer{Device: id}, conn.Options{}))
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

// guarded keeps calls off a fasthttp websocket once its handler has
// returned: fasthttp then recycles the hijacked connection, and a
// deadline or close still scheduled by the adapter (a context's
// AfterFunc, the close grace timer) would act on a released connection.
// Reads and writes happen only while the session runs; the calls that
// timers make are serialised with release.
type guarded struct {
	ws   conn.WS
	addr net.Addr
	mu   sync.Mutex
	done bool
}

func (g *guarded) released() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.done
}

func (g *guarded) locked(f func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return net.ErrClosed
	}
	return f()
}

// release closes the connection (once) and turns every later call into
// a no-op.
func (g *guarded) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.done {
		g.done = true
		_ = g.ws.Close()
	}
}

func (g *guarded) ReadMessage() (int, []byte, error) {
	if g.released() {
		return 0, nil, net.ErrClosed
	}
	return g.ws.ReadMessage()
}

func (g *guarded) WriteMessage(t int, data []byte) error {
	if g.released() {
		return net.ErrClosed
	}
	return g.ws.WriteMessage(t, data)
}

func (g *guarded) WriteControl(t int, data []byte, deadline time.Time) error {
	return g.locked(func() error { return g.ws.WriteControl(t, data, deadline) })
}

func (g *guarded) SetReadDeadline(t time.Time) error {
	return g.locked(func() error { return g.ws.SetReadDeadline(t) })
}

func (g *guarded) SetWriteDeadline(t time.Time) error {
	return g.locked(func() error { return g.ws.SetWriteDeadline(t) })
}

func (g *guarded) SetReadLimit(n int64) {
	_ = g.locked(func() error { g.ws.SetReadLimit(n); return nil })
}

func (g *guarded) Close() error { return g.locked(g.ws.Close) }

func (g *guarded) RemoteAddr() net.Addr { return g.addr }
