package certs

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"
)

// handshake runs one real TLS connection over 127.0.0.1 between a server
// with srvCfg and a client with cliCfg. The server answers "ok\n" after a
// successful handshake; the client reads it. It returns the server's view of
// the connection, the server's handshake error and the client's error.
func handshake(t *testing.T, srvCfg, cliCfg *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.HandshakeContext(context.Background()); err != nil {
			done <- result{err: err}
			return
		}
		_, err = tc.Write([]byte("ok\n"))
		done <- result{cs: tc.ConnectionState(), err: err}
	}()

	d := &net.Dialer{Timeout: 10 * time.Second}
	var cliErr error
	conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), cliCfg)
	if err != nil {
		cliErr = err
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err == nil && line != "ok\n" {
			t.Fatalf("client read %q", line)
		}
		cliErr = err
		conn.Close()
	}
	r := <-done
	return r.cs, r.err, cliErr
}

// fixture is a site with a node and the clock everything runs on.
type fixture struct {
	clk     *testClock
	ca      *CA
	node    *Leaf
	revoked *RevocationList
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := newTestClock()
	ca := newTestCA(t, clk, "Depot North")
	node, err := ca.IssueNode("node-1", []string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clk: clk, ca: ca, node: node, revoked: NewRevocationList()}
}

func (f *fixture) serverTLS(opts ...TLSOption) *tls.Config {
	opts = append([]TLSOption{WithClock(f.clk.Now)}, opts...)
	return ServerTLS(f.ca.Cert(), f.node.TLSCertificate(), f.revoked, opts...)
}

func (f *fixture) clientTLS(cert tls.Certificate, serverName string, opts ...TLSOption) *tls.Config {
	opts = append([]TLSOption{WithClock(f.clk.Now)}, opts...)
	cfg := ClientTLS(f.ca.Cert(), cert, serverName, opts...)
	if len(cert.Certificate) > 0 {
		if len(cfg.Certificates) != 1 {
			panic("ClientTLS dropped the client certificate")
		}
		// A crypto/tls client leaves out a certificate whose issuer is not
		// among the CAs the server asks for; an attacker would not, so the
		// tests always send it and check the server's refusal.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		}
	}
	return cfg
}

func (f *fixture) verifier() *Verifier { return NewVerifier(f.ca.Cert(), f.revoked, f.clk.Now) }

// forgeDevice makes a device certificate that copies a real device's CN and
// URI SAN, signed by an impostor CA with the same subject and subject key id
// as the site CA.
func forgeDevice(t *testing.T, site *CA, victim DeviceID) tls.Certificate {
	t.Helper()
	fakeKey, _ := NewKey()
	fakeTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               site.Cert().Subject,
		SubjectKeyId:          site.Cert().SubjectKeyId,
		NotBefore:             site.Cert().NotBefore,
		NotAfter:              site.Cert().NotAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	fakeDER, err := x509.CreateCertificate(rand.Reader, fakeTmpl, fakeTmpl, fakeKey.Public(), fakeKey)
	if err != nil {
		t.Fatal(err)
	}
	fakeCA, _ := x509.ParseCertificate(fakeDER)
	leafKey, _ := NewKey()
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(8),
		Subject:      pkix.Name{CommonName: victim.String(), Organization: []string{site.SiteName()}},
		NotBefore:    site.Now().Add(-time.Hour),
		NotAfter:     site.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{IdentityURI(KindDevice, victim.String())},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, fakeCA, leafKey.Public(), fakeKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: leafKey}
}

func TestDeviceMTLS(t *testing.T) {
	f := newFixture(t)
	good, goodID, err := f.ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, _ := f.ca.IssueDevice()
	f.revoked.Revoke(revoked.Cert.SerialNumber, f.clk.Now(), 1)
	other := newTestCA(t, f.clk, "Depot North") // same site name, different key
	foreign, _, _ := other.IssueDevice()
	expired, _, _ := f.ca.IssueDevice(ValidFor(time.Hour))
	user, _ := f.ca.IssueUser("alice", "supervisor")

	// A certificate issued by the site CA while its clock ran ahead.
	f.clk.Advance(48 * time.Hour)
	future, _, _ := f.ca.IssueDevice()
	f.clk.Advance(-48 * time.Hour)

	tests := []struct {
		name    string
		cert    tls.Certificate
		opts    []TLSOption
		advance time.Duration
		wantErr error // server-side handshake error; nil means accepted
		check   func(t *testing.T, cs tls.ConnectionState)
	}{
		{
			name: "good device",
			cert: good.TLSCertificate(),
			check: func(t *testing.T, cs tls.ConnectionState) {
				id, err := f.verifier().DeviceIDFromConn(cs)
				if err != nil {
					t.Fatalf("DeviceIDFromConn: %v", err)
				}
				if id != goodID {
					t.Fatalf("device id %s, want %s", id, goodID)
				}
			},
		},
		{name: "revoked device", cert: revoked.TLSCertificate(), wantErr: ErrRevoked},
		{name: "other CA", cert: foreign.TLSCertificate(), wantErr: ErrUnknownCA},
		{name: "forged same CN", cert: forgeDevice(t, f.ca, goodID), wantErr: ErrUnknownCA},
		{name: "expired", cert: expired.TLSCertificate(), advance: 2 * time.Hour, wantErr: ErrCertExpired},
		{name: "not yet valid", cert: future.TLSCertificate(), wantErr: ErrCertNotYetValid},
		{name: "no client cert", wantErr: errAny},
		{
			name: "dev mode without cert",
			opts: []TLSOption{AllowNoClientCert()},
			check: func(t *testing.T, cs tls.ConnectionState) {
				if _, err := f.verifier().DeviceIDFromConn(cs); !errors.Is(err, ErrNoPeerCert) {
					t.Fatalf("DeviceIDFromConn without cert = %v, want ErrNoPeerCert", err)
				}
			},
		},
		{name: "dev mode still refuses revoked", cert: revoked.TLSCertificate(), opts: []TLSOption{AllowNoClientCert()}, wantErr: ErrRevoked},
		{name: "dev mode still refuses other CA", cert: foreign.TLSCertificate(), opts: []TLSOption{AllowNoClientCert()}, wantErr: ErrUnknownCA},
		{name: "raft listener refuses device", cert: good.TLSCertificate(), opts: []TLSOption{AcceptKinds(KindNode)}, wantErr: ErrWrongKind},
		{
			name: "user cert on API",
			cert: user.TLSCertificate(),
			check: func(t *testing.T, cs tls.ConnectionState) {
				p, err := f.verifier().VerifyConn(cs)
				if err != nil {
					t.Fatal(err)
				}
				if p.Kind != KindUser || p.User != (User{Name: "alice", Role: "supervisor"}) {
					t.Fatalf("peer = %+v", p)
				}
				if _, err := f.verifier().DeviceIDFromConn(cs); !errors.Is(err, ErrNotDeviceCert) {
					t.Fatalf("DeviceIDFromConn(user) = %v, want ErrNotDeviceCert", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clk.Advance(tt.advance)
			defer f.clk.Advance(-tt.advance)
			cs, srvErr, cliErr := handshake(t, f.serverTLS(tt.opts...), f.clientTLS(tt.cert, "localhost"))
			switch {
			case tt.wantErr == nil:
				if srvErr != nil || cliErr != nil {
					t.Fatalf("refused: server %v, client %v", srvErr, cliErr)
				}
				tt.check(t, cs)
			case tt.wantErr == errAny:
				if srvErr == nil || cliErr == nil {
					t.Fatalf("accepted: server %v, client %v", srvErr, cliErr)
				}
			default:
				if !errors.Is(srvErr, tt.wantErr) {
					t.Fatalf("server error = %v, want %v", srvErr, tt.wantErr)
				}
				if cliErr == nil {
					t.Fatal("client did not notice the refusal")
				}
			}
		})
	}
}

// errAny marks a case where any refusal will do (the handshake's own).
var errAny = errors.New("any error")

func TestRevocationTakesEffectOnResumedSession(t *testing.T) {
	f := newFixture(t)
	dev, _, _ := f.ca.IssueDevice()
	srv := f.serverTLS()
	cli := f.clientTLS(dev.TLSCertificate(), "localhost")
	cli.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	if _, srvErr, cliErr := handshake(t, srv, cli); srvErr != nil || cliErr != nil {
		t.Fatalf("first connection: %v / %v", srvErr, cliErr)
	}
	cs, srvErr, cliErr := handshake(t, srv, cli)
	if srvErr != nil || cliErr != nil {
		t.Fatalf("second connection: %v / %v", srvErr, cliErr)
	}
	if !cs.DidResume {
		t.Fatal("second connection did not resume the session")
	}
	f.revoked.Revoke(dev.Cert.SerialNumber, f.clk.Now(), 1)
	if _, srvErr, _ := handshake(t, srv, cli); !errors.Is(srvErr, ErrRevoked) {
		t.Fatalf("after revocation: server error %v, want ErrRevoked", srvErr)
	}
}

func TestNodeToNodeTLS(t *testing.T) {
	f := newFixture(t)
	peer, err := f.ca.IssueNode("node-2", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	dev, _, _ := f.ca.IssueDevice()
	other := newTestCA(t, f.clk, "Elsewhere")
	otherNode, _ := other.IssueNode("node-1", []string{"localhost", "127.0.0.1"})

	tests := []struct {
		name       string
		server     *tls.Config
		serverName string
		cliOpts    []TLSOption
		wantCli    error // client-side error
	}{
		{name: "any node of the site", server: f.serverTLS(AcceptKinds(KindNode))},
		{name: "host name matches", server: f.serverTLS(AcceptKinds(KindNode)), serverName: "localhost"},
		{name: "IP matches", server: f.serverTLS(AcceptKinds(KindNode)), serverName: "127.0.0.1"},
		{name: "host name mismatch", server: f.serverTLS(AcceptKinds(KindNode)), serverName: "node-9.example", wantCli: ErrHostMismatch},
		{
			name:    "server from another CA",
			server:  ServerTLS(other.Cert(), otherNode.TLSCertificate(), nil, WithClock(f.clk.Now)),
			wantCli: ErrUnknownCA,
		},
		{
			name:    "server presents a device cert",
			server:  ServerTLS(f.ca.Cert(), dev.TLSCertificate(), nil, WithClock(f.clk.Now)),
			wantCli: ErrWrongKind,
		},
		{
			name:    "revoked server",
			server:  f.serverTLS(),
			cliOpts: []TLSOption{WithRevocation(RevocationFunc(func(s *big.Int) bool { return s.Cmp(f.node.Cert.SerialNumber) == 0 }))},
			wantCli: ErrRevoked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, srvErr, cliErr := handshake(t, tt.server, f.clientTLS(peer.TLSCertificate(), tt.serverName, tt.cliOpts...))
			if tt.wantCli != nil {
				if !errors.Is(cliErr, tt.wantCli) {
					t.Fatalf("client error = %v, want %v", cliErr, tt.wantCli)
				}
				if srvErr == nil {
					t.Fatal("server did not notice the refusal")
				}
				return
			}
			if srvErr != nil || cliErr != nil {
				t.Fatalf("refused: server %v, client %v", srvErr, cliErr)
			}
			p, err := f.verifier().VerifyConn(cs, KindNode)
			if err != nil {
				t.Fatal(err)
			}
			if p.NodeID != "node-2" {
				t.Fatalf("peer node %q", p.NodeID)
			}
		})
	}
}

func TestVerifierRefusesInconsistentDeviceCert(t *testing.T) {
	// A certificate the site CA signed but whose names do not match its key
	// (only a faulty issuer could make one) is still refused.
	f := newFixture(t)
	k1, _ := NewKey()
	k2, _ := NewKey()
	id1, _ := DeviceIDFromPublicKey(k1.Public())
	serial, _ := newSerial()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: id1.String()},
		NotBefore:    f.clk.Now().Add(-time.Hour),
		NotAfter:     f.clk.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{IdentityURI(KindDevice, id1.String())},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca.cert, k2.Public(), f.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if _, err := DeviceIDFromCert(cert); !errors.Is(err, ErrDeviceIDMismatch) {
		t.Fatalf("DeviceIDFromCert = %v, want ErrDeviceIDMismatch", err)
	}
	if _, err := f.verifier().Verify(cert); !errors.Is(err, ErrDeviceIDMismatch) {
		t.Fatalf("Verify = %v, want ErrDeviceIDMismatch", err)
	}
}

func TestCertKinds(t *testing.T) {
	f := newFixture(t)
	dev, devID, _ := f.ca.IssueDevice()
	user, err := f.ca.IssueUser("bob.smith", "operator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DeviceIDFromCert(f.node.Cert); !errors.Is(err, ErrNotDeviceCert) {
		t.Fatalf("DeviceIDFromCert(node) = %v", err)
	}
	if _, err := DeviceIDFromCert(user.Cert); !errors.Is(err, ErrNotDeviceCert) {
		t.Fatalf("DeviceIDFromCert(user) = %v", err)
	}
	if _, err := DeviceIDFromCert(f.ca.Cert()); !errors.Is(err, ErrNotDeviceCert) {
		t.Fatalf("DeviceIDFromCert(CA) = %v", err)
	}
	if id, err := DeviceIDFromCert(dev.Cert); err != nil || id != devID {
		t.Fatalf("DeviceIDFromCert(device) = %s, %v", id, err)
	}
	if dev.Cert.Subject.CommonName != devID.String() || dev.Cert.URIs[0].String() != "custody:device:"+devID.String() {
		t.Fatalf("device subject %q, URI %v", dev.Cert.Subject.CommonName, dev.Cert.URIs)
	}
	if slicesHas(dev.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Fatal("device certificate allows server auth")
	}
	if !slicesHas(f.node.Cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) || !slicesHas(f.node.Cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		t.Fatalf("node EKU %v", f.node.Cert.ExtKeyUsage)
	}
	if len(f.node.Cert.IPAddresses) != 1 || f.node.Cert.DNSNames[0] != "localhost" {
		t.Fatalf("node SANs %v %v", f.node.Cert.DNSNames, f.node.Cert.IPAddresses)
	}
	if u, err := UserFromCert(user.Cert); err != nil || u != (User{"bob.smith", "operator"}) {
		t.Fatalf("UserFromCert = %+v, %v", u, err)
	}
	if n, err := NodeIDFromCert(f.node.Cert); err != nil || n != "node-1" {
		t.Fatalf("NodeIDFromCert = %q, %v", n, err)
	}
	for _, bad := range []struct{ name, role string }{{"", "x"}, {"a b", "x"}, {"alice", ""}, {"alice", "r/1"}, {"-x", "r"}} {
		if _, err := f.ca.IssueUser(bad.name, bad.role); !errors.Is(err, ErrBadName) {
			t.Fatalf("IssueUser(%q, %q) = %v", bad.name, bad.role, err)
		}
	}
	if _, err := f.ca.IssueNode("n1", []string{"bad host"}); !errors.Is(err, ErrBadName) {
		t.Fatalf("IssueNode(bad host) = %v", err)
	}
	// Validity never exceeds the CA's.
	long, _, _ := f.ca.IssueDevice(ValidFor(100 * 365 * 24 * time.Hour))
	if long.Cert.NotAfter.After(f.ca.Cert().NotAfter) {
		t.Fatal("leaf outlives CA")
	}
}

func slicesHas[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
