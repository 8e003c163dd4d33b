package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/session"
	"github.com/custodyhq/custody/sync/wire"
)

// wsSite serves a hub over real websockets on 127.0.0.1. Without mTLS in
// these tests, the device identity comes from a test header.
type wsSite struct {
	srv   *httptest.Server
	hub   *session.Hub
	mu    sync.Mutex
	raw   []*websocket.Conn
	conns int
}

func newWSSite(t *testing.T, site session.Site, tlsOn bool) *wsSite {
	w := &wsSite{hub: session.NewHub(site, session.Config{}, 100)}
	up := websocket.Upgrader{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		w.mu.Lock()
		w.raw = append(w.raw, ws)
		w.conns++
		w.mu.Unlock()
		_ = w.hub.Handle(context.Background(), conn.WebSocket(ws, conn.Peer{Device: r.Header.Get("X-Test-Device")}, conn.Options{}))
	})
	if tlsOn {
		w.srv = httptest.NewTLSServer(h)
	} else {
		w.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		_ = w.hub.Shutdown(context.Background())
		w.srv.Close()
	})
	return w
}

func (w *wsSite) url() string { return "ws" + strings.TrimPrefix(w.srv.URL, "http") }

// kill drops every server-side TCP connection without a close frame.
func (w *wsSite) kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ws := range w.raw {
		_ = ws.NetConn().Close()
	}
}

func runClient(t *testing.T, dev *fake.Device, cfg Config) *Client {
	cfg.Header = http.Header{"X-Test-Device": {dev.ID}}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 20 * time.Millisecond
	}
	c, err := New(dev, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func TestWebsocketReconnectLosesNothing(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Delay = time.Millisecond
	var ws *wsSite
	var killed sync.Once
	applied := 0
	site.Judge = func(*event.Event) protocol.Verdict {
		// Called under the site's lock as each event applies: at the
		// 2,500th, cut the connection, so the ack of the push being
		// applied is lost.
		applied++
		if applied == 2500 {
			killed.Do(ws.kill)
		}
		return protocol.Verdict{Outcome: protocol.OutcomeApplied}
	}
	ws = newWSSite(t, site, false)
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(5000)
	c := runClient(t, dev, Config{URL: ws.url()})
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })

	if n, twice, _, _ := site.Stats(); n != 5000 || twice != 0 {
		t.Errorf("site applied %d events, %d of them twice", n, twice)
	}
	if n := dev.Verdicts(); n != 5000 {
		t.Errorf("device has %d verdicts, want 5000", n)
	}
	out := dev.Outcomes()
	if out[protocol.OutcomeDuplicate] == 0 {
		t.Errorf("no duplicate verdicts: the lost ack's events were not resent (outcomes %v)", out)
	}
	ws.mu.Lock()
	conns := ws.conns
	ws.mu.Unlock()
	if conns < 2 {
		t.Errorf("%d connections: the client did not reconnect", conns)
	}
	if st := c.State(); st.Queued != 0 {
		t.Errorf("state %+v", st)
	}
}

func TestWebsocketGarbageHarmsNoOne(t *testing.T) {
	site := fake.NewSite("site-a")
	site.Delay = time.Millisecond
	ws := newWSSite(t, site, false)
	dev := fake.NewDevice("dev-good", 1)
	dev.Write(5000)
	runClient(t, dev, Config{URL: ws.url()})

	hello := wire.Encode(1, &wire.Hello{Version: protocol.Version, Device: "junk", Epoch: 1})
	attacks := []struct {
		name  string
		write func(c *websocket.Conn) error
		codes []int
	}{
		{"random bytes", func(c *websocket.Conn) error {
			b := make([]byte, 200)
			for i := range b {
				b[i] = byte(rand.IntN(256))
			}
			return c.WriteMessage(websocket.BinaryMessage, b)
		}, []int{conn.CloseApp + int(wire.CodeVersion)}},
		{"oversized frame", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.BinaryMessage, make([]byte, 1<<20+1))
		}, []int{conn.CloseTooLarge}},
		{"text frame", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte("hello"))
		}, []int{conn.CloseApp + int(wire.CodeProtocol)}},
		{"push before hello", func(c *websocket.Conn) error {
			p := wire.PushToWire(1, 1, fake.Events("junk", 1, 1, 3))
			return c.WriteMessage(websocket.BinaryMessage, wire.Encode(1, &p))
		}, []int{conn.CloseApp + int(wire.CodeUnexpected)}},
		{"hello then unknown type", func(c *websocket.Conn) error {
			if err := c.WriteMessage(websocket.BinaryMessage, hello); err != nil {
				return err
			}
			return c.WriteMessage(websocket.BinaryMessage, []byte{'C', 'U', 1, 77, 2})
		}, []int{conn.CloseApp + int(wire.CodeUnknown)}},
		{"hello then a flood of pushes", func(c *websocket.Conn) error {
			if err := c.WriteMessage(websocket.BinaryMessage, hello); err != nil {
				return err
			}
			for i := range 10 {
				p := wire.PushToWire(1, uint64(i*10+1), fake.Events("junk", 1, uint64(i*10+1), 10))
				if err := c.WriteMessage(websocket.BinaryMessage, wire.Encode(uint64(i+2), &p)); err != nil {
					return nil // the site may close before the flood ends
				}
			}
			return nil
		}, []int{conn.CloseApp + int(wire.CodeFlow)}},
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, a := range attacks {
			wg.Go(func() {
				h := http.Header{"X-Test-Device": {fmt.Sprintf("junk-%s-%d", a.name, round)}}
				if strings.Contains(a.name, "hello") {
					h.Set("X-Test-Device", "junk")
				}
				c, _, err := websocket.DefaultDialer.Dial(ws.url(), h)
				if err != nil {
					t.Errorf("%s: dial: %v", a.name, err)
					return
				}
				defer c.Close()
				if err := a.write(c); err != nil {
					t.Errorf("%s: write: %v", a.name, err)
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						ce, ok := err.(*websocket.CloseError)
						if !ok {
							t.Errorf("%s: ended with %v, want a close code", a.name, err)
						} else if ce.Code != a.codes[0] && ce.Code != conn.CloseApp+int(wire.CodeSuperseded) {
							t.Errorf("%s: close %d, want %d", a.name, ce.Code, a.codes[0])
						}
						return
					}
				}
			})
		}
	}
	wg.Wait()
	eventually(t, "the good device's outbox is empty", func() bool { return dev.Queued() == 0 })
	if n, twice, _, _ := site.Stats(); n < 5000 || twice != 0 {
		t.Errorf("site applied %d events, %d twice", n, twice)
	}
	if n := dev.Verdicts(); n != 5000 {
		t.Errorf("good device has %d verdicts", n)
	}
	eventually(t, "only the good session is left", func() bool {
		s := ws.hub.Sessions()
		return len(s) == 1 && s[0].Device == "dev-good"
	})
}

func TestWebsocketTLS(t *testing.T) {
	site := fake.NewSite("site-a")
	ws := newWSSite(t, site, true)
	pool := x509.NewCertPool()
	pool.AddCert(ws.srv.Certificate())
	dev := fake.NewDevice("dev-1", 1)
	dev.Write(100)
	runClient(t, dev, Config{URL: ws.url(), TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}})
	eventually(t, "the outbox is empty", func() bool { return dev.Queued() == 0 })
}
