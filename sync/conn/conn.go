// Package conn is the small connection interface the sync protocol is
// written against, so the same session and client code runs over a
// websocket in production and over an in-memory pipe in tests.
//
// Two implementations live here: Pipe (in memory) and WebSocket, an
// adapter over any websocket connection with gorilla/websocket's method
// set — gorilla's *websocket.Conn on the device and in tests, and
// fasthttp/websocket's *websocket.Conn (what gofiber/contrib/websocket
// hands a Fiber handler, as its embedded Conn) on the site. The package
// imports neither Fiber nor fasthttp.
package conn

import (
	"context"
	"errors"
	"fmt"
)

// Errors returned by connections.
var (
	// ErrClosed reports a connection this side closed.
	ErrClosed = errors.New("conn: closed")
	// ErrTooLarge reports a message over the read limit. The connection
	// has been closed with CloseTooLarge.
	ErrTooLarge = errors.New("conn: message over the read limit")
	// ErrNotBinary reports a text message where the protocol wants binary.
	ErrNotBinary = errors.New("conn: not a binary message")
)

// Websocket close codes the protocol uses. An ERROR{code} is followed by
// a close with CloseApp+code.
const (
	CloseNormal    = 1000
	CloseGoingAway = 1001
	CloseProtocol  = 1002
	CloseTooLarge  = 1009
	CloseInternal  = 1011
	CloseApp       = 4000
)

// CloseError reports that the peer closed the connection, with its code
// and reason. errors.Is(err, ErrClosed) is false for it: the peer closed,
// not this side.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("conn: peer closed with code %d", e.Code)
	}
	return fmt.Sprintf("conn: peer closed with code %d: %s", e.Code, e.Reason)
}

// Peer is who is at the other end, as the transport established it. On
// the site, Device comes from the client certificate (mTLS); it is empty
// when the transport authenticated nobody.
type Peer struct {
	Device string
	Addr   string
}

// Conn is a message-oriented, full-duplex connection. Implementations
// must allow one goroutine reading and one writing at the same time, and
// Close from any goroutine at any time; Close unblocks both.
//
//   - ReadMessage returns the next binary message. It fails with
//     ErrTooLarge for a message over the read limit (having closed the
//     connection with CloseTooLarge), with *CloseError when the peer
//     closed, with ErrClosed after Close, and with ctx's error when ctx
//     ends (the connection is then unusable).
//   - WriteMessage sends one binary message. data may be reused once it
//     returns.
//   - Close sends a close with code and reason (best effort) and releases
//     the connection. Later calls do nothing.
//   - Peer reports the remote identity.
type Conn interface {
	ReadMessage(ctx context.Context) ([]byte, error)
	WriteMessage(ctx context.Context, data []byte) error
	Close(code int, reason string) error
	Peer() Peer
}
