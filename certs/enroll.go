package certs

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultTokenTTL is how long an enrollment token is valid when no TTL is given.
const DefaultTokenTTL = 24 * time.Hour

const (
	tokenBytes = 32
	tokenLen   = 52 // unpadded base32 characters of tokenBytes
)

// TokenHash is the SHA-256 of an enrollment token's raw bytes. Only the hash
// is stored, so a copy of the store does not let anyone enroll.
type TokenHash [sha256.Size]byte

// TokenRecord is what a TokenStore keeps about one enrollment token.
type TokenRecord struct {
	Hash      TokenHash
	Label     string    // what the token is for, e.g. "goods-in handheld 4"; not secret
	CreatedAt time.Time // when it was made
	ExpiresAt time.Time // it is refused from this instant on
	UsedAt    time.Time // zero until used
	Device    DeviceID  // the device that used it; zero until used
}

// Usable reports why the token cannot be used at now (ErrTokenUsed or
// ErrTokenExpired), or nil. It is deterministic so that a replicated store
// can call it when applying a command stamped with the proposer's time.
func (r TokenRecord) Usable(now time.Time) error {
	if !r.UsedAt.IsZero() {
		return fmt.Errorf("token used at %s by %s: %w", r.UsedAt.UTC().Format(time.RFC3339), r.Device.Short(), ErrTokenUsed)
	}
	if !now.Before(r.ExpiresAt) {
		return fmt.Errorf("token expired at %s: %w", r.ExpiresAt.UTC().Format(time.RFC3339), ErrTokenExpired)
	}
	return nil
}

// TokenStore keeps enrollment tokens by hash. The site server implements it
// over its replicated state; MemoryTokenStore serves tests and a single
// process. Implementations must be safe for concurrent use.
type TokenStore interface {
	// Put stores a new record. It returns ErrTokenExists if the hash is
	// already stored.
	Put(ctx context.Context, rec TokenRecord) error
	// Consume marks the token used by device at now and returns the updated
	// record, atomically: of two concurrent calls for one token exactly one
	// succeeds. It returns ErrTokenUnknown, ErrTokenUsed or ErrTokenExpired
	// (see TokenRecord.Usable) and changes nothing in those cases.
	Consume(ctx context.Context, hash TokenHash, now time.Time, device DeviceID) (TokenRecord, error)
}

// MemoryTokenStore is an in-memory TokenStore.
type MemoryTokenStore struct {
	mu      sync.Mutex
	records map[TokenHash]TokenRecord
}

// NewMemoryTokenStore returns an empty store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{records: make(map[TokenHash]TokenRecord)}
}

// Put implements TokenStore.
func (s *MemoryTokenStore) Put(ctx context.Context, rec TokenRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[rec.Hash]; ok {
		return ErrTokenExists
	}
	s.records[rec.Hash] = rec
	return nil
}

// Consume implements TokenStore.
func (s *MemoryTokenStore) Consume(ctx context.Context, hash TokenHash, now time.Time, device DeviceID) (TokenRecord, error) {
	if err := ctx.Err(); err != nil {
		return TokenRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[hash]
	if !ok {
		return TokenRecord{}, ErrTokenUnknown
	}
	if err := rec.Usable(now); err != nil {
		return TokenRecord{}, err
	}
	rec.UsedAt = now
	rec.Device = device
	s.records[hash] = rec
	return rec, nil
}

// Get returns the record for hash.
func (s *MemoryTokenStore) Get(hash TokenHash) (TokenRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[hash]
	return rec, ok
}

// Purge removes records whose expiry is before now and returns how many it
// removed. A purged token is then refused as unknown rather than expired.
func (s *MemoryTokenStore) Purge(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for h, rec := range s.records {
		if rec.ExpiresAt.Before(now) {
			delete(s.records, h)
			n++
		}
	}
	return n
}

func tokenEncoding() *base32.Encoding {
	return base32.StdEncoding.WithPadding(base32.NoPadding)
}

// ParseToken checks the text of an enrollment token (case-insensitive;
// dashes and spaces ignored) and returns its hash.
func ParseToken(s string) (TokenHash, error) {
	if len(s) > 2*tokenLen {
		return TokenHash{}, fmt.Errorf("token of %d characters: %w", len(s), ErrTokenMalformed)
	}
	b := make([]byte, 0, tokenLen)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 0x80:
			return TokenHash{}, fmt.Errorf("token has a non-ASCII byte at %d: %w", i, ErrTokenMalformed)
		}
		b = append(b, c)
	}
	clean := string(b)
	if len(clean) != tokenLen {
		return TokenHash{}, fmt.Errorf("token has %d characters, want %d: %w", len(clean), tokenLen, ErrTokenMalformed)
	}
	raw, err := tokenEncoding().DecodeString(clean)
	if err != nil || len(raw) != tokenBytes || tokenEncoding().EncodeToString(raw) != clean {
		return TokenHash{}, fmt.Errorf("token is not base32: %w", ErrTokenMalformed)
	}
	return TokenHash(sha256.Sum256(raw)), nil
}

// Enrollment is the result of a successful enrollment: the device's new
// certificate and the CA certificate it chains to.
type Enrollment struct {
	Device DeviceID
	Cert   *x509.Certificate
	CACert *x509.Certificate
	Token  TokenRecord
}

// CertPEM returns the device certificate as PEM.
func (e *Enrollment) CertPEM() []byte { return EncodeCertPEM(e.Cert) }

// CACertPEM returns the CA certificate as PEM.
func (e *Enrollment) CACertPEM() []byte { return EncodeCertPEM(e.CACert) }

// Enroller admits new handhelds: it makes one-time tokens and exchanges a
// token and a CSR for a device certificate.
type Enroller struct {
	ca    *CA
	store TokenStore
	now   func() time.Time
	opts  []IssueOption
}

// NewEnroller returns an Enroller issuing with ca and keeping tokens in
// store. now is the clock for token expiry (time.Now when nil); opts apply
// to the device certificates issued.
func NewEnroller(ca *CA, store TokenStore, now func() time.Time, opts ...IssueOption) *Enroller {
	return &Enroller{ca: ca, store: store, now: clockOrDefault(now), opts: opts}
}

// NewToken makes a random one-time token valid for ttl (DefaultTokenTTL when
// not positive), stores its hash, and returns the token text, which is shown
// once and never stored.
func (e *Enroller) NewToken(ctx context.Context, ttl time.Duration, label string) (string, TokenRecord, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", TokenRecord{}, fmt.Errorf("token: %w", err)
	}
	now := e.now()
	rec := TokenRecord{
		Hash:      TokenHash(sha256.Sum256(raw[:])),
		Label:     label,
		CreatedAt: now,
		ExpiresAt: now.Add(ttl),
	}
	if err := e.store.Put(ctx, rec); err != nil {
		return "", TokenRecord{}, fmt.Errorf("store token: %w", err)
	}
	return tokenEncoding().EncodeToString(raw[:]), rec, nil
}

// Enroll checks the token and the CSR (PEM or DER) and issues a device
// certificate for the CSR's key. The CSR is checked before the token is
// consumed, so a bad CSR does not use up the token. Errors wrap
// ErrTokenMalformed, ErrBadCSR, ErrTokenUnknown, ErrTokenUsed or
// ErrTokenExpired.
func (e *Enroller) Enroll(ctx context.Context, token string, csr []byte) (*Enrollment, error) {
	hash, err := ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	req, id, err := ParseDeviceCSR(csr)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	rec, err := e.store.Consume(ctx, hash, e.now(), id)
	if err != nil {
		return nil, fmt.Errorf("enroll %s: %w", id.Short(), err)
	}
	cert, signed, err := e.ca.SignDevice(req.PublicKey, e.opts...)
	if err != nil {
		return nil, fmt.Errorf("enroll %s: %w", id.Short(), err)
	}
	if signed != id {
		return nil, fmt.Errorf("enroll %s: %w", id.Short(), ErrDeviceIDMismatch)
	}
	return &Enrollment{Device: id, Cert: cert, CACert: e.ca.Cert(), Token: rec}, nil
}

// NewDeviceCSR returns a PEM certificate signing request for a device key,
// with the key's device id as subject CN, and that id.
func NewDeviceCSR(key crypto.Signer) ([]byte, DeviceID, error) {
	id, err := DeviceIDFromPublicKey(key.Public())
	if err != nil {
		return nil, DeviceID{}, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: id.String()},
	}, key)
	if err != nil {
		return nil, DeviceID{}, fmt.Errorf("create CSR: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCSR, Bytes: der}), id, nil
}

// ParseDeviceCSR parses a device CSR (PEM or DER), checks its self-signature
// and key type, and returns it with the device id of its key. A subject CN,
// when present, must be that device id.
func ParseDeviceCSR(data []byte) (*x509.CertificateRequest, DeviceID, error) {
	req, err := ParseCSR(data)
	if err != nil {
		return nil, DeviceID{}, err
	}
	id, err := DeviceIDFromPublicKey(req.PublicKey)
	if err != nil {
		return nil, DeviceID{}, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	if cn := req.Subject.CommonName; cn != "" {
		named, err := ParseDeviceID(cn)
		if err != nil || named != id {
			return nil, DeviceID{}, fmt.Errorf("CSR names %q, key gives %s: %w: %w", cn, id, ErrBadCSR, ErrDeviceIDMismatch)
		}
	}
	return req, id, nil
}

// ParseCSR parses a certificate signing request (PEM or DER), checks its
// self-signature and key type, and returns it. Nothing of its subject is
// trusted: the issuer decides what the certificate names.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != pemCSR && b.Type != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("PEM block %q: %w", b.Type, ErrBadCSR)
		}
		der = b.Bytes
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR signature: %w: %w", ErrBadCSR, err)
	}
	if err := checkPublicKey(req.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	return req, nil
}

// NewCSR returns a PEM certificate signing request for key with cn as
// subject CN (informational: the issuer names the certificate).
func NewCSR(key crypto.Signer, cn string) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("create CSR: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCSR, Bytes: der}), nil
}

// AcceptEnrollment is the device side of enrollment: it parses the
// certificate and CA certificate received, checks the CA against the
// fingerprint the device was given with its token (skipped when empty), and
// checks that the certificate is a device certificate for key issued by that
// CA. It returns the device's leaf and the CA certificate to trust.
func AcceptEnrollment(key crypto.Signer, certPEM, caPEM []byte, caFingerprint string, now func() time.Time) (*Leaf, *x509.Certificate, error) {
	caCert, err := ParseCertPEM(caPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("enrollment CA: %w", err)
	}
	if err := checkCACert(caCert); err != nil {
		return nil, nil, err
	}
	if caFingerprint != "" && !strings.EqualFold(caFingerprint, Fingerprint(caCert)) {
		return nil, nil, fmt.Errorf("CA fingerprint %s, expected %s: %w", Fingerprint(caCert), caFingerprint, ErrUnknownCA)
	}
	cert, err := ParseCertPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("enrollment certificate: %w", err)
	}
	if !keyMatches(cert, key) {
		return nil, nil, ErrKeyMismatch
	}
	if _, err := NewVerifier(caCert, nil, now).Verify(cert, KindDevice); err != nil {
		return nil, nil, err
	}
	return &Leaf{Cert: cert, Key: key}, caCert, nil
}
