package syncsite_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/client"
	"github.com/custodyhq/custody/sync/protocol"
)

// tlsRig is a site node whose sync endpoint is served over TLS with
// device certificates of the site CA, revocations read from the
// replicated state.
type tlsRig struct {
	*rig
	ca *certs.CA
	ep *syncsite.Endpoint
}

func newTLSRig(t *testing.T, trustHello bool) *tlsRig {
	t.Helper()
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "tls-test"})
	if err != nil {
		t.Fatal(err)
	}
	nodeLeaf, err := ca.IssueNode("n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(raw, certs.ServerTLS(ca.Cert(), nodeLeaf.TLSCertificate(), nil, certs.AllowNoClientCert()))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: t.TempDir(), RaftAddr: freeAddr(t), HTTPAddr: raw.Addr().String(),
		Bootstrap: true, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	revs := syncsite.NewRevocations(node.State(), log)
	site := syncsite.New(node, syncsite.Config{FeedInterval: 100 * time.Millisecond})
	ep := syncsite.NewEndpoint(site, syncsite.EndpointConfig{TrustHello: trustHello, Verifier: certs.NewVerifier(ca.Cert(), revs, nil),
		Revocations: revs, RevokeCheck: 50 * time.Millisecond})
	serveSync(t, node, ep, ln)
	r := &tlsRig{rig: &rig{node: node, site: site, url: "wss://" + raw.Addr().String() + syncsite.Path}, ca: ca, ep: ep}
	waitFor(t, "leader and seed records", func() bool {
		ok := false
		_ = node.State().View(func(rd *state.Reader) error {
			_, err := rd.Site()
			ok = err == nil && node.IsLeader()
			return nil
		})
		return ok
	})
	return r
}

// enrolled is a device with a certificate of the rig's CA.
func (r *tlsRig) enrolled(t *testing.T, user string) (*device, tls.Certificate) {
	t.Helper()
	leaf, id, err := r.ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	return newDevice(id.String(), user), leaf.TLSCertificate()
}

// errorLog keeps every connection error a client reported.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) seen(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}

func (r *tlsRig) runTLS(t *testing.T, d *device, cert tls.Certificate) (*client.Client, *errorLog) {
	t.Helper()
	errs := &errorLog{}
	c, err := client.New(d, client.Config{URL: r.url, TLSConfig: certs.ClientTLS(r.ca.Cert(), cert, ""),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnState: func(s client.State) {
			if s.LastError != "" {
				errs.mu.Lock()
				errs.errs = append(errs.errs, s.LastError)
				errs.mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, errs
}

func (r *tlsRig) session(device string) bool {
	for _, s := range r.ep.Hub().Sessions() {
		if s.Device == device {
			return true
		}
	}
	return false
}

// dialOnce upgrades once and returns the refusal the site answered.
func (r *tlsRig) dialOnce(t *testing.T, cfg *tls.Config) (int, string) {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(r.url, nil)
	if err == nil {
		ws.Close()
		return 101, ""
	}
	if resp == nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, client.RefusalText(resp.StatusCode, b)
}

// TestSyncOverMutualTLS: a device syncs with its certificate; the site
// takes its id from the certificate; a device without a certificate, or
// with one of another CA, is refused with a reason; a device revoked
// in the replicated state is refused at once and its open session is
// closed.
func TestSyncOverMutualTLS(t *testing.T) {
	r := newTLSRig(t, false)
	keys := r.seed(t, 2)
	a, certA := r.enrolled(t, "op")
	ca, errsA := r.runTLS(t, a, certA)
	waitFor(t, "replica with the ASN's units", func() bool { return a.unit(keys[0]).Key == keys[0] })
	a.write(t, event.KindReceive, keys, event.Context{ASN: "A1", To: "DOCK"})
	ca.Notify()
	waitFor(t, "receive acknowledged", func() bool { _, ok := a.verdict(1); return ok })
	if v, _ := a.verdict(1); v.Final() != protocol.OutcomeApplied {
		t.Fatalf("verdict %+v", v)
	}
	if hw, err := r.site.HighWater(context.Background(), a.id, a.epoch); err != nil || hw != 1 {
		t.Fatalf("the site's mark for the certificate's device: %d, %v", hw, err)
	}

	other, err := certs.NewCA(certs.CAConfig{SiteName: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, err := other.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	node, err := r.ca.IssueNode("n9", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		status int
		want   string
	}{
		{"no certificate", tls.Certificate{}, fiber.StatusUnauthorized, "certificate of an enrolled device"},
		{"node certificate", node.TLSCertificate(), fiber.StatusForbidden, "not a device certificate"},
		// The site names its CA in the handshake, so a client does not
		// even send a certificate of another CA.
		{"another CA", stranger.TLSCertificate(), fiber.StatusUnauthorized, "certificate of an enrolled device"},
	} {
		status, text := r.dialOnce(t, certs.ClientTLS(r.ca.Cert(), tc.cert, ""))
		if status != tc.status || !strings.Contains(text, tc.want) {
			t.Errorf("%s: %d %q, want %d and %q", tc.name, status, text, tc.status, tc.want)
		}
	}

	// A client that sends it anyway fails the TLS handshake.
	pushy := certs.ClientTLS(r.ca.Cert(), tls.Certificate{}, "")
	strangerCert := stranger.TLSCertificate()
	pushy.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &strangerCert, nil }
	if status, text := r.dialOnce(t, pushy); status != 0 || !strings.Contains(text, "tls") {
		t.Errorf("certificate of another CA: %d %q", status, text)
	}

	// A HELLO that claims another device than the certificate.
	_, certB := r.enrolled(t, "op")
	liar := newDevice(a.id, "op")
	_, errsLiar := r.runTLS(t, liar, certB)
	waitFor(t, "the claim refused", func() bool { return errsLiar.seen("certificate") })

	// Revocation: the open session closes, a new connection is refused.
	id, _ := certs.ParseDeviceID(a.id)
	r.propose(t, command.TypeRevokeDevice, command.RevokeDevice{Device: id.String(), By: "admin", At: time.Now().UTC()})
	waitFor(t, "the revoked device's session closed", func() bool { return !r.session(a.id) && errsA.seen("closed with forbidden") })
	waitFor(t, "the revoked device refused", func() bool { return errsA.seen("403 Forbidden: device certificate refused") && errsA.seen("revoked") })
	if r.session(a.id) || ca.State().Online {
		t.Fatal("the revoked device is back online")
	}
	status, text := r.dialOnce(t, certs.ClientTLS(r.ca.Cert(), certA, ""))
	if status != fiber.StatusForbidden || !strings.Contains(text, "revoked") {
		t.Fatalf("revoked device: %d %q", status, text)
	}
}

// TestInsecureDevicesOverTLS: with TrustHello a device without a
// certificate names itself in HELLO, while one that presents a
// certificate is still held to it.
func TestInsecureDevicesOverTLS(t *testing.T) {
	r := newTLSRig(t, true)
	keys := r.seed(t, 1)
	anon := newDevice("hh-demo", "op")
	c, _ := r.runTLS(t, anon, tls.Certificate{})
	waitFor(t, "anonymous replica", func() bool { return anon.unit(keys[0]).Key == keys[0] })
	anon.write(t, event.KindReceive, keys, event.Context{ASN: "A1", To: "DOCK"})
	c.Notify()
	waitFor(t, "anonymous push acknowledged", func() bool { _, ok := anon.verdict(1); return ok })

	real, cert := r.enrolled(t, "op")
	liar := newDevice("hh-other", "op")
	_, errs := r.runTLS(t, liar, cert)
	waitFor(t, "the claim refused", func() bool { return errs.seen("certificate") })

	// Without a certificate, a HELLO may not name a device id of the form
	// certificates carry: that device proves itself with its certificate.
	impostor := newDevice(real.id, "op")
	impostor.write(t, event.KindReceive, keys, event.Context{ASN: "A1", To: "DOCK"})
	_, errsImp := r.runTLS(t, impostor, tls.Certificate{})
	waitFor(t, "the certificate-less claim refused", func() bool { return errsImp.seen("closed with identity") })
	if r.session(real.id) {
		t.Fatal("a session for a certificate device id without its certificate")
	}
	if hw, err := r.site.HighWater(context.Background(), real.id, impostor.epoch); err != nil || hw != 0 {
		t.Fatalf("the enrolled device's mark moved: %d, %v", hw, err)
	}
	// The device itself, with its certificate, is served.
	c2, _ := r.runTLS(t, real, cert)
	waitFor(t, "the enrolled device online", func() bool { return c2.State().Online })
}
