package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/client"
	"github.com/custodyhq/custody/sync/conn"
)

// Reasons a device is offline (bits).
const (
	offWindow   = 1 << iota // its scheduled offline window
	offConflict             // taken offline to make a conflict
	offStopped              // the run is over
)

// handheld is one simulated device: a real store and engine in its own
// data directory and a real sync client over websockets.
type handheld struct {
	n    int
	id   string
	dir  string
	st   *store.Store
	eng  *engine.Engine
	dev  *syncdev.Device
	cli  *client.Client
	log  *slog.Logger
	urls []string
	user string

	work sync.Mutex // held for each workflow step; a conflict round holds it throughout

	mu      sync.Mutex
	reasons int
	cancel  context.CancelFunc
	done    chan struct{}

	dials    atomic.Uint32
	steps    atomic.Int64
	refusals atomic.Int64
}

func openHandheld(n int, id, root string, urls []string, user string, log *slog.Logger) (*handheld, error) {
	h := &handheld{n: n, id: id, dir: filepath.Join(root, id), urls: urls, user: user, log: log.With("device", id)}
	var err error
	// Badger's own warnings (compaction chatter) only at error level.
	quiet := h.log
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		quiet = slog.New(errorsOnly{h.log.Handler()})
	}
	if h.st, err = store.Open(filepath.Join(h.dir, "store"), store.Options{Device: id, Logger: quiet}); err != nil {
		return nil, err
	}
	if h.eng, err = engine.New(h.st, engine.Config{DeviceNumber: n + 1, Logger: h.log}); err != nil {
		h.st.Close()
		return nil, err
	}
	if h.dev, err = syncdev.New(h.eng, h.dir); err != nil {
		h.st.Close()
		return nil, err
	}
	h.cli, err = client.New(h.dev, client.Config{Dial: h.dial, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second,
		HelloTimeout: 5 * time.Second, Agent: "custody-sim", Logger: h.log})
	if err != nil {
		h.st.Close()
		return nil, err
	}
	return h, nil
}

// dial connects to the next server in turn, so a device whose server
// went away finds another.
func (h *handheld) dial(ctx context.Context) (conn.Conn, error) {
	u := h.urls[(h.n+int(h.dials.Add(1)))%len(h.urls)]
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d := websocket.Dialer{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.DialContext(dctx, u, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	return conn.WebSocket(ws, conn.Peer{Addr: u}, conn.Options{}), nil
}

// setOffline sets or clears one reason; the client runs while there is
// none.
func (h *handheld) setOffline(reason int, off bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if off {
		h.reasons |= reason
	} else {
		h.reasons &^= reason
	}
	switch {
	case h.reasons == 0 && h.cancel == nil:
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel, h.done = cancel, make(chan struct{})
		done := h.done
		go func() { defer close(done); _ = h.cli.Serve(ctx) }()
	case h.reasons != 0 && h.cancel != nil:
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

func (h *handheld) online() bool { return h.cli.State().Online }

func (h *handheld) close() {
	h.setOffline(offStopped, true)
	_ = h.st.Close()
}

// outbox reports how many events were written and acknowledged, and how
// many wait.
func (h *handheld) outbox() (store.OutboxRange, error) { return h.st.Outbox() }

// unit reads a unit from the replica.
func (h *handheld) unit(k event.Key) unit.State {
	var s unit.State
	_ = h.st.View(func(tx *store.Tx) (err error) { s, err = tx.Unit(k); return })
	return s
}

// signIn waits until the replica holds the user with a PIN verifier,
// then signs in once. Waiting reads the store: a sign-in attempt before
// the user arrives would count as a wrong PIN for the device, and enough
// of them lock the device out.
func (h *handheld) signIn(ctx context.Context, pin string) error {
	err := waitUntil(ctx, h.id+" to learn user "+h.user, func() bool {
		var u master.User
		err := h.st.View(func(tx *store.Tx) (err error) { u, err = tx.User(h.user); return })
		return err == nil && u.PIN != nil
	})
	if err != nil {
		return err
	}
	st, err := h.eng.Login(h.user, pin)
	if err != nil {
		return err
	}
	if st.Verdict == engine.Refused {
		return fmt.Errorf("%s: sign-in: %s", h.id, st.Reason)
	}
	// The user changed: the client subscribes again as the user, and the
	// site sends the replica the user's clients (a device nobody is
	// signed in on holds none).
	h.cli.Notify()
	return nil
}

var errNoTask = errors.New("task lost")

// scan runs one scan in a task, starting the task first when it is not
// the current one (a resync ends the current task).
func (h *handheld) scan(mode string, start func() (engine.Step, error), raw []byte) (engine.Step, error) {
	var st engine.Step
	for range 5 {
		if h.eng.Mode() != mode {
			s, err := start()
			if err != nil {
				return s, err
			}
			if s.Verdict == engine.Refused {
				h.refusals.Add(1)
				return s, nil
			}
		}
		var err error
		st, err = h.eng.Scan(raw)
		if err != nil {
			return st, err
		}
		if st.Verdict == engine.Refused && strings.HasPrefix(st.Reason, "choose a task") {
			continue
		}
		h.steps.Add(1)
		if st.Verdict == engine.Refused {
			h.refusals.Add(1)
		}
		h.cli.Notify()
		return st, nil
	}
	return st, errNoTask
}

// errorsOnly passes only error records to its handler.
type errorsOnly struct{ slog.Handler }

func (e errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && e.Handler.Enabled(ctx, l)
}
