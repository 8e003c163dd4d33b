package certs

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
)

// RevocationChecker answers whether a certificate serial number is revoked.
// The server implements it over its replicated state; RevocationList is the
// in-memory implementation. Implementations must be safe for concurrent use.
type RevocationChecker interface {
	IsRevoked(serial *big.Int) bool
}

// DeviceRevocationChecker is a RevocationChecker that also revokes devices
// by id. A device id is derived from the device's key, so revoking the id
// refuses every certificate ever issued for that key, including ones the
// site has no record of. Verifier consults it for device certificates.
type DeviceRevocationChecker interface {
	RevocationChecker
	IsDeviceRevoked(id DeviceID) bool
}

// RevocationFunc adapts a function to RevocationChecker.
type RevocationFunc func(serial *big.Int) bool

// IsRevoked calls f.
func (f RevocationFunc) IsRevoked(serial *big.Int) bool { return f(serial) }

// RevocationList is a set of revoked serial numbers, safe for concurrent use.
// It can be signed as an X.509 CRL (CA.CreateCRL) and read back (ParseCRL).
type RevocationList struct {
	mu      sync.RWMutex
	entries map[string]x509.RevocationListEntry
}

// NewRevocationList returns an empty list.
func NewRevocationList() *RevocationList {
	return &RevocationList{entries: make(map[string]x509.RevocationListEntry)}
}

// Revoke adds serial to the list, revoked at the given time for the given
// RFC 5280 reason code (0 unspecified, 1 key compromise, 4 superseded,
// 5 cessation of operation ...). Revoking a serial twice keeps the first entry.
func (l *RevocationList) Revoke(serial *big.Int, at time.Time, reason int) {
	if serial == nil {
		return
	}
	key := serial.Text(16)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.entries[key]; ok {
		return
	}
	l.entries[key] = x509.RevocationListEntry{
		SerialNumber:   new(big.Int).Set(serial),
		RevocationTime: at.UTC(),
		ReasonCode:     reason,
	}
}

// IsRevoked reports whether serial is on the list. A nil list revokes nothing.
func (l *RevocationList) IsRevoked(serial *big.Int) bool {
	if l == nil || serial == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.entries[serial.Text(16)]
	return ok
}

// Len returns the number of revoked serials.
func (l *RevocationList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}

// Entries returns the revocations ordered by serial number.
func (l *RevocationList) Entries() []x509.RevocationListEntry {
	l.mu.RLock()
	out := make([]x509.RevocationListEntry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, e)
	}
	l.mu.RUnlock()
	slices.SortFunc(out, func(a, b x509.RevocationListEntry) int { return a.SerialNumber.Cmp(b.SerialNumber) })
	return out
}

// CreateCRL signs the list as an X.509 CRL and returns it as PEM. number is
// the CRL number, which must grow with each CRL the site publishes;
// nextUpdate is how long the CRL is current (one week when not positive).
func (ca *CA) CreateCRL(l *RevocationList, number *big.Int, nextUpdate time.Duration) ([]byte, error) {
	if number == nil || number.Sign() < 0 {
		return nil, fmt.Errorf("CRL number must be non-negative: %w", ErrBadCRL)
	}
	if nextUpdate <= 0 {
		nextUpdate = 7 * 24 * time.Hour
	}
	t := ca.now()
	tmpl := &x509.RevocationList{
		RevokedCertificateEntries: l.Entries(),
		Number:                    number,
		ThisUpdate:                t,
		NextUpdate:                t.Add(nextUpdate),
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCRL, Bytes: der}), nil
}

// ParseCRL reads a CRL (PEM or DER), checks that the site CA signed it, and
// returns its entries as a RevocationList together with the parsed CRL (for
// its Number and NextUpdate). A CRL past its NextUpdate is still returned:
// the serials it lists stay revoked, and the caller decides about staleness.
func ParseCRL(data []byte, caCert *x509.Certificate) (*RevocationList, *x509.RevocationList, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != pemCRL {
			return nil, nil, fmt.Errorf("PEM block %q: %w", b.Type, ErrBadCRL)
		}
		der = b.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadCRL, err)
	}
	if err := crl.CheckSignatureFrom(caCert); err != nil {
		return nil, nil, fmt.Errorf("CRL not signed by the site CA: %w: %w", ErrBadCRL, err)
	}
	l := NewRevocationList()
	for _, e := range crl.RevokedCertificateEntries {
		l.Revoke(e.SerialNumber, e.RevocationTime, e.ReasonCode)
	}
	return l, crl, nil
}
