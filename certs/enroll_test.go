package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type enrollFixture struct {
	*fixture
	store *MemoryTokenStore
	enr   *Enroller
}

func newEnrollFixture(t *testing.T) *enrollFixture {
	f := newFixture(t)
	store := NewMemoryTokenStore()
	return &enrollFixture{fixture: f, store: store, enr: NewEnroller(f.ca, store, f.clk.Now)}
}

func (f *enrollFixture) token(t *testing.T, ttl time.Duration) string {
	t.Helper()
	tok, _, err := f.enr.NewToken(context.Background(), ttl, "goods-in handheld")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newCSR(t *testing.T) (*ecdsa.PrivateKey, []byte, DeviceID) {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, id, err := NewDeviceCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, csr, id
}

func TestEnrollHappyPath(t *testing.T) {
	f := newEnrollFixture(t)
	ctx := context.Background()
	tok := f.token(t, time.Hour)
	key, csr, id := newCSR(t)

	got, err := f.enr.Enroll(ctx, tok, csr)
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if got.Device != id {
		t.Fatalf("enrolled %s, CSR key gives %s", got.Device, id)
	}
	if certID, err := DeviceIDFromCert(got.Cert); err != nil || certID != id {
		t.Fatalf("issued cert names %s (%v), want %s", certID, err, id)
	}
	if !got.CACert.Equal(f.ca.Cert()) {
		t.Fatal("enrollment returned another CA certificate")
	}
	if got.Token.UsedAt != f.clk.Now() || got.Token.Device != id {
		t.Fatalf("token record after use: %+v", got.Token)
	}

	// Device side: accept the answer, pinning the CA by fingerprint, then
	// connect to the site over mTLS with the new certificate.
	leaf, caCert, err := AcceptEnrollment(key, got.CertPEM(), got.CACertPEM(), Fingerprint(f.ca.Cert()), f.clk.Now)
	if err != nil {
		t.Fatalf("AcceptEnrollment: %v", err)
	}
	cli := ClientTLS(caCert, leaf.TLSCertificate(), "localhost", WithClock(f.clk.Now))
	cs, srvErr, cliErr := handshake(t, f.serverTLS(), cli)
	if srvErr != nil || cliErr != nil {
		t.Fatalf("enrolled device refused: %v / %v", srvErr, cliErr)
	}
	if peer, err := f.verifier().DeviceIDFromConn(cs); err != nil || peer != id {
		t.Fatalf("server sees %s (%v), want %s", peer, err, id)
	}
}

func TestEnrollRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("reused token", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		_, csr, _ := newCSR(t)
		if _, err := f.enr.Enroll(ctx, tok, csr); err != nil {
			t.Fatal(err)
		}
		_, csr2, _ := newCSR(t)
		if _, err := f.enr.Enroll(ctx, tok, csr2); !errors.Is(err, ErrTokenUsed) {
			t.Fatalf("second use: %v, want ErrTokenUsed", err)
		}
		// Even the same device may not use it twice.
		if _, err := f.enr.Enroll(ctx, tok, csr); !errors.Is(err, ErrTokenUsed) {
			t.Fatalf("same CSR again: %v, want ErrTokenUsed", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		f.clk.Advance(time.Hour)
		_, csr, _ := newCSR(t)
		if _, err := f.enr.Enroll(ctx, tok, csr); !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("expired: %v, want ErrTokenExpired", err)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		f := newEnrollFixture(t)
		other := newEnrollFixture(t)
		tok := other.token(t, time.Hour)
		_, csr, _ := newCSR(t)
		if _, err := f.enr.Enroll(ctx, tok, csr); !errors.Is(err, ErrTokenUnknown) {
			t.Fatalf("unknown: %v, want ErrTokenUnknown", err)
		}
	})
	t.Run("malformed token", func(t *testing.T) {
		f := newEnrollFixture(t)
		_, csr, _ := newCSR(t)
		for _, tok := range []string{"", "abc", strings.Repeat("1", 52), strings.Repeat("A", 200)} {
			if _, err := f.enr.Enroll(ctx, tok, csr); !errors.Is(err, ErrTokenMalformed) {
				t.Fatalf("token %q: %v, want ErrTokenMalformed", tok, err)
			}
		}
	})
	t.Run("CSR with bad signature keeps the token", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		_, csrPEM, _ := newCSR(t)
		b, _ := pem.Decode(csrPEM)
		der := append([]byte(nil), b.Bytes...)
		der[len(der)-3] ^= 0x55 // inside the signature BIT STRING
		if _, err := f.enr.Enroll(ctx, tok, der); !errors.Is(err, ErrBadCSR) {
			t.Fatalf("bad signature: %v, want ErrBadCSR", err)
		}
		_, good, _ := newCSR(t)
		if _, err := f.enr.Enroll(ctx, tok, good); err != nil {
			t.Fatalf("token unusable after a refused CSR: %v", err)
		}
	})
	t.Run("CSR naming another device", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		key, _ := NewKey()
		other, _ := NewKey()
		otherID, _ := DeviceIDFromPublicKey(other.Public())
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: otherID.String()},
		}, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.enr.Enroll(ctx, tok, der); !errors.Is(err, ErrBadCSR) || !errors.Is(err, ErrDeviceIDMismatch) {
			t.Fatalf("mismatched CN: %v, want ErrBadCSR and ErrDeviceIDMismatch", err)
		}
	})
	t.Run("CSR with unsupported key", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		key, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.enr.Enroll(ctx, tok, der); !errors.Is(err, ErrBadCSR) {
			t.Fatalf("P-224 key: %v, want ErrBadCSR", err)
		}
	})
	t.Run("garbage CSR", func(t *testing.T) {
		f := newEnrollFixture(t)
		tok := f.token(t, time.Hour)
		for _, csr := range [][]byte{nil, []byte("hello"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})} {
			if _, err := f.enr.Enroll(ctx, tok, csr); !errors.Is(err, ErrBadCSR) {
				t.Fatalf("CSR %q: %v, want ErrBadCSR", csr, err)
			}
		}
	})
}

func TestEnrollEd25519CSR(t *testing.T) {
	f := newEnrollFixture(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	csr, id, err := NewDeviceCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.enr.Enroll(context.Background(), f.token(t, time.Hour), csr)
	if err != nil || got.Device != id {
		t.Fatalf("Enroll(ed25519) = %v, %v", got, err)
	}
}

func TestEnrollTokenSingleUseUnderConcurrency(t *testing.T) {
	f := newEnrollFixture(t)
	tok := f.token(t, time.Hour)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		used int
	)
	for i := 0; i < n; i++ {
		_, csr, _ := newCSR(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.enr.Enroll(context.Background(), tok, csr)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrTokenUsed):
				used++
			default:
				t.Errorf("unexpected error %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || used != n-1 {
		t.Fatalf("%d enrollments succeeded and %d were refused as used; want 1 and %d", ok, used, n-1)
	}
}

func TestTokenStoredHashed(t *testing.T) {
	f := newEnrollFixture(t)
	tok, rec, err := f.enr.NewToken(context.Background(), 0, "label")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tokenEncoding().DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Hash != TokenHash(sha256.Sum256(raw)) {
		t.Fatal("record hash is not SHA-256 of the token")
	}
	stored, ok := f.store.Get(rec.Hash)
	if !ok {
		t.Fatal("token not stored under its hash")
	}
	if stored.ExpiresAt.Sub(stored.CreatedAt) != DefaultTokenTTL {
		t.Fatalf("default TTL %v", stored.ExpiresAt.Sub(stored.CreatedAt))
	}
	if strings.Contains(stored.Label, tok) {
		t.Fatal("token text stored")
	}
	if h, err := ParseToken(strings.ToLower(tok[:10]) + "-" + tok[10:]); err != nil || h != rec.Hash {
		t.Fatalf("ParseToken tolerant form: %v", err)
	}
	if err := f.store.Put(context.Background(), rec); !errors.Is(err, ErrTokenExists) {
		t.Fatalf("duplicate Put = %v", err)
	}
	f.clk.Advance(DefaultTokenTTL + time.Second)
	if n := f.store.Purge(f.clk.Now()); n != 1 {
		t.Fatalf("Purge removed %d", n)
	}
	if _, err := f.store.Consume(context.Background(), rec.Hash, f.clk.Now(), DeviceID{1}); !errors.Is(err, ErrTokenUnknown) {
		t.Fatalf("purged token: %v", err)
	}
}

func TestAcceptEnrollmentRefusals(t *testing.T) {
	f := newEnrollFixture(t)
	key, csr, _ := newCSR(t)
	got, err := f.enr.Enroll(context.Background(), f.token(t, time.Hour), csr)
	if err != nil {
		t.Fatal(err)
	}
	other := newTestCA(t, f.clk, "Depot North")
	wrongKey, _ := NewKey()
	tests := []struct {
		name    string
		key     *ecdsa.PrivateKey
		caPEM   []byte
		pin     string
		wantErr error
	}{
		{"wrong pin", key, got.CACertPEM(), Fingerprint(other.Cert()), ErrUnknownCA},
		{"substituted CA", key, other.CertPEM(), "", ErrUnknownCA},
		{"wrong key", wrongKey, got.CACertPEM(), "", ErrKeyMismatch},
		{"not PEM", key, []byte("x"), "", ErrBadPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := AcceptEnrollment(tt.key, got.CertPEM(), tt.caPEM, tt.pin, f.clk.Now); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseTokenForms(t *testing.T) {
	canonical := strings.Repeat("S", 51) + "Q"
	h, err := ParseToken(canonical)
	if err != nil {
		t.Fatalf("ParseToken(%q): %v", canonical, err)
	}
	for _, in := range []string{strings.ToLower(canonical), canonical[:20] + "-" + canonical[20:], canonical[:26] + " " + canonical[26:]} {
		if got, err := ParseToken(in); err != nil || got != h {
			t.Fatalf("ParseToken(%q) = %v", in, err)
		}
	}
	for _, in := range []string{
		"\u017f" + canonical[1:],     // LATIN SMALL LETTER LONG S upper-cases to S
		strings.Repeat("S", 52),      // padding bits set: not canonical
		canonical[:51] + "=",         // padding character
		canonical + "AAAAAAAA",       // too long
		strings.Repeat("\u212a", 52), // KELVIN SIGN
	} {
		if _, err := ParseToken(in); !errors.Is(err, ErrTokenMalformed) {
			t.Fatalf("ParseToken(%q) = %v, want ErrTokenMalformed", in, err)
		}
	}
}

// TestSignUserForACSR: a user certificate signed for a CSR's key names
// the user the issuer chose, not the CSR's subject, and verifies as a
// user certificate; bad names and bad CSRs are refused.
func TestSignUserForACSR(t *testing.T) {
	f := newFixture(t)
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	csrPEM, err := NewCSR(key, "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseCSR(csrPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := f.ca.SignUser(req.PublicKey, "op1", "operator")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewVerifier(f.ca.Cert(), nil, f.clk.Now).Verify(cert, KindUser)
	if err != nil || p.User != (User{Name: "op1", Role: "operator"}) {
		t.Fatalf("verified %+v: %v", p.User, err)
	}
	if !keyMatches(cert, key) {
		t.Fatal("the certificate is not for the CSR's key")
	}
	if _, err := f.ca.SignUser(req.PublicKey, "bad name", "operator"); !errors.Is(err, ErrBadName) {
		t.Fatalf("a bad user name: %v", err)
	}
	for name, data := range map[string][]byte{
		"garbage":     []byte("not a CSR"),
		"certificate": f.ca.CertPEM(),
		"bad signature": func() []byte {
			b, _ := pem.Decode(csrPEM)
			der := append([]byte(nil), b.Bytes...)
			der[len(der)-3] ^= 0xff
			return der
		}(),
	} {
		if _, err := ParseCSR(data); !errors.Is(err, ErrBadCSR) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
