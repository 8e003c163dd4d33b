package operator

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// TestOnlineKeepsLastCount: a node whose metrics fail one time (500)
// keeps the devices count of the last read instead of "unknown", and
// the site stays up.
func TestOnlineKeepsLastCount(t *testing.T) {
	site := fakeSite(t)
	target, _ := url.Parse(site.URL)
	var fail atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && fail.Load() {
			http.Error(w, "collector failed", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	u := User{ID: "all", Role: RoleViewer, Clients: []string{"*"}}
	u.Pass.Hash = []byte{1}
	o, err := New(Config{File: File{Users: []User{u}, Sites: []Site{{ID: "s", URL: front.URL, User: "op", Clients: []string{"a"}}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.cache.Close() })
	o.poller.round(context.Background())
	if s := o.poller.snapshots()[0]; !s.Up || s.Online != 4 {
		t.Fatalf("first read: up %v online %d", s.Up, s.Online)
	}
	fail.Store(true)
	o.poller.round(context.Background())
	if s := o.poller.snapshots()[0]; !s.Up || s.Online != 4 {
		t.Fatalf("metrics failing: up %v online %d, want the last count 4", s.Up, s.Online)
	}
}
