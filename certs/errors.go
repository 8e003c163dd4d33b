package certs

import "errors"

// Errors returned by this package. They are wrapped with context; test them
// with errors.Is.
var (
	// ErrUnknownCA: the certificate does not chain to the site CA (another
	// CA, a self-signed or forged certificate, or a bad signature).
	ErrUnknownCA = errors.New("certs: certificate not issued by the site CA")
	// ErrRevoked: the certificate's serial is on the revocation list.
	ErrRevoked = errors.New("certs: certificate revoked")
	// ErrCertExpired: the certificate's NotAfter is in the past.
	ErrCertExpired = errors.New("certs: certificate expired")
	// ErrCertNotYetValid: the certificate's NotBefore is in the future.
	ErrCertNotYetValid = errors.New("certs: certificate not yet valid")
	// ErrNoPeerCert: the peer presented no certificate.
	ErrNoPeerCert = errors.New("certs: no peer certificate")
	// ErrWrongKind: the certificate is of a kind (node, device, user) the
	// endpoint does not accept, or is not a Custody leaf at all.
	ErrWrongKind = errors.New("certs: certificate kind not accepted")
	// ErrNotDeviceCert: the certificate is not a device certificate.
	ErrNotDeviceCert = errors.New("certs: not a device certificate")
	// ErrDeviceIDMismatch: the device id named in a certificate or CSR does
	// not match the id derived from its public key.
	ErrDeviceIDMismatch = errors.New("certs: device id does not match public key")
	// ErrHostMismatch: the server certificate is not valid for the name dialled.
	ErrHostMismatch = errors.New("certs: certificate not valid for host")
	// ErrBadDeviceID: a device id string is malformed or fails its check characters.
	ErrBadDeviceID = errors.New("certs: malformed device id")
	// ErrBadName: a site name, cluster id, node id, user name or role is empty
	// or uses characters outside the allowed set.
	ErrBadName = errors.New("certs: invalid name")
	// ErrBadPEM: PEM input is missing the expected block or cannot be parsed.
	ErrBadPEM = errors.New("certs: bad PEM data")
	// ErrKeyMismatch: a private key does not belong to the certificate.
	ErrKeyMismatch = errors.New("certs: private key does not match certificate")
	// ErrUnsupportedKey: the key type or curve is not accepted.
	ErrUnsupportedKey = errors.New("certs: unsupported key type")
	// ErrNotCA: the certificate loaded as the site CA is not a CA.
	ErrNotCA = errors.New("certs: not a CA certificate")
	// ErrBadCSR: a certificate signing request is malformed, not properly
	// self-signed, or asks for something a device may not have.
	ErrBadCSR = errors.New("certs: bad certificate signing request")
	// ErrBadCRL: a revocation list is malformed or not signed by the site CA.
	ErrBadCRL = errors.New("certs: bad revocation list")
	// ErrTokenMalformed: an enrollment token string is not a token.
	ErrTokenMalformed = errors.New("certs: malformed enrollment token")
	// ErrTokenUnknown: no enrollment token with that value exists.
	ErrTokenUnknown = errors.New("certs: unknown enrollment token")
	// ErrTokenExpired: the enrollment token is past its expiry.
	ErrTokenExpired = errors.New("certs: enrollment token expired")
	// ErrTokenUsed: the enrollment token has already been used.
	ErrTokenUsed = errors.New("certs: enrollment token already used")
	// ErrTokenExists: a token with the same hash is already stored.
	ErrTokenExists = errors.New("certs: enrollment token already exists")
	// ErrIncompleteLayout: a data dir holds only part of a key pair (for
	// example a CA certificate without its key); nothing is overwritten.
	ErrIncompleteLayout = errors.New("certs: incomplete certificate files")
	// ErrLayoutMismatch: existing files belong to another site or node than
	// the one requested.
	ErrLayoutMismatch = errors.New("certs: existing certificates belong to another site or node")
)
