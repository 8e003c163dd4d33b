package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is the person a console certificate identifies.
type User struct {
	Name string
	Role string
}

// Peer is a verified identity: the kind of certificate and the name it
// carries.
type Peer struct {
	Kind   Kind
	Cert   *x509.Certificate
	NodeID string   // set for KindNode
	Device DeviceID // set for KindDevice
	User   User     // set for KindUser
}

// identity returns the kind and name of the single custody: URI SAN.
func identity(cert *x509.Certificate) (Kind, string, error) {
	var (
		kind  Kind
		name  string
		found int
	)
	for _, u := range cert.URIs {
		if u.Scheme != uriScheme {
			continue
		}
		found++
		k, n, ok := strings.Cut(u.Opaque, ":")
		if !ok {
			return KindUnknown, "", fmt.Errorf("identity URI %q: %w", u, ErrWrongKind)
		}
		switch k {
		case KindNode.String():
			kind = KindNode
		case KindDevice.String():
			kind = KindDevice
		case KindUser.String():
			kind = KindUser
		default:
			return KindUnknown, "", fmt.Errorf("identity URI %q: %w", u, ErrWrongKind)
		}
		name = n
	}
	if found != 1 {
		return KindUnknown, "", fmt.Errorf("certificate %q has %d identity URIs: %w", cert.Subject.CommonName, found, ErrWrongKind)
	}
	if cert.IsCA {
		return KindUnknown, "", fmt.Errorf("certificate %q is a CA: %w", cert.Subject.CommonName, ErrWrongKind)
	}
	return kind, name, nil
}

func hasEKU(cert *x509.Certificate, want x509.ExtKeyUsage) bool {
	return slices.Contains(cert.ExtKeyUsage, want)
}

// DeviceIDFromCert returns the device id of a device certificate, derived
// from its public key, after checking that the certificate is a device
// certificate whose CN and URI SAN name that same id. It does not check who
// issued the certificate: use Verifier for trust decisions.
func DeviceIDFromCert(cert *x509.Certificate) (DeviceID, error) {
	if cert == nil {
		return DeviceID{}, ErrNoPeerCert
	}
	kind, name, err := identity(cert)
	if err != nil {
		return DeviceID{}, fmt.Errorf("%w: %w", ErrNotDeviceCert, err)
	}
	if kind != KindDevice || !hasEKU(cert, x509.ExtKeyUsageClientAuth) {
		return DeviceID{}, fmt.Errorf("%s certificate %q: %w", kind, cert.Subject.CommonName, ErrNotDeviceCert)
	}
	if err := checkPublicKey(cert.PublicKey); err != nil {
		return DeviceID{}, fmt.Errorf("%w: %w", ErrNotDeviceCert, err)
	}
	id := DeviceIDFromSPKI(cert.RawSubjectPublicKeyInfo)
	named, err := ParseDeviceID(name)
	if err != nil {
		return DeviceID{}, fmt.Errorf("URI SAN: %w: %w", ErrNotDeviceCert, err)
	}
	if named != id || cert.Subject.CommonName != id.String() {
		return DeviceID{}, fmt.Errorf("certificate names %s, key gives %s: %w", cert.Subject.CommonName, id, ErrDeviceIDMismatch)
	}
	return id, nil
}

// NodeIDFromCert returns the node id of a node certificate. Like
// DeviceIDFromCert it does not check the issuer.
func NodeIDFromCert(cert *x509.Certificate) (string, error) {
	kind, name, err := identity(cert)
	if err != nil {
		return "", err
	}
	if kind != KindNode || !hasEKU(cert, x509.ExtKeyUsageServerAuth) || !hasEKU(cert, x509.ExtKeyUsageClientAuth) {
		return "", fmt.Errorf("%s certificate %q is not a node certificate: %w", kind, cert.Subject.CommonName, ErrWrongKind)
	}
	if err := checkIdent("node id", name); err != nil || cert.Subject.CommonName != name {
		return "", fmt.Errorf("node certificate names %q and %q: %w", cert.Subject.CommonName, name, ErrWrongKind)
	}
	return name, nil
}

// UserFromCert returns the user of a console certificate. Like
// DeviceIDFromCert it does not check the issuer.
func UserFromCert(cert *x509.Certificate) (User, error) {
	kind, name, err := identity(cert)
	if err != nil {
		return User{}, err
	}
	if kind != KindUser || !hasEKU(cert, x509.ExtKeyUsageClientAuth) {
		return User{}, fmt.Errorf("%s certificate %q is not a user certificate: %w", kind, cert.Subject.CommonName, ErrWrongKind)
	}
	if len(cert.Subject.OrganizationalUnit) != 1 || cert.Subject.CommonName != name {
		return User{}, fmt.Errorf("user certificate %q has no single role: %w", name, ErrWrongKind)
	}
	u := User{Name: name, Role: cert.Subject.OrganizationalUnit[0]}
	if checkIdent("user name", u.Name) != nil || checkIdent("role", u.Role) != nil {
		return User{}, fmt.Errorf("user certificate %q: %w", name, ErrBadName)
	}
	return u, nil
}

// PeerFromCert classifies a leaf and extracts its identity without checking
// its issuer.
func PeerFromCert(cert *x509.Certificate) (Peer, error) {
	kind, _, err := identity(cert)
	if err != nil {
		return Peer{}, err
	}
	p := Peer{Kind: kind, Cert: cert}
	switch kind {
	case KindNode:
		p.NodeID, err = NodeIDFromCert(cert)
	case KindDevice:
		p.Device, err = DeviceIDFromCert(cert)
	case KindUser:
		p.User, err = UserFromCert(cert)
	}
	if err != nil {
		return Peer{}, err
	}
	return p, nil
}

// Verifier makes trust decisions about certificates presented to this site:
// issued by the site CA, within their validity period at the verifier's
// clock, not revoked, and of an accepted kind. It is safe for concurrent use.
type Verifier struct {
	ca      *x509.Certificate
	roots   *x509.CertPool
	revoked RevocationChecker
	now     func() time.Time
}

// NewVerifier returns a Verifier for the site CA certificate. revoked may be
// nil (nothing is revoked); when it is a DeviceRevocationChecker, device
// certificates are also refused by device id. now may be nil (time.Now).
func NewVerifier(caCert *x509.Certificate, revoked RevocationChecker, now func() time.Time) *Verifier {
	return &Verifier{ca: caCert, roots: poolOf(caCert), revoked: revoked, now: clockOrDefault(now)}
}

// Verify checks cert and returns its identity. When accept is not empty, the
// certificate's kind must be one of accept (ErrWrongKind otherwise).
// Refusals wrap ErrUnknownCA, ErrCertExpired, ErrCertNotYetValid,
// ErrRevoked, ErrWrongKind, ErrNotDeviceCert or ErrDeviceIDMismatch.
func (v *Verifier) Verify(cert *x509.Certificate, accept ...Kind) (Peer, error) {
	if cert == nil {
		return Peer{}, ErrNoPeerCert
	}
	// The site CA signs every leaf directly: the issuer must be the CA and
	// its signature must check. This refuses other CAs and forgeries that
	// copy the CA's name.
	if !sameName(cert.RawIssuer, v.ca.RawSubject) {
		return Peer{}, fmt.Errorf("certificate %q issued by %q: %w", cert.Subject.CommonName, cert.Issuer.String(), ErrUnknownCA)
	}
	if err := cert.CheckSignatureFrom(v.ca); err != nil {
		return Peer{}, fmt.Errorf("certificate %q: %w: %w", cert.Subject.CommonName, ErrUnknownCA, err)
	}
	now := v.now()
	for _, c := range []*x509.Certificate{cert, v.ca} {
		if now.Before(c.NotBefore) {
			return Peer{}, fmt.Errorf("certificate %q valid from %s: %w", c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), ErrCertNotYetValid)
		}
		if now.After(c.NotAfter) {
			return Peer{}, fmt.Errorf("certificate %q expired at %s: %w", c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339), ErrCertExpired)
		}
	}
	// The full x509 verification as well, for what the checks above do not
	// cover (unhandled critical extensions, path constraints).
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:       v.roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return Peer{}, fmt.Errorf("certificate %q: %w: %w", cert.Subject.CommonName, ErrUnknownCA, err)
	}
	if v.revoked != nil && v.revoked.IsRevoked(cert.SerialNumber) {
		return Peer{}, fmt.Errorf("certificate %q serial %s: %w", cert.Subject.CommonName, cert.SerialNumber.Text(16), ErrRevoked)
	}
	p, err := PeerFromCert(cert)
	if err != nil {
		return Peer{}, err
	}
	if dr, ok := v.revoked.(DeviceRevocationChecker); ok && p.Kind == KindDevice && dr.IsDeviceRevoked(p.Device) {
		return Peer{}, fmt.Errorf("device %s: %w", p.Device.Short(), ErrRevoked)
	}
	if len(accept) > 0 && !slices.Contains(accept, p.Kind) {
		return Peer{}, fmt.Errorf("%s certificate %q: %w", p.Kind, cert.Subject.CommonName, ErrWrongKind)
	}
	return p, nil
}

// VerifyConn verifies the peer certificate of a TLS connection (see Verify).
// It does not rely on the handshake's own verification, so it is correct
// whatever tls.Config accepted the connection.
func (v *Verifier) VerifyConn(cs tls.ConnectionState, accept ...Kind) (Peer, error) {
	if len(cs.PeerCertificates) == 0 {
		return Peer{}, ErrNoPeerCert
	}
	return v.Verify(cs.PeerCertificates[0], accept...)
}

// DeviceIDFromConn returns the device id of the peer of a TLS connection. It
// refuses a connection without a client certificate, a certificate not
// issued by the site CA, expired, revoked, or not a device certificate.
func (v *Verifier) DeviceIDFromConn(cs tls.ConnectionState) (DeviceID, error) {
	p, err := v.VerifyConn(cs, KindDevice)
	if err != nil {
		if errors.Is(err, ErrWrongKind) {
			return DeviceID{}, fmt.Errorf("%w: %w", ErrNotDeviceCert, err)
		}
		return DeviceID{}, err
	}
	return p.Device, nil
}

// CA returns the site CA certificate the verifier trusts.
func (v *Verifier) CA() *x509.Certificate { return v.ca }

func sameName(a, b []byte) bool { return string(a) == string(b) }
