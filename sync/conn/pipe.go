package conn

import (
	"context"
	"sync"
)

// Pipe returns the two ends of an in-memory connection between a and b:
// a's end first (its Peer is b), then b's (its Peer is a). Each end refuses
// messages over limit bytes the way a websocket with that read limit
// does (0: no limit). Writes block when queue messages are waiting
// unread (backpressure), as a socket's buffers would.
func Pipe(limit, queue int, a, b Peer) (Conn, Conn) {
	if queue <= 0 {
		queue = 16
	}
	st := &pipeState{done: make(chan struct{})}
	ab := make(chan []byte, queue)
	ba := make(chan []byte, queue)
	return &pipeEnd{st: st, side: 0, in: ba, out: ab, limit: limit, peer: b},
		&pipeEnd{st: st, side: 1, in: ab, out: ba, limit: limit, peer: a}
}

type pipeState struct {
	once   sync.Once
	done   chan struct{}
	closer int // the side that closed
	code   int
	reason string
}

type pipeEnd struct {
	st    *pipeState
	side  int
	in    chan []byte
	out   chan []byte
	limit int
	peer  Peer
}

func (p *pipeEnd) closedErr() error {
	if p.st.closer == p.side {
		return ErrClosed
	}
	return &CloseError{Code: p.st.code, Reason: p.st.reason}
}

// ReadMessage implements Conn. Messages written before a close are still
// delivered, as a websocket delivers frames sent before its close frame.
func (p *pipeEnd) ReadMessage(ctx context.Context) ([]byte, error) {
	select {
	case <-p.st.done:
		if p.st.closer == p.side {
			return nil, ErrClosed
		}
	default:
	}
	var m []byte
	select {
	case m = <-p.in:
	default:
		select {
		case m = <-p.in:
		case <-p.st.done:
			select {
			case m = <-p.in:
			default:
				return nil, p.closedErr()
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if p.limit > 0 && len(m) > p.limit {
		_ = p.Close(CloseTooLarge, "message too big")
		return nil, ErrTooLarge
	}
	return m, nil
}

// WriteMessage implements Conn.
func (p *pipeEnd) WriteMessage(ctx context.Context, data []byte) error {
	select {
	case <-p.st.done:
		return p.closedErr()
	default:
	}
	m := append([]byte(nil), data...)
	select {
	case p.out <- m:
		return nil
	case <-p.st.done:
		return p.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close implements Conn.
func (p *pipeEnd) Close(code int, reason string) error {
	p.st.once.Do(func() {
		p.st.closer, p.st.code, p.st.reason = p.side, code, reason
		close(p.st.done)
	})
	return nil
}

// Peer implements Conn.
func (p *pipeEnd) Peer() Peer { return p.peer }
