package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Kind is what a leaf certificate identifies.
type Kind int

// Kinds of leaf certificate.
const (
	KindUnknown Kind = iota
	KindNode
	KindDevice
	KindUser
)

// String returns the kind's name as used in URI SANs.
func (k Kind) String() string {
	switch k {
	case KindNode:
		return "node"
	case KindDevice:
		return "device"
	case KindUser:
		return "user"
	default:
		return "unknown"
	}
}

// uriScheme is the scheme of the URI SAN that names a leaf's kind and identity.
const uriScheme = "custody"

// IdentityURI returns the URI SAN for a kind and name, for example
// custody:device:<id>.
func IdentityURI(k Kind, name string) *url.URL {
	return &url.URL{Scheme: uriScheme, Opaque: k.String() + ":" + name}
}

// Leaf is an issued certificate with its private key. Key is nil for a
// certificate signed for a key held elsewhere (a device CSR).
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// ParseLeaf parses a certificate and its key from PEM and checks that they
// belong together.
func ParseLeaf(certPEM, keyPEM []byte) (*Leaf, error) {
	cert, key, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// LoadLeaf reads a certificate file and its key file (PEM).
func LoadLeaf(certFile, keyFile string) (*Leaf, error) {
	cert, key, err := readPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// Save writes the certificate (mode 0644) and the key (mode 0600) as PEM,
// each atomically.
func (l *Leaf) Save(certFile, keyFile string) error {
	keyPEM, err := l.KeyPEM()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, l.CertPEM(), 0o644)
}

// CertPEM returns the certificate as PEM.
func (l *Leaf) CertPEM() []byte { return EncodeCertPEM(l.Cert) }

// KeyPEM returns the private key as PEM (PKCS#8).
func (l *Leaf) KeyPEM() ([]byte, error) {
	if l.Key == nil {
		return nil, fmt.Errorf("leaf has no private key: %w", ErrKeyMismatch)
	}
	return EncodeKeyPEM(l.Key)
}

// TLSCertificate returns the leaf as a tls.Certificate for tls.Config.
func (l *Leaf) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
}

// IssueOption adjusts a certificate being issued.
type IssueOption func(*issueOptions)

type issueOptions struct {
	validity time.Duration
}

// ValidFor sets the validity period of an issued certificate (the kind's
// default when d is not positive). It never extends past the CA's NotAfter.
func ValidFor(d time.Duration) IssueOption {
	return func(o *issueOptions) { o.validity = d }
}

// IssueNode issues a node certificate (server and client auth) with a new
// key. hosts are DNS names or IP addresses the node is reached at; they
// become SANs. The node id is the subject CN and the URI SAN custody:node:<id>.
func (ca *CA) IssueNode(nodeID string, hosts []string, opts ...IssueOption) (*Leaf, error) {
	if err := checkIdent("node id", nodeID); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     ca.leafSubject(nodeID, KindNode.String()),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{IdentityURI(KindNode, nodeID)},
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if err := checkHostname(h); err != nil {
			return nil, err
		}
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	return ca.issueWithNewKey(tmpl, DefaultNodeValidity, opts)
}

// IssueDevice issues a device certificate with a new key, for tests, demos
// and devices provisioned centrally. Handhelds normally enroll with a CSR
// (see Enroller) so that their key never leaves them.
func (ca *CA) IssueDevice(opts ...IssueOption) (*Leaf, DeviceID, error) {
	key, err := NewKey()
	if err != nil {
		return nil, DeviceID{}, err
	}
	cert, id, err := ca.SignDevice(key.Public(), opts...)
	if err != nil {
		return nil, DeviceID{}, err
	}
	return &Leaf{Cert: cert, Key: key}, id, nil
}

// SignDevice issues a device certificate (client auth only) for a public
// key. The device id derived from the key is the subject CN and the URI SAN
// custody:device:<id>.
func (ca *CA) SignDevice(pub crypto.PublicKey, opts ...IssueOption) (*x509.Certificate, DeviceID, error) {
	id, err := DeviceIDFromPublicKey(pub)
	if err != nil {
		return nil, DeviceID{}, err
	}
	tmpl := &x509.Certificate{
		Subject:     ca.leafSubject(id.String(), KindDevice.String()),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{IdentityURI(KindDevice, id.String())},
	}
	cert, err := ca.sign(tmpl, pub, DefaultDeviceValidity, opts)
	if err != nil {
		return nil, DeviceID{}, err
	}
	return cert, id, nil
}

// IssueUser issues a console certificate (client auth) for a person with a
// new key. The user name is the subject CN and the URI SAN
// custody:user:<name>; the role is the subject OU.
func (ca *CA) IssueUser(name, role string, opts ...IssueOption) (*Leaf, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.SignUser(key.Public(), name, role, opts...)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// SignUser issues a console certificate (client auth) for a person's
// public key, made where the person keeps it (see ParseCSR). The user
// name is the subject CN and the URI SAN custody:user:<name>; the role
// is the subject OU.
func (ca *CA) SignUser(pub crypto.PublicKey, name, role string, opts ...IssueOption) (*x509.Certificate, error) {
	if err := checkIdent("user name", name); err != nil {
		return nil, err
	}
	if err := checkIdent("role", role); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     ca.leafSubject(name, role),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{IdentityURI(KindUser, name)},
	}
	return ca.sign(tmpl, pub, DefaultUserValidity, opts)
}

func (ca *CA) leafSubject(cn, ou string) pkix.Name {
	return pkix.Name{
		CommonName:         cn,
		Organization:       []string{ca.SiteName()},
		OrganizationalUnit: []string{ou},
	}
}

func (ca *CA) issueWithNewKey(tmpl *x509.Certificate, validity time.Duration, opts []IssueOption) (*Leaf, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.sign(tmpl, key.Public(), validity, opts)
	if err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// sign fills in serial, validity and key usage, and signs tmpl for pub.
func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey, validity time.Duration, opts []IssueOption) (*x509.Certificate, error) {
	o := issueOptions{validity: validity}
	for _, opt := range opts {
		opt(&o)
	}
	if o.validity <= 0 {
		o.validity = validity
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	t := ca.now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = t.Add(-Backdate)
	tmpl.NotAfter = t.Add(o.validity)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign %s certificate: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse issued certificate: %w", err)
	}
	return cert, nil
}

// checkHostname accepts a DNS name of letters, digits, '-', '.', '_' and an
// optional leading "*." wildcard.
func checkHostname(h string) error {
	name := strings.TrimPrefix(h, "*.")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("host %q: %w", h, ErrBadName)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q: %w", h, ErrBadName)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
				return fmt.Errorf("host %q: %w", h, ErrBadName)
			}
		}
	}
	return nil
}
