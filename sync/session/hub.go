package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/wire"
)

// Hub runs the sessions of one site node. It admits at most MaxSessions
// devices (more get BUSY), keeps one session per device (a newer
// connection supersedes an older one, say a half-open socket the device
// gave up on) and closes every connection at shutdown — the web
// framework's own shutdown does not close hijacked websockets.
type Hub struct {
	site Site
	cfg  Config
	max  int

	mu       sync.Mutex
	sessions map[*Session]struct{}
	byDevice map[string]*Session
	closing  bool
	done     chan struct{} // closed when closing and the last session is gone
	resyncs  chan struct{} // a slot per RESYNC being built and sent (Config.MaxResyncs)
}

// NewHub returns a hub for site. maxSessions ≤ 0 means 1000.
func NewHub(site Site, cfg Config, maxSessions int) *Hub {
	if maxSessions <= 0 {
		maxSessions = 1000
	}
	cfg = cfg.withDefaults()
	return &Hub{site: site, cfg: cfg, max: maxSessions,
		sessions: map[*Session]struct{}{}, byDevice: map[string]*Session{}, done: make(chan struct{}),
		resyncs: make(chan struct{}, cfg.MaxResyncs)}
}

// Handle runs a session on c until it ends; call it from the websocket
// handler. A hub that is shutting down refuses c with ERROR shutdown.
func (h *Hub) Handle(ctx context.Context, c conn.Conn) error {
	s := New(c, h.site, h.cfg)
	s.hub = h
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		s.Close(wire.CodeShutdown, "server shutting down")
		_ = s.Serve(ctx)
		return ErrShutdown
	}
	h.sessions[s] = struct{}{}
	h.mu.Unlock()
	return s.Serve(ctx)
}

// admit is called once a session knows its device: it refuses the
// session when the hub is full or closing, and supersedes an older
// session of the same device.
func (h *Hub) admit(s *Session) (retry time.Duration, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return 0, ErrShutdown
	}
	old := h.byDevice[s.device]
	if old == nil && len(h.byDevice) >= h.max {
		return h.cfg.BusyRetry, fmt.Errorf("hub full: %d devices", h.max)
	}
	if old != nil {
		old.Close(wire.CodeSuperseded, "a newer connection of this device took over")
	}
	h.byDevice[s.device] = s
	return 0, nil
}

func (h *Hub) remove(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions, s)
	if h.byDevice[s.device] == s {
		delete(h.byDevice, s.device)
	}
	if h.closing && len(h.sessions) == 0 {
		select {
		case <-h.done:
		default:
			close(h.done)
		}
	}
}

// Sessions lists the live sessions.
func (h *Hub) Sessions() []Info {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Info, 0, len(h.sessions))
	for s := range h.sessions {
		out = append(out, s.Info())
	}
	return out
}

// Devices is how many devices have an admitted session.
func (h *Hub) Devices() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byDevice)
}

// Serve waits for ctx to end, then shuts the hub down (waiting up to 5 s
// for sessions to finish).
func (h *Hub) Serve(ctx context.Context) error {
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.Shutdown(sctx)
}

// Shutdown refuses new sessions, closes every open one with ERROR
// shutdown and waits until all have ended or ctx ends.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for s := range h.sessions {
		s.Close(wire.CodeShutdown, "server shutting down")
	}
	if len(h.sessions) == 0 {
		select {
		case <-h.done:
		default:
			close(h.done)
		}
	}
	h.mu.Unlock()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sync hub shutdown: %w", ctx.Err())
	}
}
