package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// FuzzSessionFrame sends a welcomed session one arbitrary frame. Whatever
// it is, the session must not panic, must answer or close within its
// own limits, and must apply nothing that is not a valid push.
func FuzzSessionFrame(f *testing.F) {
	for _, m := range []wire.Message{
		pushOf("dev-1", 1, 1, 3),
		pushOf("dev-1", 1, 4, 1),
		pushOf("dev-2", 1, 1, 1),
		&wire.Sub{Cursor: wire.Cursor{Cluster: "site-a", Epoch: 1, Index: 0}},
		&wire.Ping{Clock: 1},
		&wire.Welcome{},
		&wire.Error{Code: 1, Text: "x"},
	} {
		f.Add(wire.Encode(2, m))
	}
	f.Add([]byte("CU\x01\x63\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		site := fake.NewSite("site-a")
		dev, srv := conn.Pipe(1<<20, 16, conn.Peer{Device: "dev-1"}, conn.Peer{})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- New(srv, site, Config{IdleTimeout: time.Second}).Serve(ctx) }()
		_ = dev.WriteMessage(ctx, wire.Encode(1, &wire.Hello{Version: protocol.Version, Device: "dev-1", Epoch: 1}))
		if _, err := dev.ReadMessage(ctx); err != nil {
			t.Fatalf("no WELCOME: %v", err)
		}
		_ = dev.WriteMessage(ctx, data)
		// Read the answer (if any) or the close.
		rctx, rcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		b, err := dev.ReadMessage(rctx)
		rcancel()
		if err == nil {
			if _, derr := wire.Decode(b); derr != nil {
				t.Fatalf("the session sent an undecodable frame: %v", derr)
			}
		}
		var ce *conn.CloseError
		if err != nil && !errors.As(err, &ce) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read: %v", err)
		}
		_ = dev.Close(conn.CloseNormal, "")
		<-done
		applied, _, _, _ := site.Stats()
		if applied > 0 {
			fr, derr := wire.Decode(data)
			if derr != nil {
				t.Fatalf("applied %d events from an undecodable frame", applied)
			}
			if p, ok := fr.Msg.(*wire.Push); !ok || p.Epoch != 1 {
				t.Fatalf("applied %d events from a %s", applied, fr.Msg.Type())
			}
		}
	})
}
