package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
)

// testClock is the time every node of a TLS test site stamps tokens
// with, moved by the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tlsNode is one node of a site whose API is served over HTTPS.
type tlsNode struct {
	id    string
	http  string
	node  *cluster.Node
	leaf  *certs.Leaf
	plain bool // served over plain HTTP (benchmark comparison)
}

type tlsSite struct {
	ca    *certs.CA
	clock *testClock
	nodes []*tlsNode
}

func freeTCP(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startTLSSite starts n nodes with the API on HTTPS and device
// enrollment; the first bootstraps, the others join it over HTTPS with
// their node certificates (no cluster secret).
func startTLSSite(t testing.TB, n int, enrollRate int) *tlsSite {
	return startSite(t, n, enrollRate, true)
}

// startSite starts n nodes, with TLS as startTLSSite or, without,
// over plain HTTP (for comparison).
func startSite(t testing.TB, n int, enrollRate int, withTLS bool) *tlsSite {
	t.Helper()
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "tls-site"})
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsSite{ca: ca, clock: &testClock{t: time.Now().UTC()}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	root := t.TempDir()
	for i := range n {
		id := fmt.Sprintf("n%d", i+1)
		leaf, err := ca.IssueNode(id, []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tn := &tlsNode{id: id, http: ln.Addr().String(), leaf: leaf}
		clientTLS := certs.ClientTLS(ca.Cert(), leaf.TLSCertificate(), "")
		cfg := cluster.Config{ID: id, Dir: filepath.Join(root, id), RaftAddr: freeTCP(t), HTTPAddr: tn.http, Bootstrap: i == 0,
			HTTPClientTLS: clientTLS, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond}
		if i > 0 {
			cfg.Join = s.nodes[0].url("")
		}
		if !withTLS {
			cfg.HTTPClientTLS, tn.plain = nil, true
		}
		node, err := cluster.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tn.node = node
		revs := syncsite.NewRevocations(node.State(), log)
		acfg := api.Config{Node: node, Logger: log, CA: ca, Now: s.clock.Now, EnrollRate: enrollRate,
			TLS:      certs.ServerTLS(ca.Cert(), leaf.TLSCertificate(), nil, certs.AllowNoClientCert()),
			Verifier: certs.NewVerifier(ca.Cert(), revs, nil), NodeClientTLS: clientTLS}
		if !withTLS {
			acfg.TLS, acfg.Verifier, acfg.NodeClientTLS = nil, nil, nil
		}
		srv := api.New(acfg)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = node.Serve(ctx) })
		wg.Go(func() { _ = srv.ServeListener(ctx, ln) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		s.nodes = append(s.nodes, tn)
		if i == 0 {
			waitUntil(t, "the first node leads", func() bool { return node.IsLeader() })
		}
	}
	waitUntil(t, "every node a member, registered, with the admin user", func() bool {
		for _, tn := range s.nodes {
			ok := false
			_ = tn.node.State().View(func(r *state.Reader) error {
				nodes, _ := r.Nodes()
				_, err := r.User("admin")
				ok = len(nodes) == n && err == nil
				return nil
			})
			if !ok {
				return false
			}
		}
		return true
	})
	return s
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpsClient talks to the site over HTTPS, trusting its CA, with cert
// as client certificate (none when zero).
type httpsClient struct {
	t    testing.TB
	hc   *http.Client
	user string
}

func (s *tlsSite) client(t testing.TB, user string, cert tls.Certificate) httpsClient {
	tr := &http.Transport{TLSClientConfig: certs.ClientTLS(s.ca.Cert(), cert, "")}
	t.Cleanup(tr.CloseIdleConnections)
	return httpsClient{t: t, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, user: user}
}

func (c httpsClient) do(method, url string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.Header.Set(api.HeaderUser, c.user)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// userCert is a user certificate of the site's CA for user.
func (s *tlsSite) userCert(t testing.TB, user string) tls.Certificate {
	t.Helper()
	leaf, err := s.ca.IssueUser(user, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return leaf.TLSCertificate()
}

func (n *tlsNode) url(path string) string {
	if n.plain {
		return "http://" + n.http + path
	}
	return "https://" + n.http + path
}

func (c httpsClient) mint(n *tlsNode, label, ttl string) api.TokenAnswer {
	c.t.Helper()
	code, b := c.do("POST", n.url("/api/v1/devices/tokens"), api.TokenRequest{Label: label, TTL: ttl})
	if code != http.StatusOK {
		c.t.Fatalf("mint token on %s: %d %s", n.id, code, b)
	}
	var tok api.TokenAnswer
	if err := json.Unmarshal(b, &tok); err != nil || tok.Token == "" {
		c.t.Fatalf("token answer %s: %v", b, err)
	}
	return tok
}

func newCSR(t testing.TB) ([]byte, *certs.Leaf, certs.DeviceID) {
	t.Helper()
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, id, err := certs.NewDeviceCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	return csr, &certs.Leaf{Key: key}, id
}

func errCode(b []byte) string {
	var eb struct{ Code, Error string }
	_ = json.Unmarshal(b, &eb)
	return eb.Code + ": " + eb.Error
}

// TestEnrollmentInATLSCluster: on a three-node site whose API and
// node-to-node traffic run over HTTPS (nodes joined and forward with
// their certificates), a token minted through one follower enrolls a
// handheld through another, exactly once; a bad CSR does not burn the
// token; expiry follows the proposer's clock; a revoked device can
// neither enroll again nor pass the verifier on any node.
func TestEnrollmentInATLSCluster(t *testing.T) {
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
	adm := s.client(t, "admin", s.userCert(t, "admin"))
	anon := s.client(t, "", tls.Certificate{})

	// The CA certificate is public.
	code, pemCA := anon.do("GET", followers[1].url("/api/v1/ca"), nil)
	if caCert, err := certs.ParseCertPEM(pemCA); code != 200 || err != nil || certs.Fingerprint(caCert) != certs.Fingerprint(s.ca.Cert()) {
		t.Fatalf("CA: %d %v", code, err)
	}

	tok := adm.mint(followers[0], "goods-in 1", "1h")
	if tok.CAFingerprint != certs.Fingerprint(s.ca.Cert()) || tok.Label != "goods-in 1" {
		t.Fatalf("token answer %+v", tok)
	}
	// A CSR that is no CSR is refused before the token is spent.
	if code, b := anon.do("POST", followers[1].url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: "not a CSR"}); code != 400 {
		t.Fatalf("bad CSR: %d %s", code, b)
	}
	csr, leaf, id := newCSR(t)
	code, b := anon.do("POST", followers[1].url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: string(csr)})
	if code != 200 {
		t.Fatalf("enroll: %d %s", code, b)
	}
	var ans api.EnrollAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	got, caCert, err := certs.AcceptEnrollment(leaf.Key, []byte(ans.Certificate), []byte(ans.CA), tok.CAFingerprint, nil)
	if err != nil || ans.Device != id.String() || certs.Fingerprint(caCert) != tok.CAFingerprint {
		t.Fatalf("enrollment answer for %s: %+v, %v", id, ans.Device, err)
	}

	// Another key with the same token, through any node: refused. The
	// same key again (its answer lost): a certificate for the same id.
	other, _, _ := newCSR(t)
	for _, n := range s.nodes {
		if code, b := anon.do("POST", n.url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: string(other)}); code != 403 || !strings.Contains(string(b), "already used") {
			t.Fatalf("reused token on %s: %d %s", n.id, code, b)
		}
	}
	if code, b := anon.do("POST", leader.url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: string(csr)}); code != 200 {
		t.Fatalf("the same key again: %d %s", code, b)
	}

	// Expiry is judged by the time the proposer stamps.
	short := adm.mint(leader, "short", "1m")
	s.clock.Advance(2 * time.Minute)
	if code, b := anon.do("POST", followers[0].url("/api/v1/enroll"), api.EnrollRequest{Token: short.Token, CSR: string(other)}); code != 403 || !strings.Contains(string(b), "expired") {
		t.Fatalf("expired token: %d %s", code, b)
	}
	// Unknown and malformed tokens, a body over the limit.
	unknown := strings.Repeat("A", 52)
	for _, tc := range []struct {
		body any
		want int
	}{
		{api.EnrollRequest{Token: unknown, CSR: string(other)}, 403},
		{api.EnrollRequest{Token: "x", CSR: string(other)}, 400},
		{api.EnrollRequest{Token: tok.Token}, 400},
		{[]byte(`{"token":"` + strings.Repeat("A", api.MaxEnrollBody) + `"}`), 413},
	} {
		if code, b := anon.do("POST", followers[1].url("/api/v1/enroll"), tc.body); code != tc.want {
			t.Errorf("enroll: %d %s, want %d", code, b, tc.want)
		}
	}
	// Tokens are an admin's business.
	if code, _ := s.client(t, "", s.userCert(t, "nobody")).do("POST", leader.url("/api/v1/devices/tokens"), api.TokenRequest{Label: "x"}); code != 401 {
		t.Fatalf("token for an unknown user: %d", code)
	}
	var toks struct{ Items []state.EnrollToken }
	code, b = adm.do("GET", followers[1].url("/api/v1/devices/tokens?consistency=leader"), nil)
	if err := json.Unmarshal(b, &toks); code != 200 || err != nil || len(toks.Items) != 2 {
		t.Fatalf("tokens through a follower, leader-consistent: %d %s", code, b)
	}
	for _, tk := range toks.Items {
		if strings.Contains(string(b), tok.Token) || (tk.Label == "goods-in 1" && tk.Device != id.String()) {
			t.Fatalf("token list %s", b)
		}
	}

	// Revocation through a follower reaches every node's verifier.
	code, b = adm.do("POST", followers[0].url("/api/v1/devices/"+id.String()+"/revoke"), api.RevokeRequest{Reason: "lost"})
	if code != 200 || !strings.Contains(string(b), `"reason":"lost"`) {
		t.Fatalf("revoke: %d %s", code, b)
	}
	waitUntil(t, "every node knows the revocation", func() bool {
		for _, n := range s.nodes {
			if !syncsite.NewRevocations(n.node.State(), nil).IsDeviceRevoked(id) {
				return false
			}
		}
		return true
	})
	if _, err := certs.NewVerifier(s.ca.Cert(), syncsite.NewRevocations(followers[1].node.State(), nil), nil).Verify(got.Cert, certs.KindDevice); err == nil {
		t.Fatal("a revoked device passes the verifier")
	}
	fresh := adm.mint(leader, "after revocation", "")
	if code, b := anon.do("POST", followers[1].url("/api/v1/enroll"), api.EnrollRequest{Token: fresh.Token, CSR: string(csr)}); code != 403 || !strings.Contains(string(b), "revoked") {
		t.Fatalf("revoked device enrolls again: %d %s", code, b)
	}
	if code, b := adm.do("POST", leader.url("/api/v1/devices/not-an-id/revoke"), nil); code != 400 {
		t.Fatalf("revoke a malformed id: %d %s", code, b)
	}
	code, b = adm.do("GET", followers[1].url("/api/v1/devices/revoked"), nil)
	if code != 200 || !strings.Contains(string(b), id.String()) {
		t.Fatalf("revoked list: %d %s", code, b)
	}
}

// TestNodeRoutesOverTLS: with TLS and no cluster secret the node-to-node
// routes admit a node certificate of the site and nothing else.
func TestNodeRoutesOverTLS(t *testing.T) {
	s := startTLSSite(t, 1, 1000)
	n := s.nodes[0]
	other, err := certs.NewCA(certs.CAConfig{SiteName: "tls-site"})
	if err != nil {
		t.Fatal(err)
	}
	strangerNode, err := other.IssueNode("n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	dev, _, err := s.ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	strangerCert := strangerNode.TLSCertificate()
	pushy := s.client(t, "", tls.Certificate{})
	pushy.hc.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &strangerCert, nil
	}
	for _, tc := range []struct {
		name string
		c    httpsClient
		want int
	}{
		{"node certificate", s.client(t, "", n.leaf.TLSCertificate()), 200},
		{"no certificate", s.client(t, "", tls.Certificate{}), 401},
		{"device certificate", s.client(t, "", dev.TLSCertificate()), 401},
	} {
		if code, b := tc.c.do("GET", n.url(cluster.PathSelf), nil); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.want)
		}
	}
	// A node certificate of another CA does not get through the handshake.
	req, _ := http.NewRequest("GET", n.url(cluster.PathSelf), nil)
	if resp, err := pushy.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("another CA's node certificate: %d", resp.StatusCode)
	}
}

// TestEnrollRateLimit: one address gets EnrollRate enrollment answers a
// minute, then 429.
func TestEnrollRateLimit(t *testing.T) {
	s := startTLSSite(t, 1, 3)
	anon := s.client(t, "", tls.Certificate{})
	var codes []int
	for range 4 {
		code, _ := anon.do("POST", s.nodes[0].url("/api/v1/enroll"), api.EnrollRequest{Token: "x", CSR: "y"})
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[400 400 400 429]" {
		t.Fatalf("answers %v", codes)
	}
}

// TestEnrollNeedsHTTPS: a token is never accepted over plain HTTP.
func TestEnrollNeedsHTTPS(t *testing.T) {
	s := startSite(t, 1, 1000, false)
	csr, _, _ := newCSR(t)
	tok := s.client(t, "admin", tls.Certificate{}).mint(s.nodes[0], "plain", "")
	code, b := s.client(t, "", tls.Certificate{}).do("POST", s.nodes[0].url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: string(csr)})
	if code != 400 || !strings.Contains(string(b), "HTTPS") {
		t.Fatalf("enroll over HTTP: %d %s", code, b)
	}
}

// TestUserAuthOverTLS: over HTTPS a user is the one its certificate
// names. The header alone, a header that contradicts the certificate, a
// certificate of another kind or of a user the site does not know are
// refused; a node certificate speaks for a user only on a forwarded
// request. An admin has a certificate signed for another user's CSR.
func TestUserAuthOverTLS(t *testing.T) {
	s := startTLSSite(t, 1, 1000)
	n := s.nodes[0]
	dev, _, err := s.ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	adminDER := base64.StdEncoding.EncodeToString(s.userCert(t, "admin").Certificate[0])
	me := func(c httpsClient, hdr map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", n.url("/api/v1/me"), nil)
		if c.user != "" {
			req.Header.Set(api.HeaderUser, c.user)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name string
		c    httpsClient
		hdr  map[string]string
		code int
		want string
	}{
		{"the header alone", s.client(t, "admin", tls.Certificate{}), nil, 401, "user certificate"},
		{"no header, no certificate", s.client(t, "", tls.Certificate{}), nil, 401, "user certificate"},
		{"the admin's certificate", s.client(t, "", s.userCert(t, "admin")), nil, 200, `"id":"admin"`},
		{"certificate and the same header", s.client(t, "admin", s.userCert(t, "admin")), nil, 200, `"id":"admin"`},
		{"a header that contradicts the certificate", s.client(t, "admin", s.userCert(t, "op1")), nil, 403, `names \"admin\"`},
		{"a certificate of an unknown user", s.client(t, "", s.userCert(t, "ghost")), nil, 401, "ghost"},
		{"a device certificate", s.client(t, "admin", dev.TLSCertificate()), nil, 401, "refused"},
		{"a node certificate, not forwarded", s.client(t, "admin", n.leaf.TLSCertificate()), nil, 401, "not a user"},
		{"a node certificate, forwarded, without the user's certificate", s.client(t, "admin", n.leaf.TLSCertificate()),
			map[string]string{cluster.HeaderForwarded: "n2"}, 401, api.HeaderUserCert},
		{"a node certificate, forwarded, with the user's certificate", s.client(t, "", n.leaf.TLSCertificate()),
			map[string]string{cluster.HeaderForwarded: "n2", api.HeaderUserCert: adminDER}, 200, `"id":"admin"`},
		{"a node certificate, forwarded, with a device certificate", s.client(t, "", n.leaf.TLSCertificate()),
			map[string]string{cluster.HeaderForwarded: "n2", api.HeaderUserCert: base64.StdEncoding.EncodeToString(dev.Cert.Raw)}, 401, "refused"},
	} {
		if code, b := me(tc.c, tc.hdr); code != tc.code || !strings.Contains(b, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, b, tc.code, tc.want)
		}
	}

	// A node certificate never writes as a user, forwarded or not.
	req, _ := http.NewRequest("POST", n.url("/api/v1/users/admin/certificate"), strings.NewReader(`{"csr":"x"}`))
	req.Header.Set(cluster.HeaderForwarded, "n2")
	req.Header.Set(api.HeaderUser, "admin")
	req.Header.Set(api.HeaderUserCert, adminDER)
	if resp, err := s.client(t, "", n.leaf.TLSCertificate()).hc.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 401 {
		t.Errorf("a forwarded POST with a node certificate: %d, want 401", resp.StatusCode)
	}

	// An admin signs a certificate for a user's own key.
	adm := s.client(t, "", s.userCert(t, "admin"))
	if code, b := adm.do("PUT", n.url("/api/v1/users/op1"), map[string]any{"id": "op1", "name": "Op One", "role": "operator", "clients": []string{"*"}}); code != 200 {
		t.Fatalf("put user: %d %s", code, b)
	}
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := certs.NewCSR(key, "whoever")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    httpsClient
		path string
		body any
		code int
	}{
		{"not a CSR", adm, "/api/v1/users/op1/certificate", api.UserCertRequest{CSR: "x"}, 400},
		{"no such user", adm, "/api/v1/users/ghost/certificate", api.UserCertRequest{CSR: string(csr)}, 404},
		{"not an admin", s.client(t, "", s.userCert(t, "op1")), "/api/v1/users/op1/certificate", api.UserCertRequest{CSR: string(csr)}, 403},
	} {
		if code, b := tc.c.do("POST", n.url(tc.path), tc.body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		}
	}
	code, b := adm.do("POST", n.url("/api/v1/users/op1/certificate"), api.UserCertRequest{CSR: string(csr)})
	var ans api.UserCertAnswer
	if err := json.Unmarshal(b, &ans); code != 200 || err != nil || ans.User != "op1" {
		t.Fatalf("user certificate: %d %s", code, b)
	}
	cert, err := certs.ParseCertPEM([]byte(ans.Certificate))
	if err != nil {
		t.Fatal(err)
	}
	op := s.client(t, "", (&certs.Leaf{Cert: cert, Key: key}).TLSCertificate())
	if code, b := me(op, nil); code != 200 || !strings.Contains(b, `"id":"op1"`) || !strings.Contains(b, `"role":"operator"`) {
		t.Fatalf("op1 with its certificate: %d %s", code, b)
	}
	// The role is the site's, not the certificate's: op1 is no admin.
	if code, b := op.do("GET", n.url("/api/v1/users"), nil); code != 403 {
		t.Fatalf("op1 lists users: %d %s", code, b)
	}
}
