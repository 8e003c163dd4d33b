package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// Validity periods used when none is given.
const (
	DefaultCAValidity     = 10 * 365 * 24 * time.Hour
	DefaultNodeValidity   = 2 * 365 * 24 * time.Hour
	DefaultDeviceValidity = 2 * 365 * 24 * time.Hour
	DefaultUserValidity   = 365 * 24 * time.Hour
	// Backdate is subtracted from NotBefore of every certificate so that a
	// handheld whose clock runs a little behind still accepts it.
	Backdate = time.Hour
)

const caCommonName = "Custody site CA"

// CA is the site certificate authority: its certificate, its private key and
// the clock it stamps certificates with. It is safe for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	now  func() time.Time
}

// CAConfig describes a new site CA.
type CAConfig struct {
	// SiteName is the human name of the site; it becomes the subject O.
	SiteName string
	// ClusterID identifies the site cluster; it becomes the subject OU. A
	// random id is generated when empty.
	ClusterID string
	// Validity of the CA certificate; DefaultCAValidity when zero.
	Validity time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewCA creates a site CA with a fresh ECDSA P-256 key.
func NewCA(cfg CAConfig) (*CA, error) {
	if err := checkSiteName(cfg.SiteName); err != nil {
		return nil, err
	}
	if cfg.ClusterID == "" {
		id, err := NewClusterID()
		if err != nil {
			return nil, err
		}
		cfg.ClusterID = id
	}
	if err := checkIdent("cluster id", cfg.ClusterID); err != nil {
		return nil, err
	}
	if cfg.Validity <= 0 {
		cfg.Validity = DefaultCAValidity
	}
	now := clockOrDefault(cfg.Now)
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	t := now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         caCommonName,
			Organization:       []string{cfg.SiteName},
			OrganizationalUnit: []string{cfg.ClusterID},
		},
		NotBefore:             t.Add(-Backdate),
		NotAfter:              t.Add(cfg.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, now: now}, nil
}

// ParseCA parses a CA certificate and its private key from PEM and checks
// that they belong together. now is the clock used for issuing (time.Now when nil).
func ParseCA(certPEM, keyPEM []byte, now func() time.Time) (*CA, error) {
	cert, key, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("site CA: %w", err)
	}
	if err := checkCACert(cert); err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, now: clockOrDefault(now)}, nil
}

// LoadCA reads a CA certificate file and its key file (PEM).
func LoadCA(certFile, keyFile string, now func() time.Time) (*CA, error) {
	cert, key, err := readPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("site CA: %w", err)
	}
	if err := checkCACert(cert); err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, now: clockOrDefault(now)}, nil
}

// LoadCACert reads a CA certificate file (PEM) for nodes and devices that
// trust the site CA without holding its key.
func LoadCACert(certFile string) (*x509.Certificate, error) {
	data, err := readFile(certFile)
	if err != nil {
		return nil, err
	}
	cert, err := ParseCertPEM(data)
	if err != nil {
		return nil, fmt.Errorf("site CA: %w", err)
	}
	if err := checkCACert(cert); err != nil {
		return nil, err
	}
	return cert, nil
}

func checkCACert(cert *x509.Certificate) error {
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("certificate %q: %w", cert.Subject.CommonName, ErrNotCA)
	}
	site, cluster := SiteOf(cert)
	if checkSiteName(site) != nil || checkIdent("cluster id", cluster) != nil {
		return fmt.Errorf("CA subject lacks site name or cluster id: %w", ErrNotCA)
	}
	return nil
}

// Save writes the certificate (mode 0644) and the key (mode 0600) as PEM,
// each atomically.
func (ca *CA) Save(certFile, keyFile string) error {
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, ca.CertPEM(), 0o644)
}

// Cert returns the CA certificate.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// CertPEM returns the CA certificate as PEM.
func (ca *CA) CertPEM() []byte { return EncodeCertPEM(ca.cert) }

// KeyPEM returns the CA private key as PEM (PKCS#8).
func (ca *CA) KeyPEM() ([]byte, error) { return EncodeKeyPEM(ca.key) }

// Pool returns a certificate pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool { return poolOf(ca.cert) }

// SiteName returns the site name from the CA subject.
func (ca *CA) SiteName() string { s, _ := SiteOf(ca.cert); return s }

// ClusterID returns the cluster id from the CA subject.
func (ca *CA) ClusterID() string { _, c := SiteOf(ca.cert); return c }

// Now returns the CA's current time.
func (ca *CA) Now() time.Time { return ca.now() }

// SiteOf returns the site name and cluster id recorded in a site CA's subject.
func SiteOf(caCert *x509.Certificate) (siteName, clusterID string) {
	if len(caCert.Subject.Organization) == 1 {
		siteName = caCert.Subject.Organization[0]
	}
	if len(caCert.Subject.OrganizationalUnit) == 1 {
		clusterID = caCert.Subject.OrganizationalUnit[0]
	}
	return siteName, clusterID
}

func poolOf(cert *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(cert)
	return p
}

func clockOrDefault(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
