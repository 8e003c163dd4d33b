package api_test

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
)

// get sends a GET with extra headers and returns the status and body.
func (c httpsClient) get(url string, hdr map[string]string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// issueViaAPI has the site sign a user certificate for a new key of
// user through node n.
func issueViaAPI(t testing.TB, adm httpsClient, n *tlsNode, user string) *certs.Leaf {
	t.Helper()
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := certs.NewCSR(key, user)
	if err != nil {
		t.Fatal(err)
	}
	code, b := adm.do("POST", n.url("/api/v1/users/"+user+"/certificate"), api.UserCertRequest{CSR: string(csr)})
	var ans api.UserCertAnswer
	if err := json.Unmarshal(b, &ans); code != 200 || err != nil {
		t.Fatalf("user certificate through %s: %d %s", n.id, code, b)
	}
	cert, err := certs.ParseCertPEM([]byte(ans.Certificate))
	if err != nil {
		t.Fatal(err)
	}
	return &certs.Leaf{Cert: cert, Key: key}
}

// TestRevokeUserCertificates: on a three-node HTTPS site, a user's
// certificate works until an admin revokes the user's certificates
// through a follower; from then on every node refuses it, directly, on
// a read a follower forwards to the leader, and on a forwarded read
// carrying it to the leader; a certificate issued afterwards works;
// putting the user again does not bring the old certificate back.
func TestRevokeUserCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three raft nodes")
	}
	s := startTLSSite(t, 3, 1000)
	var leader *tlsNode
	var followers []*tlsNode
	for _, n := range s.nodes {
		if n.node.IsLeader() {
			leader = n
		} else {
			followers = append(followers, n)
		}
	}
	if leader == nil || len(followers) != 2 {
		t.Fatal("no leader")
	}
	adm := s.client(t, "", s.userCert(t, "admin"))
	if code, b := adm.do("PUT", leader.url("/api/v1/users/op1"), map[string]any{"id": "op1", "role": "operator", "clients": []string{"*"}}); code != 200 {
		t.Fatalf("put user: %d %s", code, b)
	}
	waitUntil(t, "every node knows op1", func() bool {
		for _, n := range s.nodes {
			if err := n.node.State().View(func(r *state.Reader) error { _, err := r.User("op1"); return err }); err != nil {
				return false
			}
		}
		return true
	})
	oldLeaf := issueViaAPI(t, adm, followers[1], "op1")
	old := s.client(t, "", oldLeaf.TLSCertificate())
	oldDirect := s.client(t, "", s.userCert(t, "op1")) // signed by the CA itself, as custody-server does
	nodeCert := s.client(t, "", leader.leaf.TLSCertificate())
	forwarded := func(c *certs.Leaf) map[string]string {
		return map[string]string{cluster.HeaderForwarded: followers[0].id, api.HeaderUserCert: base64.StdEncoding.EncodeToString(c.Cert.Raw)}
	}
	for _, tc := range []struct {
		name string
		c    httpsClient
		url  string
		hdr  map[string]string
	}{
		{"directly", old, followers[0].url("/api/v1/me"), nil},
		{"a CA-signed certificate", oldDirect, leader.url("/api/v1/me"), nil},
		{"a read a follower forwards", old, followers[0].url("/api/v1/clients?consistency=leader"), nil},
		{"a forwarded read at the leader", nodeCert, leader.url("/api/v1/me"), forwarded(oldLeaf)},
	} {
		if code, b := tc.c.get(tc.url, tc.hdr); code != 200 {
			t.Fatalf("before revocation, %s: %d %s", tc.name, code, b)
		}
	}

	// Only an admin revokes, a user of the site, with a bounded reason.
	for _, tc := range []struct {
		name string
		c    httpsClient
		path string
		body any
		code int
	}{
		{"not an admin", old, "/api/v1/users/admin/revoke-certificates", nil, 403},
		{"no such user", adm, "/api/v1/users/ghost/revoke-certificates", nil, 404},
		{"a reason too long", adm, "/api/v1/users/op1/revoke-certificates", api.RevokeCertsRequest{Reason: strings.Repeat("r", 501)}, 400},
		{"not JSON", adm, "/api/v1/users/op1/revoke-certificates", []byte("{"), 400},
	} {
		if code, b := tc.c.do("POST", leader.url(tc.path), tc.body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		}
	}
	if code, b := old.get(leader.url("/api/v1/me"), nil); code != 200 {
		t.Fatalf("a refused revocation revoked: %d %s", code, b)
	}

	// The proposer stamps its clock: bring the test clock to the CA's.
	s.clock.Advance(time.Since(s.clock.Now()))
	code, b := adm.do("POST", followers[1].url("/api/v1/users/op1/revoke-certificates"), api.RevokeCertsRequest{Reason: "key lost"})
	var rec state.UserCertRevocation
	if err := json.Unmarshal(b, &rec); code != 200 || err != nil || rec.User != "op1" || rec.By != "admin" || rec.Reason != "key lost" || rec.At.IsZero() {
		t.Fatalf("revoke: %d %s", code, b)
	}
	waitUntil(t, "every node knows the revocation", func() bool {
		for _, n := range s.nodes {
			err := n.node.State().View(func(r *state.Reader) error { _, err := r.UserCertRevocation("op1"); return err })
			if err != nil {
				return false
			}
		}
		return true
	})
	refusedEverywhere := func(when string) {
		t.Helper()
		cases := []struct {
			name string
			c    httpsClient
			url  string
			hdr  map[string]string
		}{
			{"a read a follower forwards", old, followers[0].url("/api/v1/clients?consistency=leader"), nil},
			{"a forwarded read at the leader", nodeCert, leader.url("/api/v1/me"), forwarded(oldLeaf)},
			{"a CA-signed certificate", oldDirect, leader.url("/api/v1/me"), nil},
		}
		for _, n := range s.nodes {
			cases = append(cases, struct {
				name string
				c    httpsClient
				url  string
				hdr  map[string]string
			}{"directly on " + n.id, old, n.url("/api/v1/me"), nil})
		}
		for _, tc := range cases {
			code, b := tc.c.get(tc.url, tc.hdr)
			if code != 401 || !strings.Contains(b, "certificate revoked") || !strings.Contains(b, "key lost") {
				t.Errorf("%s, %s: %d %s, want 401 certificate revoked", when, tc.name, code, b)
			}
		}
	}
	refusedEverywhere("after revocation")

	// A certificate issued afterwards works, on every path; the admin's
	// own is untouched.
	fresh := issueViaAPI(t, adm, followers[0], "op1")
	now := s.client(t, "", fresh.TLSCertificate())
	acceptedEverywhere := func(when, role string) {
		t.Helper()
		for _, tc := range []struct {
			name string
			c    httpsClient
			url  string
			hdr  map[string]string
			want string
		}{
			{"directly", now, followers[1].url("/api/v1/me"), nil, `"role":"` + role + `"`},
			{"a read a follower forwards", now, followers[0].url("/api/v1/clients?consistency=leader"), nil, `"items"`},
			{"a forwarded read at the leader", nodeCert, leader.url("/api/v1/me"), forwarded(fresh), `"id":"op1"`},
			{"the admin", adm, leader.url("/api/v1/me"), nil, `"id":"admin"`},
		} {
			if code, b := tc.c.get(tc.url, tc.hdr); code != 200 || !strings.Contains(b, tc.want) {
				t.Errorf("%s, %s: %d %s, want 200 with %s", when, tc.name, code, b, tc.want)
			}
		}
	}
	acceptedEverywhere("after revocation", "operator")

	// Putting the user again keeps the revocation.
	if code, b := adm.do("PUT", followers[0].url("/api/v1/users/op1"), map[string]any{"id": "op1", "role": "lead", "clients": []string{"*"}}); code != 200 {
		t.Fatalf("put user again: %d %s", code, b)
	}
	waitUntil(t, "every node has op1 as lead", func() bool {
		for _, n := range s.nodes {
			lead := false
			_ = n.node.State().View(func(r *state.Reader) error {
				u, err := r.User("op1")
				lead = err == nil && u.Role == "lead"
				return nil
			})
			if !lead {
				return false
			}
		}
		return true
	})
	refusedEverywhere("after the user was put again")
	acceptedEverywhere("after the user was put again", "lead")
}

// TestRevokeUserCertificatesPlainHTTP: without TLS there are no user
// certificates to refuse, but the route answers the same way.
func TestRevokeUserCertificatesPlainHTTP(t *testing.T) {
	s := startSite(t, 1, 1000, false)
	adm := s.client(t, "admin", tls.Certificate{})
	code, b := adm.do("POST", s.nodes[0].url("/api/v1/users/admin/revoke-certificates"), nil)
	var rec state.UserCertRevocation
	if err := json.Unmarshal(b, &rec); code != 200 || err != nil || rec.User != "admin" {
		t.Fatalf("revoke over HTTP: %d %s", code, b)
	}
	if code, b := adm.get(s.nodes[0].url("/api/v1/me"), map[string]string{api.HeaderUser: "admin"}); code != 200 {
		t.Fatalf("admin over HTTP after revocation: %d %s", code, b)
	}
}

// BenchmarkAuthenticateTLS: GET /api/v1/me over a kept-alive HTTPS
// connection with a user certificate, for a user whose certificates
// were never revoked and for one with a revocation (of earlier
// certificates) to check.
func BenchmarkAuthenticateTLS(b *testing.B) {
	s := startTLSSite(b, 1, 1000)
	n := s.nodes[0]
	adm := s.client(b, "", s.userCert(b, "admin"))
	if code, body := adm.do("PUT", n.url("/api/v1/users/op1"), map[string]any{"id": "op1", "role": "operator", "clients": []string{"*"}}); code != 200 {
		b.Fatalf("put user: %d %s", code, body)
	}
	if code, body := adm.do("POST", n.url("/api/v1/users/op1/revoke-certificates"), nil); code != 200 {
		b.Fatalf("revoke: %d %s", code, body)
	}
	for _, user := range []string{"admin", "op1"} {
		name := map[string]string{"admin": "never-revoked", "op1": "revoked-before"}[user]
		b.Run(name, func(b *testing.B) {
			c := s.client(b, "", issueViaAPI(b, adm, n, user).TLSCertificate())
			if code, body := c.get(n.url("/api/v1/me"), nil); code != 200 {
				b.Fatalf("me: %d %s", code, body)
			}
			b.ResetTimer()
			for range b.N {
				if code, _ := c.get(n.url("/api/v1/me"), nil); code != 200 {
					b.Fatalf("me: %d", code)
				}
			}
		})
	}
}
