package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/sitetest"
)

// waitReads waits until cond holds, failing the test after a minute.
func waitReads(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readErr decodes an error body's code.
func readErr(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e.Code + "/" + e.Field
}

// A new leader serves its first linearizable read only after it has
// committed an entry of its own term, and every such read sees what the
// previous leader acknowledged just before it handed over.
func TestLeaderReadAfterLeaderChange(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	for i := range 3 {
		old := site.WaitLeader(30 * time.Second)
		id := fmt.Sprintf("hand-over-%d", i)
		client{t: t, base: old.URL(), user: "admin"}.ok("PUT", "/api/v1/clients/"+id, map[string]any{"name": "Hand over"}, nil)
		if err := old.Node.TransferLeadership(context.Background(), ""); err != nil {
			t.Fatalf("transfer %d: %v", i, err)
		}
		var next *sitetest.Member
		waitReads(t, "a new leader", func() bool {
			for _, m := range site.Members {
				if m != old && m.Node.IsLeader() {
					next = m
					return true
				}
			}
			return false
		})
		c := client{t: t, base: next.URL(), user: "admin"}
		if code, _, b := c.do("GET", "/api/v1/clients/"+id+"?consistency=leader", nil); code != http.StatusOK {
			t.Fatalf("round %d: the new leader's linearizable read of %s: %d %s", i, id, code, b)
		}
		self, err := next.Node.SelfStatus(false)
		if err != nil {
			t.Fatal(err)
		}
		if term := next.Node.Raft().CurrentTerm(); self.ReadTerm != term {
			t.Fatalf("round %d: the new leader served a linearizable read in term %d having committed its own entry in term %d", i, term, self.ReadTerm)
		}
	}
}

// A leader cut off from the others keeps believing it leads until its
// lease runs out; meanwhile the others elect a leader and take a write.
// The deposed leader must not answer a linearizable read with the state
// from before that write: it refuses (503) until it is back in the
// cluster, then answers with the write.
func TestDeposedLeaderServesNoStaleRead(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3, NetCut: true,
		Configure: func(id string, c *cluster.Config) {
			if id == "n1" {
				// A long lease: n1 still believes it leads well after
				// the others elected a new leader.
				c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 5*time.Second, 5*time.Second, 5*time.Second
			}
		}})
	old := site.WaitLeader(30 * time.Second)
	if old.ID != "n1" {
		t.Fatalf("leader %s, want n1", old.ID)
	}
	oc := client{t: t, base: old.URL(), user: "admin"}
	oc.ok("PUT", "/api/v1/clients/before", map[string]any{"name": "Before"}, nil)
	// A linearizable read in n1's term: n1 has committed its own entry
	// (the barrier), so the refusal below comes from confirming the
	// leadership with a quorum, not from a first barrier.
	oc.ok("GET", "/api/v1/clients/before?consistency=leader", nil, nil)

	old.Isolate()
	var next *sitetest.Member
	waitReads(t, "the others to elect a leader", func() bool {
		for _, m := range site.Members {
			if m != old && m.Node.IsLeader() {
				next = m
				return true
			}
		}
		return false
	})
	client{t: t, base: next.URL(), user: "admin"}.ok("PUT", "/api/v1/clients/after", map[string]any{"name": "After"}, nil)
	stillLeads := old.Node.IsLeader()
	code, h, b := oc.do("GET", "/api/v1/clients/after?consistency=leader", nil)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("deposed leader (believing it leads: %v) answered a linearizable read with %d %s, want 503 with Retry-After", stillLeads, code, b)
	}
	t.Logf("the deposed leader refused (it believed it led when asked: %v): %s", stillLeads, b)

	// Stepped down, cut off: no leader known, so a bounded local read
	// is refused too.
	waitReads(t, "the deposed leader to step down", func() bool { return !old.Node.IsLeader() })
	if code, _, b := oc.do("GET", "/api/v1/clients?freshness=30s", nil); code != http.StatusServiceUnavailable || readErr(t, b) != "stale/" {
		t.Fatalf("cut-off node answered a read bounded to 30s with %d %s, want 503 stale", code, b)
	}

	old.Heal()
	site.WaitMembers(3, time.Minute)
	site.WaitConverged(time.Minute)
	if code, _, b := oc.do("GET", "/api/v1/clients/after?consistency=leader", nil); code != http.StatusOK {
		t.Fatalf("back in the cluster: linearizable read %d %s", code, b)
	}
	if code, _, b := oc.do("GET", "/api/v1/clients/after?freshness=30s", nil); code != http.StatusOK {
		t.Fatalf("back in the cluster: bounded local read %d %s", code, b)
	}
}

// freshness=DURATION bounds how far a local read may trail the leader.
func TestReadFreshness(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(30 * time.Second)
	f := site.Follower()
	lc := client{t: t, base: leader.URL(), user: "admin"}
	fc := client{t: t, base: f.URL(), user: "admin"}
	lc.ok("PUT", "/api/v1/clients/fresh", map[string]any{"name": "Fresh"}, nil)
	site.WaitConverged(time.Minute)

	for _, tc := range []struct {
		name string
		c    client
		path string
		code int
		err  string // code/field of an error
	}{
		{"follower, within an hour", fc, "/api/v1/clients/fresh?freshness=1h", http.StatusOK, ""},
		{"follower, within a nanosecond", fc, "/api/v1/clients/fresh?freshness=1ns", http.StatusServiceUnavailable, "stale/"},
		{"leader, within a nanosecond", lc, "/api/v1/clients/fresh?freshness=1ns", http.StatusOK, ""},
		{"not a duration", fc, "/api/v1/clients/fresh?freshness=soon", http.StatusBadRequest, "bad_request/freshness"},
		{"zero", fc, "/api/v1/clients/fresh?freshness=0s", http.StatusBadRequest, "bad_request/freshness"},
		{"negative", fc, "/api/v1/clients/fresh?freshness=-1s", http.StatusBadRequest, "bad_request/freshness"},
		{"with a leader read", fc, "/api/v1/clients/fresh?consistency=leader&freshness=1s", http.StatusBadRequest, "bad_request/freshness"},
		{"no bound", fc, "/api/v1/clients/fresh", http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, b := tc.c.do("GET", tc.path, nil)
			if code != tc.code {
				t.Fatalf("%d %s, want %d", code, b, tc.code)
			}
			if tc.err != "" && readErr(t, b) != tc.err {
				t.Fatalf("error %s, want %s", b, tc.err)
			}
			if code == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}

	// Alone, the follower knows no leader: even an hour's bound is
	// refused, while an unbounded local read still answers.
	for _, m := range site.Members {
		if m != f {
			site.Kill(m)
		}
	}
	waitReads(t, "the follower to know no leader", func() bool { _, id := f.Node.Raft().LeaderWithID(); return id == "" })
	if code, _, b := fc.do("GET", "/api/v1/clients/fresh?freshness=1h", nil); code != http.StatusServiceUnavailable || readErr(t, b) != "stale/" {
		t.Fatalf("leaderless node, bound of an hour: %d %s, want 503 stale", code, b)
	}
	if code, _, b := fc.do("GET", "/api/v1/clients/fresh", nil); code != http.StatusOK {
		t.Fatalf("leaderless node, unbounded local read: %d %s", code, b)
	}
}
