package conn

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// recordingWS is a websocket at the protocol seam that counts calls made
// after the adapter released it: each one would touch a connection its
// library had already taken back.
type recordingWS struct {
	released atomic.Bool
	late     atomic.Int32
}

func (w *recordingWS) touch() {
	if w.released.Load() {
		w.late.Add(1)
	}
}
func (w *recordingWS) ReadMessage() (int, []byte, error) { w.touch(); return 0, nil, net.ErrClosed }
func (w *recordingWS) WriteMessage(int, []byte) error    { w.touch(); return nil }
func (w *recordingWS) WriteControl(int, []byte, time.Time) error {
	w.touch()
	return nil
}
func (w *recordingWS) SetReadDeadline(time.Time) error  { w.touch(); return nil }
func (w *recordingWS) SetWriteDeadline(time.Time) error { w.touch(); return nil }
func (w *recordingWS) SetReadLimit(int64)               {}
func (w *recordingWS) Close() error {
	w.touch()
	w.released.Store(true)
	return nil
}
func (w *recordingWS) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }

func TestReleaseStopsScheduledCalls(t *testing.T) {
	ws := &recordingWS{}
	c := WebSocket(ws, Peer{}, Options{CloseGrace: 20 * time.Millisecond})
	// A close schedules the final close after the grace period; a
	// cancelled context schedules a deadline. Release comes first.
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Close(CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	c.Release()
	cancel()
	if _, err := c.ReadMessage(ctx); err == nil {
		t.Fatal("read after release succeeded")
	}
	if err := c.WriteMessage(context.Background(), []byte{1}); err == nil {
		t.Fatal("write after release succeeded")
	}
	time.Sleep(60 * time.Millisecond) // past the close grace
	if n := ws.late.Load(); n != 0 {
		t.Fatalf("%d calls reached the websocket after release", n)
	}
	if !ws.released.Load() {
		t.Fatal("release did not close the websocket")
	}
	c.Release() // twice is harmless
}
