package certs

import (
	"errors"
	"strings"
	"testing"
)

// Seeds are in testdata/fuzz/<FuzzName>/.

func FuzzParseDeviceID(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseDeviceID(s)
		if err != nil {
			if !errors.Is(err, ErrBadDeviceID) {
				t.Fatalf("ParseDeviceID(%q) error %v does not wrap ErrBadDeviceID", s, err)
			}
			return
		}
		canon := id.String()
		if len(canon) != 62 {
			t.Fatalf("String() = %q", canon)
		}
		// Accepted input is the canonical form up to case, dashes and spaces.
		strip := strings.NewReplacer("-", "", " ", "")
		if strip.Replace(strings.ToUpper(s)) != strip.Replace(canon) {
			t.Fatalf("ParseDeviceID(%q) accepted a non-canonical form of %s", s, canon)
		}
		back, err := ParseDeviceID(canon)
		if err != nil || back != id {
			t.Fatalf("round trip of %s: %v", canon, err)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseToken(s)
		if err != nil {
			if !errors.Is(err, ErrTokenMalformed) {
				t.Fatalf("ParseToken(%q) error %v does not wrap ErrTokenMalformed", s, err)
			}
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				t.Fatalf("ParseToken(%q) accepted a non-ASCII byte", s)
			}
		}
		if h == (TokenHash{}) {
			t.Fatalf("ParseToken(%q) gave a zero hash", s)
		}
		h2, err := ParseToken(strings.ToLower(s))
		if err != nil || h2 != h {
			t.Fatalf("ParseToken is case-sensitive for %q", s)
		}
	})
}

func FuzzParseDeviceCSR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		req, id, err := ParseDeviceCSR(data)
		if err != nil {
			if !errors.Is(err, ErrBadCSR) {
				t.Fatalf("error %v does not wrap ErrBadCSR", err)
			}
			return
		}
		if req.CheckSignature() != nil {
			t.Fatal("accepted a CSR whose signature does not check")
		}
		want, err := DeviceIDFromPublicKey(req.PublicKey)
		if err != nil || want != id {
			t.Fatalf("device id %s, key gives %s (%v)", id, want, err)
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	clk := newTestClock()
	ca := newTestCA(f, clk, "Fuzz")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Nothing the fuzzer writes is signed by this fresh CA.
		if _, _, err := ParseCRL(data, ca.Cert()); !errors.Is(err, ErrBadCRL) {
			t.Fatalf("ParseCRL accepted or mis-reported: %v", err)
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	// Well-formed keys are generated here rather than kept as seed files, so
	// that no private key sits in the repository.
	ca := newTestCA(f, newTestClock(), "Fuzz")
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(keyPEM)
	f.Add(append(ca.CertPEM(), keyPEM...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseCertPEM(data); err != nil && !errors.Is(err, ErrBadPEM) {
			t.Fatalf("ParseCertPEM error %v does not wrap ErrBadPEM", err)
		}
		if _, err := ParseKeyPEM(data); err != nil && !errors.Is(err, ErrBadPEM) && !errors.Is(err, ErrUnsupportedKey) {
			t.Fatalf("ParseKeyPEM error %v", err)
		}
	})
}

// FuzzParseCSR: whatever the input, ParseCSR answers a CSR whose
// signature checks and whose key the site accepts, or an error wrapping
// ErrBadCSR.
func FuzzParseCSR(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseCSR(data)
		if err != nil {
			if !errors.Is(err, ErrBadCSR) {
				t.Fatalf("error %v does not wrap ErrBadCSR", err)
			}
			return
		}
		if req.CheckSignature() != nil {
			t.Fatal("accepted a CSR whose signature does not check")
		}
		if checkPublicKey(req.PublicKey) != nil {
			t.Fatal("accepted a key the site does not accept")
		}
	})
}
