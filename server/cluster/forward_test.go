package cluster

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
)

// fakeLeader serves one connection at a time on addr the way serve
// says, and reports the bodies of the requests it read whole.
func fakeLeader(t *testing.T, addr string, serve func(c net.Conn, req *http.Request, body []byte)) <-chan []byte {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var req *http.Request
			var body []byte
			if serve != nil {
				if req, err = http.ReadRequest(bufio.NewReader(c)); err == nil {
					if body, err = io.ReadAll(req.Body); err == nil {
						got <- body
					}
				}
			}
			if serve != nil && err == nil {
				serve(c, req, body)
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return got
}

// A forwarded write is "retry" only when the leader cannot have seen it;
// once the request was sent, a lost answer is ErrAnswerLost, never a
// RetryError: the write may have been applied.
func TestForwardClassifiesLostAnswers(t *testing.T) {
	leaderHTTP := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	// One real node whose registered HTTP address is where the fake
	// leaders listen: forward resolves the leader's address from the
	// state, as on a follower.
	addr := leaderHTTP()
	log := slog.New(slog.DiscardHandler)
	n, err := Open(Config{ID: "n1", Dir: t.TempDir(), RaftAddr: leaderHTTP(), HTTPAddr: addr, Bootstrap: true, Logger: log,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	deadline := time.Now().Add(20 * time.Second)
	for {
		var rec state.Node
		_ = n.st.View(func(r *state.Reader) error { rec, err = r.Node("n1"); return err })
		if rec.HTTP == addr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node did not register its address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := []byte("a forwarded command")
	forward := func() (string, error) {
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		var out string
		err := n.forward(fctx, PathForwardPropose, body, &out)
		return out, err
	}
	answer := func(status int, text string) func(c net.Conn, _ *http.Request, _ []byte) {
		return func(c net.Conn, _ *http.Request, _ []byte) {
			resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Close: true,
				Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(text)), Body: io.NopCloser(strings.NewReader(text))}
			_ = resp.Write(c)
		}
	}

	type class int
	const (
		ok class = iota
		retryable
		answerLostClass
		either // the client cannot tell: the connection broke around the write
	)
	for _, tc := range []struct {
		name  string
		serve func(c net.Conn, req *http.Request, body []byte) // nil: close at once; no listener: refused
		none  bool
		want  class
		read  bool // the fake read the whole request
	}{
		{name: "refused", none: true, want: retryable},
		{name: "accepts, reads the request, closes", serve: func(net.Conn, *http.Request, []byte) {}, want: answerLostClass, read: true},
		{name: "answers half a response", serve: func(c net.Conn, _ *http.Request, _ []byte) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n\"par")
		}, want: answerLostClass, read: true},
		{name: "answers 200 with a body that does not decode", serve: answer(200, "{"), want: answerLostClass, read: true},
		{name: "answers busy", serve: answer(503, `{"error":"full","code":"busy","retryMs":50}`), want: retryable, read: true},
		{name: "answers", serve: answer(200, `"done"`), want: ok, read: true},
		{name: "accepts and closes at once", want: either},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got <-chan []byte
			if !tc.none {
				got = fakeLeader(t, addr, tc.serve)
			}
			out, err := forward()
			var re *RetryError
			isRetry, isLost := errors.As(err, &re), errors.Is(err, ErrAnswerLost)
			switch tc.want {
			case ok:
				if err != nil || out != "done" {
					t.Fatalf("%q, %v", out, err)
				}
			case retryable:
				if !isRetry || isLost {
					t.Fatalf("want a retry: %v", err)
				}
			case answerLostClass:
				if !isLost || isRetry || !errors.Is(err, ErrForward) {
					t.Fatalf("want an answer lost, not a retry: %v", err)
				}
			case either:
				if err == nil || isRetry == isLost || !errors.Is(err, ErrForward) {
					t.Fatalf("want a retry or an answer lost: %v", err)
				}
			}
			if tc.read {
				select {
				case b := <-got:
					if string(b) != string(body) {
						t.Fatalf("the leader read %q", b)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the fake leader read no request")
				}
			}
		})
	}
}
