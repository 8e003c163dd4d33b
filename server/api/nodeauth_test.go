package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/sitetest"
)

// Without --tls and --cluster-secret the node-to-node routes answer
// only callers on the node's own host. Fiber's in-memory connection
// comes from 0.0.0.0, an address that is not loopback.
func TestNodeRoutesWithoutCredentialsAnswerOnlyLoopback(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	m := site.Members[0]
	join, _ := json.Marshal(cluster.JoinRequest{ID: "ghost", Raft: sitetest.FreeAddr(t), HTTP: sitetest.FreeAddr(t)})
	for _, tc := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", cluster.PathJoin, join},
		{"GET", cluster.PathSelf, nil},
		{"POST", cluster.PathForwardPropose, []byte{1, 2}},
		{"POST", cluster.PathForwardEvents, []byte{0}},
	} {
		req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := m.API.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "only from this host") {
			t.Errorf("%s %s from another host: %d %s", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	// From loopback they answer.
	resp, err := http.Get(m.URL() + cluster.PathSelf)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("self from loopback: %d", resp.StatusCode)
	}
}

// With a cluster secret the secret admits a node from any host.
func TestClusterSecretAdmitsFromAnyHost(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	site := sitetest.Start(t, sitetest.Options{ClusterSecret: secret})
	for _, s := range []string{"", secret} {
		req := httptest.NewRequest("GET", cluster.PathSelf, nil)
		if s != "" {
			req.Header.Set(cluster.HeaderSecret, s)
		}
		resp, err := site.Members[0].API.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[s != ""]; resp.StatusCode != want {
			t.Errorf("secret %q: %d, want %d", s, resp.StatusCode, want)
		}
	}
}

// A join naming a node that is not there adds no voter: the one-node
// site keeps its leader and takes writes. A join whose HTTP address
// answers as another node is refused outright.
func TestBogusJoinCannotTakeTheQuorum(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	m := site.Members[0]
	adm := client{t: t, base: m.URL(), user: "admin"}
	for _, tc := range []struct {
		name string
		join cluster.JoinRequest
		code int
	}{
		{"nothing on either address", cluster.JoinRequest{ID: "ghost", Raft: sitetest.FreeAddr(t), HTTP: sitetest.FreeAddr(t)}, http.StatusServiceUnavailable},
		{"nothing on the raft address", cluster.JoinRequest{ID: "ghost", Raft: sitetest.FreeAddr(t)}, http.StatusServiceUnavailable},
		{"another node's API", cluster.JoinRequest{ID: "ghost", Raft: sitetest.FreeAddr(t), HTTP: m.HTTP}, http.StatusBadRequest},
	} {
		code, _, b := client{t: t, base: m.URL()}.do("POST", cluster.PathJoin, tc.join)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		}
	}
	f := m.Node.Raft().GetConfiguration()
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	if servers := f.Configuration().Servers; len(servers) != 1 || servers[0].ID != raft.ServerID(m.ID) {
		t.Fatalf("voters after the bogus joins: %+v", servers)
	}
	adm.ok("PUT", "/api/v1/site", map[string]any{"id": "site", "name": "still here"}, nil)
	if !m.Node.IsLeader() {
		t.Fatal("the node lost its leadership")
	}
}

// A join sent to a follower is passed to the leader with the cluster
// secret, so the leader judges the join itself (here: nothing answers
// at the addresses) rather than refusing the follower.
func TestJoinThroughAFollowerCarriesTheSecret(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	site := sitetest.Start(t, sitetest.Options{Nodes: 2, ClusterSecret: secret})
	f := site.Follower()
	body, _ := json.Marshal(cluster.JoinRequest{ID: "ghost", Raft: sitetest.FreeAddr(t), HTTP: sitetest.FreeAddr(t)})
	req, err := http.NewRequest("POST", f.URL()+cluster.PathJoin, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(cluster.HeaderSecret, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "join_unanswered") {
		t.Fatalf("join through the follower: %d %s", resp.StatusCode, b)
	}
}
