package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/protocol"
)

// Config tunes a client. URL (or Dial) is required.
type Config struct {
	// URL is the site's websocket endpoint, wss://host/sync.
	URL string
	// TLSConfig carries the device certificate and the site CA (mTLS).
	TLSConfig *tls.Config
	// Header is sent with the websocket handshake.
	Header http.Header
	// Dial, when set, replaces dialing URL: another transport, or an
	// in-memory pipe in tests.
	Dial func(ctx context.Context) (conn.Conn, error)

	MinBackoff   time.Duration // first reconnect delay (default 500 ms)
	MaxBackoff   time.Duration // longest reconnect delay (default 30 s)
	HelloTimeout time.Duration // for WELCOME (default 10 s)
	// PingInterval overrides the site's announced interval (default:
	// the site's, else 30 s). The connection is dropped when nothing
	// arrives for three intervals.
	PingInterval time.Duration
	MaxPush      int   // events per PUSH, capped by the site (default 1000)
	MaxInFlight  int   // PUSHes unanswered, capped by the site (default 2)
	MaxFrame     int   // read limit (default 1 MiB)
	MaxSnapshot  int64 // bytes of one snapshot or change set gathered in memory (default 256 MiB)

	// Clock, when set, is updated from the site's clock (WELCOME, PONG).
	Clock  *hlc.Clock
	Agent  string // software and version, sent in HELLO
	Logger *slog.Logger
	// OnState is called, from the client's goroutine, whenever State
	// changes. A UI must hop to its own thread (fyne.Do).
	OnState func(State)
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.MinBackoff, 500*time.Millisecond)
	def(&c.MaxBackoff, 30*time.Second)
	def(&c.HelloTimeout, 10*time.Second)
	lim := protocol.Limits{MaxFrame: c.MaxFrame, MaxPush: c.MaxPush, MaxInFlight: c.MaxInFlight}.Clamp()
	c.MaxFrame, c.MaxPush, c.MaxInFlight = lim.MaxFrame, lim.MaxPush, lim.MaxInFlight
	if c.MaxSnapshot <= 0 {
		c.MaxSnapshot = 256 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// State is what the UI shows of sync.
type State struct {
	Online    bool      // a session is open
	Queued    uint64    // outbox events not yet acknowledged
	LastSync  time.Time // last acknowledgement or feed step received
	Cluster   string    // the site's cluster, once welcomed
	LastError string    // why the last connection ended, "" when none
	// Refused is set when the site denied the last connection for a
	// reason reconnecting does not cure (ErrDenied: no valid, an unknown
	// or a revoked certificate, a site that does not serve the device):
	// retrying goes on, but an operator has to act before it can succeed.
	Refused bool
	// Problem is set when pushing has stopped for a reason reconnecting
	// does not cure (ErrEpochReused, ErrSiteBehind, ErrOutbox).
	Problem string
	RetryAt time.Time // when the next connection attempt is due, while offline
}

// Client keeps one device in sync with its site.
type Client struct {
	dev    Device
	cfg    Config
	log    *slog.Logger
	notify chan struct{}

	mu    sync.Mutex
	state State
}

// New returns a client for dev.
func New(dev Device, cfg Config) (*Client, error) {
	if cfg.URL == "" && cfg.Dial == nil {
		return nil, fmt.Errorf("%w: no URL or Dial", ErrConfig)
	}
	cfg = cfg.withDefaults()
	return &Client{dev: dev, cfg: cfg, log: cfg.Logger, notify: make(chan struct{}, 1)}, nil
}

// Notify tells the client the outbox has new events or the user
// changed. It never blocks.
func (c *Client) Notify() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// State returns the current sync state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) update(f func(*State)) {
	c.mu.Lock()
	f(&c.state)
	st := c.state
	c.mu.Unlock()
	if c.cfg.OnState != nil {
		c.cfg.OnState(st)
	}
}

func (c *Client) refreshQueued() {
	first, last, err := c.dev.Outbox()
	if err != nil {
		return
	}
	var q uint64
	if last >= first {
		q = last - first + 1
	}
	c.update(func(s *State) { s.Queued = q })
}

// busyError carries a site's BUSY.
type busyError struct{ retry time.Duration }

func (e *busyError) Error() string { return fmt.Sprintf("site busy, retry after %s", e.retry) }

// Serve keeps the device connected until ctx ends, reconnecting with
// jittered exponential backoff (or after the site's retry-after). It
// returns nil when ctx ends.
func (c *Client) Serve(ctx context.Context) error {
	c.refreshQueued()
	attempt := 0
	for ctx.Err() == nil {
		welcomed, err := c.connectOnce(ctx)
		if ctx.Err() != nil {
			break
		}
		if welcomed {
			attempt = 0
		}
		var wait time.Duration
		var be *busyError
		if errors.As(err, &be) {
			wait = be.retry + time.Duration(rand.Int64N(int64(be.retry/5)+1))
		} else {
			wait = c.backoff(attempt)
			attempt++
		}
		msg := ""
		if err != nil {
			msg = err.Error()
			c.log.Info("sync connection ended", "err", err, "retryIn", wait)
		}
		refused := errors.Is(err, ErrDenied)
		c.update(func(s *State) {
			s.Online, s.LastError, s.Refused, s.RetryAt = false, msg, refused, time.Now().Add(wait)
		})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	c.update(func(s *State) { s.Online = false })
	return nil
}

// backoff is the delay before attempt n: exponential from MinBackoff,
// capped at MaxBackoff, with full jitter over its upper half.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 0; i < n && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) dial(ctx context.Context) (conn.Conn, error) {
	if c.cfg.Dial != nil {
		return c.cfg.Dial(ctx)
	}
	d := websocket.Dialer{
		TLSClientConfig:  c.cfg.TLSConfig,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   64 << 10,
		WriteBufferSize:  64 << 10,
	}
	ws, resp, err := d.DialContext(ctx, c.cfg.URL, c.cfg.Header)
	why := ""
	if resp != nil && resp.Body != nil {
		if err != nil && resp.StatusCode >= 400 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			why = RefusalText(resp.StatusCode, b)
		}
		_ = resp.Body.Close()
	}
	if why != "" {
		// The site answered the upgrade with an error: no client
		// certificate, a refused or revoked one, and so on.
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("sync dial %s: %w: %w: %s", c.cfg.URL, ErrRefused, ErrDenied, why)
		}
		return nil, fmt.Errorf("sync dial %s: %w: %s", c.cfg.URL, ErrRefused, why)
	}
	if err != nil {
		return nil, fmt.Errorf("sync dial %s: %w", c.cfg.URL, err)
	}
	return conn.WebSocket(ws, conn.Peer{Addr: c.cfg.URL}, conn.Options{ReadLimit: int64(c.cfg.MaxFrame)}), nil
}

// RefusalText says why a site refused a websocket upgrade, from the
// HTTP status and the answer's body: the "error" of a JSON error body, or
// the body's first line.
func RefusalText(status int, body []byte) string {
	msg := ""
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	} else {
		line, _, _ := strings.Cut(string(body), "\n")
		msg = strings.TrimSpace(line)
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, msg)
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300])
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if msg != "" {
		text += ": " + msg
	}
	return text
}

// connectOnce runs one connection: dial, HELLO/WELCOME, then the
// session until it ends. welcomed reports whether the site accepted it.
func (c *Client) connectOnce(ctx context.Context) (welcomed bool, err error) {
	cn, err := c.dial(ctx)
	if err != nil {
		return false, err
	}
	l := newLink(c, cn)
	defer l.stop()
	return l.run(ctx)
}
