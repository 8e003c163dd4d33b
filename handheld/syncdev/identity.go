package syncdev

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/sync/client"
)

// Files of an enrolled device's identity, in its data directory. The key
// is made on the device and never leaves it.
const (
	DeviceKeyFile  = "device-key.pem" // PKCS#8, mode 0600
	DeviceCertFile = "device.pem"     // the device certificate the site issued
	SiteCAFile     = "site-ca.pem"    // the site CA the device trusts
)

// Identity is an enrolled device: its key and certificate, and the site
// CA it trusts. The device id is derived from the key.
type Identity struct {
	Leaf   *certs.Leaf
	CA     *x509.Certificate
	Device certs.DeviceID
}

// LoadIdentity reads the identity kept in dir. It returns ErrNoIdentity
// when dir holds no certificate (a device that was never enrolled, or
// whose enrollment did not finish: Save writes the certificate last),
// and ErrIdentity when the files are damaged, missing beside the
// certificate or do not belong together.
func LoadIdentity(dir string) (*Identity, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, DeviceCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoIdentity
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, DeviceKeyFile))
	if err != nil {
		return nil, fmt.Errorf("%w: key: %v", ErrIdentity, err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, SiteCAFile))
	if err != nil {
		return nil, fmt.Errorf("%w: site CA: %v", ErrIdentity, err)
	}
	return parseIdentity(certPEM, keyPEM, caPEM)
}

func parseIdentity(certPEM, keyPEM, caPEM []byte) (*Identity, error) {
	leaf, err := certs.ParseLeaf(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	ca, err := certs.ParseCertPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: site CA: %v", ErrIdentity, err)
	}
	if !ca.IsCA {
		return nil, fmt.Errorf("%w: %s is not a CA certificate", ErrIdentity, SiteCAFile)
	}
	if err := leaf.Cert.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("%w: the device certificate was not issued by the site CA: %v", ErrIdentity, err)
	}
	id, err := certs.DeviceIDFromCert(leaf.Cert)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return &Identity{Leaf: leaf, CA: ca, Device: id}, nil
}

// TLSConfig is the client side of mutual TLS with the site: it presents
// the device certificate and accepts any node of the site's CA.
func (id *Identity) TLSConfig() *tls.Config {
	return certs.ClientTLS(id.CA, id.Leaf.TLSCertificate(), "")
}

// Save writes the identity into dir, each file atomically: the site CA,
// the key (0600), then the certificate, whose presence marks a finished
// enrollment (LoadIdentity). The directory is synced before the
// certificate is written and after, so after a crash a certificate is
// never there without the files it needs, and a finished enrollment
// stays finished.
func (id *Identity) Save(dir string) error {
	keyPEM, err := id.Leaf.KeyPEM()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	if err := writeAtomic(filepath.Join(dir, SiteCAFile), certs.EncodeCertPEM(id.CA), 0o644); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, DeviceKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, DeviceCertFile), id.Leaf.CertPEM(), 0o644); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the renames into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: sync %s: %v", ErrIdentity, dir, err)
	}
	return nil
}

// unfinished reports whether dir holds what an enrollment that did not
// finish leaves: the device's key, with the certificate or the site CA
// missing. Enroll takes it up again with that key (LoadIdentity calls
// such a dir damaged when the certificate is there, as a Save before
// the certificate-last order could leave it).
func unfinished(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, DeviceKeyFile)); err != nil {
		return false
	}
	for _, f := range []string{DeviceCertFile, SiteCAFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return nil
}

// EnrollConfig is what a handheld needs to enroll.
type EnrollConfig struct {
	// Server is the site's API, https://host:port.
	Server string
	// Token is the one-time enrollment token an admin minted.
	Token string
	// CAFingerprint pins the site CA (hex SHA-256 of its certificate, as
	// custodyctl devices token prints it); the device fetches the CA
	// from the site and checks it. CA, when set, is the site CA itself
	// (then the fingerprint, if also given, must match it).
	CAFingerprint string
	CA            *x509.Certificate
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
}

// enrollRequest and enrollAnswer are the site's /api/v1/enroll.
type enrollRequest struct {
	Token string `json:"token"`
	CSR   string `json:"csr"`
}

type enrollAnswer struct {
	Device      string `json:"device"`
	Certificate string `json:"certificate"`
	CA          string `json:"ca"`
}

// Enroll makes the device's key (or reuses the one an interrupted
// enrollment left in dir, whatever else of the identity it wrote), asks
// the site for a certificate with the token, checks the answer against
// the pinned CA and stores the identity in dir. The token is sent only
// to a server that proves it is a node of the pinned CA. A dir that
// already holds an identity is refused (ErrEnrolled), one whose files
// are damaged too (ErrIdentity): its key is never replaced.
func Enroll(ctx context.Context, dir string, cfg EnrollConfig) (*Identity, error) {
	if !strings.HasPrefix(cfg.Server, "https://") {
		return nil, fmt.Errorf("%w: the server must be an https:// URL (the site runs with --tls)", ErrEnroll)
	}
	if cfg.CA == nil && cfg.CAFingerprint == "" {
		return nil, fmt.Errorf("%w: pin the site CA with its fingerprint or its certificate", ErrEnroll)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	switch _, err := LoadIdentity(dir); {
	case err == nil:
		return nil, fmt.Errorf("%w: %s already holds a device certificate", ErrEnrolled, dir)
	case errors.Is(err, ErrNoIdentity), unfinished(dir):
	default:
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	key, err := deviceKey(dir)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(cfg.Server, "/")
	ca := cfg.CA
	if ca == nil {
		if ca, err = fetchCA(ctx, base, cfg.Timeout); err != nil {
			return nil, err
		}
	}
	if cfg.CAFingerprint != "" && !strings.EqualFold(strings.ReplaceAll(cfg.CAFingerprint, ":", ""), certs.Fingerprint(ca)) {
		return nil, fmt.Errorf("%w: the site's CA has fingerprint %s, not the %s you were given: %w",
			ErrEnroll, certs.Fingerprint(ca), cfg.CAFingerprint, certs.ErrUnknownCA)
	}
	csr, _, err := certs.NewDeviceCSR(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	body, _ := json.Marshal(enrollRequest{Token: cfg.Token, CSR: string(csr)})
	hc := &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{TLSClientConfig: certs.ClientTLS(ca, tls.Certificate{}, "")}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: the site refused: %s", ErrEnroll, client.RefusalText(resp.StatusCode, b))
	}
	var ans enrollAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("%w: the site's answer: %v", ErrEnroll, err)
	}
	leaf, gotCA, err := certs.AcceptEnrollment(key, []byte(ans.Certificate), []byte(ans.CA), certs.Fingerprint(ca), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: the site's answer: %w", ErrEnroll, err)
	}
	id, err := certs.DeviceIDFromCert(leaf.Cert)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnroll, err)
	}
	ident := &Identity{Leaf: leaf, CA: gotCA, Device: id}
	if err := ident.Save(dir); err != nil {
		return nil, err
	}
	return ident, nil
}

// deviceKey returns the key an earlier, unfinished enrollment left in
// dir, or makes and stores a new one.
func deviceKey(dir string) (crypto.Signer, error) {
	path := filepath.Join(dir, DeviceKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := certs.ParseKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrIdentity, DeviceKeyFile, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	key, err := certs.NewKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	pem, err := certs.EncodeKeyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	if err := writeAtomic(path, pem, 0o600); err != nil {
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return key, nil
}

// fetchCA fetches the site CA certificate. The connection is not
// authenticated: the certificate is trusted only once its fingerprint
// matches the pinned one, and nothing secret is sent before that.
func fetchCA(ctx context.Context, base string, timeout time.Duration) (*x509.Certificate, error) {
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // the CA fetched is checked against the pinned fingerprint
	}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/ca", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnroll, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetch the site CA: %v", ErrEnroll, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w: fetch the site CA: %v", ErrEnroll, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetch the site CA: %s", ErrEnroll, client.RefusalText(resp.StatusCode, b))
	}
	ca, err := certs.ParseCertPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%w: the site's CA: %w", ErrEnroll, err)
	}
	return ca, nil
}
