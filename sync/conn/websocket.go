package conn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WS is the part of a websocket connection the adapter uses. Both
// gorilla/websocket's *Conn and fasthttp/websocket's *Conn have it, so a
// Fiber handler wraps its connection with
//
//	conn.WebSocket(c.Conn, conn.Peer{Device: id}, conn.Options{})
//
// where c is the *websocket.Conn of gofiber/contrib/websocket.
type WS interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetReadLimit(limit int64)
	Close() error
	RemoteAddr() net.Addr
}

// Websocket message types (RFC 6455; the same numbers in every Go
// websocket package).
const (
	wsText   = 1
	wsBinary = 2
	wsClose  = 8
)

// Options tune the websocket adapter.
type Options struct {
	// ReadLimit is the largest message accepted (default 1 MiB). A
	// larger one fails the read with ErrTooLarge and closes the
	// connection with CloseTooLarge.
	ReadLimit int64
	// WriteTimeout bounds one write when ctx has no deadline (default 10 s).
	WriteTimeout time.Duration
	// CloseGrace is how long Close waits for the peer's close reply
	// before dropping the TCP connection (default 250 ms).
	CloseGrace time.Duration
}

// WebSocket adapts ws to Conn. It sets ws's read limit. A server handler
// that hands ws back to its library when it returns (fasthttp recycles a
// hijacked connection) must call Release before returning.
func WebSocket(ws WS, peer Peer, o Options) *WSConn {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = 250 * time.Millisecond
	}
	ws.SetReadLimit(o.ReadLimit)
	if peer.Addr == "" && ws.RemoteAddr() != nil {
		peer.Addr = ws.RemoteAddr().String()
	}
	return &WSConn{ws: &guarded{ws: ws}, peer: peer, o: o, closed: make(chan struct{})}
}

// WSConn is a websocket adapted to Conn.
type WSConn struct {
	ws     *guarded
	peer   Peer
	o      Options
	once   sync.Once
	closed chan struct{}
}

// Release closes the websocket now and turns every later call on it,
// including those a close-grace timer or a context's cancellation still
// has scheduled, into a no-op. After Release the caller may hand the
// connection back to its library.
func (c *WSConn) Release() {
	c.once.Do(func() { close(c.closed) })
	c.ws.release()
}

// guarded serialises the calls timers make on a websocket with its
// release, so none reaches a connection its library has taken back.
type guarded struct {
	ws   WS
	mu   sync.Mutex
	done bool
}

func (g *guarded) do(f func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return net.ErrClosed
	}
	return f()
}

func (g *guarded) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.done {
		g.done = true
		_ = g.ws.Close()
	}
}

func (g *guarded) isReleased() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.done
}

// ReadMessage and WriteMessage run outside the lock (they block); the
// session stops using the connection before its handler releases it.
func (g *guarded) ReadMessage() (int, []byte, error) {
	if g.isReleased() {
		return 0, nil, net.ErrClosed
	}
	return g.ws.ReadMessage()
}

func (g *guarded) WriteMessage(t int, data []byte) error {
	if g.isReleased() {
		return net.ErrClosed
	}
	return g.ws.WriteMessage(t, data)
}

func (g *guarded) WriteControl(t int, data []byte, deadline time.Time) error {
	return g.do(func() error { return g.ws.WriteControl(t, data, deadline) })
}

func (g *guarded) SetReadDeadline(t time.Time) error {
	return g.do(func() error { return g.ws.SetReadDeadline(t) })
}

func (g *guarded) SetWriteDeadline(t time.Time) error {
	return g.do(func() error { return g.ws.SetWriteDeadline(t) })
}

func (g *guarded) Close() error { return g.do(g.ws.Close) }

func (c *WSConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// ReadMessage implements Conn.
func (c *WSConn) ReadMessage(ctx context.Context) ([]byte, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	stop := context.AfterFunc(ctx, func() { _ = c.ws.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	t, data, err := c.ws.ReadMessage()
	switch {
	case err == nil && t == wsBinary:
		return data, nil
	case err == nil:
		return nil, fmt.Errorf("%w: type %d", ErrNotBinary, t)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case c.isClosed():
		return nil, ErrClosed
	case isReadLimit(err):
		c.closeNow()
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, c.o.ReadLimit)
	}
	if code, reason, ok := closeCode(err); ok {
		c.closeNow()
		return nil, &CloseError{Code: code, Reason: reason}
	}
	return nil, fmt.Errorf("conn: read: %w", err)
}

// WriteMessage implements Conn.
func (c *WSConn) WriteMessage(ctx context.Context, data []byte) error {
	if c.isClosed() {
		return ErrClosed
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(c.o.WriteTimeout)
	}
	_ = c.ws.SetWriteDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = c.ws.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.ws.WriteMessage(wsBinary, data); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c.isClosed() {
			return ErrClosed
		}
		return fmt.Errorf("conn: write: %w", err)
	}
	return nil
}

// Close implements Conn: it sends the close frame, gives the peer
// CloseGrace to answer, then drops the connection.
func (c *WSConn) Close(code int, reason string) error {
	c.once.Do(func() {
		close(c.closed)
		if len(reason) > 120 {
			reason = reason[:120]
		}
		msg := binary.BigEndian.AppendUint16(nil, uint16(code))
		msg = append(msg, reason...)
		_ = c.ws.WriteControl(wsClose, msg, time.Now().Add(time.Second))
		_ = c.ws.SetReadDeadline(time.Now().Add(c.o.CloseGrace))
		time.AfterFunc(c.o.CloseGrace, func() { _ = c.ws.Close() })
	})
	return nil
}

// closeNow drops a connection whose close handshake is already done
// (the peer closed) or moot (read limit: the library sent the close).
func (c *WSConn) closeNow() {
	c.once.Do(func() {
		close(c.closed)
		_ = c.ws.Close()
	})
}

// Peer implements Conn.
func (c *WSConn) Peer() Peer { return c.peer }

// readLimitText is the text both gorilla and fasthttp websocket packages
// give their ErrReadLimit.
const readLimitText = "websocket: read limit exceeded"

func isReadLimit(err error) bool {
	return errors.Is(err, websocket.ErrReadLimit) || strings.Contains(err.Error(), readLimitText)
}

// closeCode extracts the peer's close code from gorilla's *CloseError or,
// for other websocket packages, from the same error text
// ("websocket: close 1009 (message too big): reason").
func closeCode(err error) (int, string, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	s := err.Error()
	const prefix = "websocket: close "
	i := strings.Index(s, prefix)
	if i < 0 {
		return 0, "", false
	}
	s = s[i+len(prefix):]
	var code int
	if _, err := fmt.Sscanf(s, "%d", &code); err != nil {
		return 0, "", false
	}
	reason := ""
	if j := strings.Index(s, ": "); j >= 0 {
		reason = s[j+2:]
	}
	return code, reason, true
}
