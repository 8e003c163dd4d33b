package certs

import (
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCASubjectAndConstraints(t *testing.T) {
	clk := newTestClock()
	ca, err := NewCA(CAConfig{SiteName: "Depot Nord – Köln", ClusterID: "c-42", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if ca.SiteName() != "Depot Nord – Köln" || ca.ClusterID() != "c-42" {
		t.Fatalf("site %q cluster %q", ca.SiteName(), ca.ClusterID())
	}
	c := ca.Cert()
	if !c.IsCA || !c.MaxPathLenZero || c.KeyUsage&x509.KeyUsageCertSign == 0 || c.KeyUsage&x509.KeyUsageCRLSign == 0 {
		t.Fatalf("CA constraints: IsCA=%t MaxPathLenZero=%t usage=%b", c.IsCA, c.MaxPathLenZero, c.KeyUsage)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("CA key %v", c.PublicKeyAlgorithm)
	}
	if !c.NotBefore.Equal(clk.Now().Add(-Backdate).Truncate(time.Second)) {
		t.Fatalf("NotBefore %v from clock %v", c.NotBefore, clk.Now())
	}
	gen, err := NewCA(CAConfig{SiteName: "X", Now: clk.Now})
	if err != nil || len(gen.ClusterID()) != 32 {
		t.Fatalf("generated cluster id %q: %v", gen.ClusterID(), err)
	}
	for _, bad := range []CAConfig{{}, {SiteName: "a\nb"}, {SiteName: "ok", ClusterID: "has space"}} {
		if _, err := NewCA(bad); !errors.Is(err, ErrBadName) {
			t.Fatalf("NewCA(%+v) = %v", bad, err)
		}
	}
}

func TestCAPEMRoundTrip(t *testing.T) {
	clk := newTestClock()
	ca := newTestCA(t, clk, "Depot")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "sub", "ca-key.pem")
	if err := ca.Save(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	loaded, err := LoadCA(certFile, keyFile, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert().Equal(ca.Cert()) {
		t.Fatal("certificate changed in round trip")
	}
	if !keyMatches(ca.Cert(), loaded.key) {
		t.Fatal("key changed in round trip")
	}
	// The loaded CA issues certificates the original CA's verifier accepts.
	dev, id, err := loaded.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewVerifier(ca.Cert(), nil, clk.Now).Verify(dev.Cert, KindDevice)
	if err != nil || p.Device != id {
		t.Fatalf("Verify after reload: %v", err)
	}
	if c, err := LoadCACert(certFile); err != nil || !c.Equal(ca.Cert()) {
		t.Fatalf("LoadCACert: %v", err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("dir holds %d entries", len(entries))
	}
}

func TestLeafPEMRoundTrip(t *testing.T) {
	clk := newTestClock()
	ca := newTestCA(t, clk, "Depot")
	node, err := ca.IssueNode("n1", []string{"10.0.0.1", "n1.depot.internal"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := node.Save(filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem")); err != nil {
		t.Fatal(err)
	}
	back, err := LoadLeaf(filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Cert.Equal(node.Cert) || !keyMatches(node.Cert, back.Key) {
		t.Fatal("leaf changed in round trip")
	}
	keyPEM, _ := node.KeyPEM()
	if _, err := ParseLeaf(node.CertPEM(), keyPEM); err != nil {
		t.Fatal(err)
	}
}

func TestPEMRefusals(t *testing.T) {
	clk := newTestClock()
	ca := newTestCA(t, clk, "Depot")
	other := newTestCA(t, clk, "Depot")
	node, _ := ca.IssueNode("n1", nil)
	caKey, _ := ca.KeyPEM()
	otherKey, _ := other.KeyPEM()
	nodeKey, _ := node.KeyPEM()
	tests := []struct {
		name         string
		certPEM, key []byte
		wantErr      error
	}{
		{"empty", nil, nil, ErrBadPEM},
		{"garbage cert", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), caKey, ErrBadPEM},
		{"no key", ca.CertPEM(), nil, ErrBadPEM},
		{"key of another CA", ca.CertPEM(), otherKey, ErrKeyMismatch},
		{"leaf as CA", node.CertPEM(), nodeKey, ErrNotCA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCA(tt.certPEM, tt.key, clk.Now); !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCA = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := LoadCA("/nonexistent/ca.pem", "/nonexistent/ca-key.pem", nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadCA missing = %v", err)
	}
}

func TestCRLRoundTrip(t *testing.T) {
	clk := newTestClock()
	ca := newTestCA(t, clk, "Depot")
	l := NewRevocationList()
	a, _, _ := ca.IssueDevice()
	b, _, _ := ca.IssueDevice()
	c, _, _ := ca.IssueDevice()
	l.Revoke(a.Cert.SerialNumber, clk.Now(), 1)
	l.Revoke(b.Cert.SerialNumber, clk.Now(), 5)
	l.Revoke(b.Cert.SerialNumber, clk.Now().Add(time.Hour), 0) // kept as first revoked
	if l.Len() != 2 {
		t.Fatalf("Len %d", l.Len())
	}
	crlPEM, err := ca.CreateCRL(l, big.NewInt(3), 0)
	if err != nil {
		t.Fatal(err)
	}
	back, crl, err := ParseCRL(crlPEM, ca.Cert())
	if err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != 3 || !crl.NextUpdate.Equal(clk.Now().Add(7*24*time.Hour)) {
		t.Fatalf("CRL number %v next update %v", crl.Number, crl.NextUpdate)
	}
	if !back.IsRevoked(a.Cert.SerialNumber) || !back.IsRevoked(b.Cert.SerialNumber) || back.IsRevoked(c.Cert.SerialNumber) {
		t.Fatal("parsed CRL has the wrong serials")
	}
	if e := back.Entries(); len(e) != 2 || (e[0].SerialNumber.Cmp(b.Cert.SerialNumber) == 0 && e[0].ReasonCode != 5) {
		t.Fatalf("entries %+v", e)
	}
	v := NewVerifier(ca.Cert(), back, clk.Now)
	if _, err := v.Verify(a.Cert); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Verify revoked = %v", err)
	}
	if _, err := v.Verify(c.Cert); err != nil {
		t.Fatalf("Verify good = %v", err)
	}
	other := newTestCA(t, clk, "Depot")
	if _, _, err := ParseCRL(crlPEM, other.Cert()); !errors.Is(err, ErrBadCRL) {
		t.Fatalf("CRL checked against another CA = %v", err)
	}
	if _, _, err := ParseCRL([]byte("junk"), ca.Cert()); !errors.Is(err, ErrBadCRL) {
		t.Fatalf("junk CRL = %v", err)
	}
	if _, _, err := ParseCRL(ca.CertPEM(), ca.Cert()); !errors.Is(err, ErrBadCRL) {
		t.Fatalf("certificate as CRL = %v", err)
	}
}
