package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A call that meets an election is sent again once a leader is there; any
// other refusal is final at once.
func TestSrvCallRetriesWhileNoLeader(t *testing.T) {
	cases := []struct {
		name      string
		refusals  int    // answers before success
		code      string // the refusals' error code
		status    int
		wantErr   bool
		wantCalls int32
	}{
		{"an election", 2, "no_leader", http.StatusServiceUnavailable, false, 3},
		{"busy is not retried here", 1, "busy", http.StatusServiceUnavailable, true, 1},
		{"outcome unknown is never retried", 1, "outcome_unknown", http.StatusGatewayTimeout, true, 1},
		{"a bad request", 1, "bad_request", http.StatusBadRequest, true, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if int(n) <= tc.refusals {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tc.status)
					w.Write([]byte(`{"error":"x","code":"` + tc.code + `"}`))
					return
				}
				w.Write([]byte(`{"ok":true}`))
			}))
			defer srv.Close()
			e := &env{server: srv.URL}
			b, err := srvCall(context.Background(), e, http.MethodPut, "/api/v1/cluster/feed", map[string]int{"limit_refs": 1}, 10*time.Second)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !strings.Contains(string(b), "ok") {
				t.Fatalf("body %q", b)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Fatalf("%d calls, want %d", got, tc.wantCalls)
			}
		})
	}
}
