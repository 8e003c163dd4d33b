package syncdev_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/handheld/syncdev"
)

// enrollSite is a site's enrollment endpoints at the protocol seam: the
// CA certificate and /api/v1/enroll over a certs.Enroller, served over
// real TLS on loopback with a node certificate of the site CA.
type enrollSite struct {
	url      string
	ca       *certs.CA
	enroller *certs.Enroller
	enrolls  atomic.Int32 // enrollment requests received
}

func startEnrollSite(t *testing.T) *enrollSite {
	t.Helper()
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "hh-test"})
	if err != nil {
		t.Fatal(err)
	}
	return startEnrollSiteWith(t, ca, ca)
}

// startEnrollSiteWith serves with a node certificate of serving while
// enrolling with ca (they differ for an impostor).
func startEnrollSiteWith(t *testing.T, ca, serving *certs.CA) *enrollSite {
	t.Helper()
	node, err := serving.IssueNode("n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &enrollSite{ca: ca, enroller: certs.NewEnroller(ca, certs.NewMemoryTokenStore(), nil)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ca", func(w http.ResponseWriter, r *http.Request) { w.Write(serving.CertPEM()) })
	mux.HandleFunc("POST /api/v1/enroll", func(w http.ResponseWriter, r *http.Request) {
		s.enrolls.Add(1)
		var req struct{ Token, CSR string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
			return
		}
		e, err := s.enroller.Enroll(r.Context(), req.Token, []byte(req.CSR))
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error(), "code": "forbidden"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"device": e.Device.String(), "certificate": string(e.CertPEM()), "ca": string(e.CACertPEM())})
	})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(tls.NewListener(raw, certs.ServerTLS(serving.Cert(), node.TLSCertificate(), nil, certs.AllowNoClientCert())))
	t.Cleanup(func() { srv.Close() })
	s.url = "https://" + raw.Addr().String()
	return s
}

func (s *enrollSite) token(t *testing.T) string {
	t.Helper()
	tok, _, err := s.enroller.NewToken(context.Background(), time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEnroll(t *testing.T) {
	site := startEnrollSite(t)
	fp := certs.Fingerprint(site.ca.Cert())
	dir := filepath.Join(t.TempDir(), "hh")
	if _, err := syncdev.LoadIdentity(dir); !errors.Is(err, syncdev.ErrNoIdentity) {
		t.Fatalf("fresh dir: %v", err)
	}
	tok := site.token(t)
	id, err := syncdev.Enroll(context.Background(), dir, syncdev.EnrollConfig{Server: site.url, Token: tok, CAFingerprint: strings.ToUpper(fp)})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, syncdev.DeviceKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	again, err := syncdev.LoadIdentity(dir)
	if err != nil || again.Device != id.Device || certs.Fingerprint(again.CA) != fp {
		t.Fatalf("reloaded identity %v: %v", again, err)
	}
	if _, err := certs.NewVerifier(site.ca.Cert(), nil, nil).Verify(again.Leaf.Cert, certs.KindDevice); err != nil {
		t.Fatalf("the stored certificate: %v", err)
	}
	// The TLS configuration presents the certificate to a node of the site.
	cfg := again.TLSConfig()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(site.url, "https://"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Handshake(); err != nil || len(conn.ConnectionState().PeerCertificates) == 0 {
		t.Fatalf("handshake: %v", err)
	}
	conn.Close()

	// Enrolling the same dir again would replace the key: refused.
	if _, err := syncdev.Enroll(context.Background(), dir, syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CAFingerprint: fp}); !errors.Is(err, syncdev.ErrEnrolled) {
		t.Fatalf("second enrollment: %v", err)
	}
	// Another device with the used token: the site's reason comes back.
	_, err = syncdev.Enroll(context.Background(), t.TempDir(), syncdev.EnrollConfig{Server: site.url, Token: tok, CAFingerprint: fp})
	if !errors.Is(err, syncdev.ErrEnroll) || !strings.Contains(err.Error(), "already used") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("reused token: %v", err)
	}
}

// TestEnrollChecksTheSiteFirst: the token goes only to a node of the
// pinned CA.
func TestEnrollChecksTheSiteFirst(t *testing.T) {
	site := startEnrollSite(t)
	fp := certs.Fingerprint(site.ca.Cert())
	other, err := certs.NewCA(certs.CAConfig{SiteName: "impostor"})
	if err != nil {
		t.Fatal(err)
	}
	impostor := startEnrollSiteWith(t, site.ca, other)
	for _, tc := range []struct {
		name string
		site *enrollSite
		cfg  syncdev.EnrollConfig
	}{
		{"wrong fingerprint", site, syncdev.EnrollConfig{CAFingerprint: certs.Fingerprint(other.Cert())}},
		{"impostor's CA", impostor, syncdev.EnrollConfig{CAFingerprint: fp}},
		{"pinned CA, impostor's node", impostor, syncdev.EnrollConfig{CA: site.ca.Cert()}},
		{"CA and a fingerprint that disagree", site, syncdev.EnrollConfig{CA: site.ca.Cert(), CAFingerprint: certs.Fingerprint(other.Cert())}},
	} {
		tc.cfg.Server, tc.cfg.Token = tc.site.url, site.token(t)
		before := tc.site.enrolls.Load()
		if _, err := syncdev.Enroll(context.Background(), t.TempDir(), tc.cfg); !errors.Is(err, syncdev.ErrEnroll) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.site.enrolls.Load() != before {
			t.Errorf("%s: the token was sent", tc.name)
		}
	}
	for _, cfg := range []syncdev.EnrollConfig{
		{Server: "http://" + strings.TrimPrefix(site.url, "https://"), Token: "t", CAFingerprint: fp},
		{Server: site.url, Token: "t"},
	} {
		if _, err := syncdev.Enroll(context.Background(), t.TempDir(), cfg); !errors.Is(err, syncdev.ErrEnroll) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	// With the CA itself, nothing is fetched before the enrollment.
	if _, err := syncdev.Enroll(context.Background(), t.TempDir(), syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CA: site.ca.Cert()}); err != nil {
		t.Fatal(err)
	}
}

// TestEnrollResumesWithItsKey: a key left by an enrollment that did not
// finish is the one the next attempt uses, so the device keeps its id.
func TestEnrollResumesWithItsKey(t *testing.T) {
	site := startEnrollSite(t)
	fp := certs.Fingerprint(site.ca.Cert())
	dir := t.TempDir()
	if _, err := syncdev.Enroll(context.Background(), dir, syncdev.EnrollConfig{Server: site.url, Token: "AAAA", CAFingerprint: fp}); !errors.Is(err, syncdev.ErrEnroll) {
		t.Fatalf("bad token: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, syncdev.DeviceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	key, err := certs.ParseKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := certs.DeviceIDFromPublicKey(key.Public())
	id, err := syncdev.Enroll(context.Background(), dir, syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CAFingerprint: fp})
	if err != nil || id.Device != want {
		t.Fatalf("resumed enrollment: %v, device %v want %v", err, id, want)
	}
}

// TestEnrollAfterACrash: whatever part of an identity a crash left, the
// next enrollment either finishes it with the key already made (the
// device keeps its id) or, with no key to keep, starts afresh; a
// certificate without its key is damage, never replaced.
func TestEnrollAfterACrash(t *testing.T) {
	site := startEnrollSite(t)
	fp := certs.Fingerprint(site.ca.Cert())
	done := t.TempDir()
	first, err := syncdev.Enroll(context.Background(), done, syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CAFingerprint: fp})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		files   []string
		load    error // LoadIdentity before enrolling
		sameKey bool  // Enroll keeps the key left (else: it refuses, or makes one)
		refused error
	}{
		{"nothing", nil, syncdev.ErrNoIdentity, false, nil},
		{"the CA", []string{syncdev.SiteCAFile}, syncdev.ErrNoIdentity, false, nil},
		{"the CA and the key", []string{syncdev.SiteCAFile, syncdev.DeviceKeyFile}, syncdev.ErrNoIdentity, true, nil},
		{"the key", []string{syncdev.DeviceKeyFile}, syncdev.ErrNoIdentity, true, nil},
		// What the key, certificate, CA order could leave.
		{"the key and the certificate", []string{syncdev.DeviceKeyFile, syncdev.DeviceCertFile}, syncdev.ErrIdentity, true, nil},
		{"the certificate without its key", []string{syncdev.DeviceCertFile, syncdev.SiteCAFile}, syncdev.ErrIdentity, false, syncdev.ErrIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				if err := copyFile(filepath.Join(done, f), filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := syncdev.LoadIdentity(dir); !errors.Is(err, tc.load) {
				t.Fatalf("LoadIdentity: %v, want %v", err, tc.load)
			}
			id, err := syncdev.Enroll(context.Background(), dir, syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CAFingerprint: fp})
			if tc.refused != nil {
				if !errors.Is(err, tc.refused) {
					t.Fatalf("Enroll: %v, want %v", err, tc.refused)
				}
				if _, err := os.Stat(filepath.Join(dir, syncdev.DeviceKeyFile)); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a key was made beside the certificate: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Enroll: %v", err)
			}
			if (id.Device == first.Device) != tc.sameKey {
				t.Fatalf("device %s after the crash, %s before", id.Device, first.Device)
			}
			again, err := syncdev.LoadIdentity(dir)
			if err != nil || again.Device != id.Device {
				t.Fatalf("the finished identity: %v", err)
			}
		})
	}
}

// TestSaveWritesTheCertificateLast: a Save cut short before the
// certificate leaves the CA and the key, which the next enrollment uses.
func TestSaveWritesTheCertificateLast(t *testing.T) {
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "hh-test"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, dev, err := ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A directory where the certificate goes: its rename fails.
	if err := os.MkdirAll(filepath.Join(dir, syncdev.DeviceCertFile, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	id := &syncdev.Identity{Leaf: leaf, CA: ca.Cert(), Device: dev}
	if err := id.Save(dir); !errors.Is(err, syncdev.ErrIdentity) {
		t.Fatalf("Save over a directory: %v", err)
	}
	for _, f := range []string{syncdev.SiteCAFile, syncdev.DeviceKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written before the certificate: %v", f, err)
		}
	}
	ok := t.TempDir()
	if err := id.Save(ok); err != nil {
		t.Fatal(err)
	}
	if got, err := syncdev.LoadIdentity(ok); err != nil || got.Device != dev {
		t.Fatalf("saved identity: %v", err)
	}
}

func TestLoadIdentityRefusesMismatchedFiles(t *testing.T) {
	site := startEnrollSite(t)
	fp := certs.Fingerprint(site.ca.Cert())
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if _, err := syncdev.Enroll(context.Background(), d, syncdev.EnrollConfig{Server: site.url, Token: site.token(t), CAFingerprint: fp}); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := certs.NewCA(certs.CAConfig{SiteName: "other"})
	for name, mutate := range map[string]func(dir string) error{
		"another device's key": func(dir string) error {
			return copyFile(filepath.Join(b, syncdev.DeviceKeyFile), filepath.Join(dir, syncdev.DeviceKeyFile))
		},
		"another CA": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, syncdev.SiteCAFile), other.CertPEM(), 0o644)
		},
		"key missing": func(dir string) error { return os.Remove(filepath.Join(dir, syncdev.DeviceKeyFile)) },
		"garbage certificate": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, syncdev.DeviceCertFile), []byte("x"), 0o644)
		},
	} {
		dir := t.TempDir()
		for _, f := range []string{syncdev.DeviceKeyFile, syncdev.DeviceCertFile, syncdev.SiteCAFile} {
			if err := copyFile(filepath.Join(a, f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		if err := mutate(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := syncdev.LoadIdentity(dir); !errors.Is(err, syncdev.ErrIdentity) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// FuzzLoadIdentity: whatever the identity files hold, reading them
// never panics, and what loads names the device its key gives.
func FuzzLoadIdentity(f *testing.F) {
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	leaf, _, err := ca.IssueDevice()
	if err != nil {
		f.Fatal(err)
	}
	keyPEM, _ := leaf.KeyPEM()
	f.Add(leaf.CertPEM(), keyPEM, ca.CertPEM())
	f.Add(ca.CertPEM(), keyPEM, leaf.CertPEM())
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, certPEM, keyPEM, caPEM []byte) {
		id, err := syncdev.ParseIdentity(certPEM, keyPEM, caPEM)
		if err != nil {
			if !errors.Is(err, syncdev.ErrIdentity) {
				t.Fatalf("error outside ErrIdentity: %v", err)
			}
			return
		}
		want, err := certs.DeviceIDFromPublicKey(id.Leaf.Key.Public())
		if err != nil || want != id.Device {
			t.Fatalf("identity names %s, key gives %s (%v)", id.Device, want, err)
		}
	})
}
