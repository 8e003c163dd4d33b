package conn

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// pair returns two connected ends: in memory, or a real websocket over
// TCP on 127.0.0.1 (server end first).
type pairFunc func(t *testing.T, limit int) (server, client Conn)

func pipePair(t *testing.T, limit int) (Conn, Conn) {
	dev, site := Pipe(limit, 4, Peer{Device: "dev-1", Addr: "device"}, Peer{Addr: "site"})
	return site, dev
}

func wsPair(t *testing.T, limit int) (Conn, Conn) {
	got := make(chan Conn, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		got <- WebSocket(ws, Peer{Device: "dev-1"}, Options{ReadLimit: int64(limit)})
	}))
	t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := WebSocket(ws, Peer{}, Options{ReadLimit: int64(limit)})
	s := <-got
	t.Cleanup(func() { c.Close(CloseNormal, ""); s.Close(CloseNormal, "") })
	return s, c
}

func TestConn(t *testing.T) {
	for _, tr := range []struct {
		name string
		pair pairFunc
	}{{"pipe", pipePair}, {"websocket", wsPair}} {
		t.Run(tr.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			t.Run("messages both ways", func(t *testing.T) {
				s, c := tr.pair(t, 1024)
				for i := range 5 {
					msg := bytes.Repeat([]byte{byte(i)}, i*100+1)
					if err := c.WriteMessage(ctx, msg); err != nil {
						t.Fatal(err)
					}
					got, err := s.ReadMessage(ctx)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(msg))
					}
					if err := s.WriteMessage(ctx, msg[:1]); err != nil {
						t.Fatal(err)
					}
					if got, err := c.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg[:1]) {
						t.Fatalf("reply %v, %v", got, err)
					}
				}
				if s.Peer().Device != "dev-1" {
					t.Errorf("server peer %+v", s.Peer())
				}
			})

			t.Run("over the read limit closes with 1009", func(t *testing.T) {
				s, c := tr.pair(t, 1024)
				if err := c.WriteMessage(ctx, make([]byte, 1025)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.ReadMessage(ctx); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("server read: %v, want ErrTooLarge", err)
				}
				var ce *CloseError
				if _, err := c.ReadMessage(ctx); !errors.As(err, &ce) || ce.Code != CloseTooLarge {
					t.Fatalf("client read: %v, want close 1009", err)
				}
			})

			t.Run("close code reaches the peer", func(t *testing.T) {
				s, c := tr.pair(t, 1024)
				if err := s.Close(CloseApp+7, "flow control"); err != nil {
					t.Fatal(err)
				}
				var ce *CloseError
				if _, err := c.ReadMessage(ctx); !errors.As(err, &ce) || ce.Code != CloseApp+7 || ce.Reason != "flow control" {
					t.Fatalf("client read: %v, want close 4007 flow control", err)
				}
				if _, err := s.ReadMessage(ctx); !errors.Is(err, ErrClosed) {
					t.Errorf("read after own close: %v, want ErrClosed", err)
				}
				if err := s.WriteMessage(ctx, []byte{1}); err == nil {
					t.Errorf("write after close succeeded")
				}
			})

			t.Run("ctx ends a blocked read", func(t *testing.T) {
				s, _ := tr.pair(t, 1024)
				rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer rcancel()
				if _, err := s.ReadMessage(rctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("read: %v, want deadline exceeded", err)
				}
			})
		})
	}
}

func TestPipeDeliversBeforeClose(t *testing.T) {
	a, b := Pipe(0, 4, Peer{}, Peer{})
	ctx := context.Background()
	_ = a.WriteMessage(ctx, []byte("last words"))
	_ = a.Close(CloseApp+3, "too large")
	got, err := b.ReadMessage(ctx)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read %q, %v", got, err)
	}
	var ce *CloseError
	if _, err := b.ReadMessage(ctx); !errors.As(err, &ce) || ce.Code != CloseApp+3 {
		t.Fatalf("then %v, want the close", err)
	}
}

func TestWebSocketRefusesText(t *testing.T) {
	srvGot := make(chan error, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := WebSocket(raw, Peer{}, Options{})
		_, err = c.ReadMessage(context.Background())
		srvGot <- err
	}))
	defer srv.Close()
	cl, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_ = cl.WriteMessage(websocket.TextMessage, []byte("hello"))
	if err := <-srvGot; !errors.Is(err, ErrNotBinary) {
		t.Fatalf("server read %v, want ErrNotBinary", err)
	}
}

func TestCloseCodeFromText(t *testing.T) {
	code, reason, ok := closeCode(errors.New("websocket: close 4006 (unknown): identity"))
	if !ok || code != 4006 || reason != "identity" {
		t.Errorf("got %d %q %v", code, reason, ok)
	}
	if _, _, ok := closeCode(errors.New("EOF")); ok {
		t.Errorf("EOF parsed as a close")
	}
}
