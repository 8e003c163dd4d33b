package state

import "time"

// Device admission: n kind id → JSON. Enrollment tokens (kind 'T', by
// the hex SHA-256 of the token) and revoked devices (kind 'D', by device
// id). Both tables are small: one record per token minted and per device
// revoked. Every time in them was stamped by a proposer, never read from
// a clock while applying.

// Kinds of device admission record (second byte of a tEnroll key).
const (
	eToken   byte = 'T'
	eRevoked byte = 'D'
)

// EnrollToken is a one-time enrollment token as the site keeps it: the
// SHA-256 of the token, never the token itself.
type EnrollToken struct {
	Hash      string    `json:"hash"` // hex SHA-256 of the token's bytes
	Label     string    `json:"label,omitempty"`
	By        string    `json:"by,omitempty"` // the user who minted it
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	UsedAt    time.Time `json:"usedAt,omitzero"`  // zero until used
	Device    string    `json:"device,omitempty"` // the device that used it
}

// Used reports whether the token was used.
func (t *EnrollToken) Used() bool { return !t.UsedAt.IsZero() }

// RevokedDevice is a device the site no longer admits, whatever
// certificate it presents.
type RevokedDevice struct {
	Device string    `json:"device"` // canonical device id
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

func enrollKey(kind byte, id string) []byte { return key(tEnroll, string(kind)+id) }

func listEnroll[T any](r *Reader, kind byte) ([]T, error) {
	var out []T
	err := r.scan([]byte{tEnroll, kind}, nil, true, func(k, v []byte) (bool, error) {
		var rec T
		if err := jsonDecode(k, v, &rec); err != nil {
			return false, err
		}
		out = append(out, rec)
		return true, nil
	})
	return out, err
}

// EnrollToken returns the token with the given hash (hex).
func (r *Reader) EnrollToken(hash string) (EnrollToken, error) {
	var t EnrollToken
	err := r.getJSON(enrollKey(eToken, hash), &t)
	return t, err
}

// EnrollTokens lists every token kept, by hash.
func (r *Reader) EnrollTokens() ([]EnrollToken, error) { return listEnroll[EnrollToken](r, eToken) }

// PutEnrollToken stores a token record.
func (t *Tx) PutEnrollToken(tok EnrollToken) error {
	return t.setJSON(enrollKey(eToken, tok.Hash), tok)
}

// DeleteEnrollToken forgets a token.
func (t *Tx) DeleteEnrollToken(hash string) error { return t.del(enrollKey(eToken, hash)) }

// RevokedDevice returns the revocation of a device (ErrNotFound when the
// device is not revoked).
func (r *Reader) RevokedDevice(device string) (RevokedDevice, error) {
	var d RevokedDevice
	err := r.getJSON(enrollKey(eRevoked, device), &d)
	return d, err
}

// IsDeviceRevoked reports whether device is revoked.
func (r *Reader) IsDeviceRevoked(device string) (bool, error) {
	return r.has(enrollKey(eRevoked, device))
}

// RevokedDevices lists the revoked devices, by device id.
func (r *Reader) RevokedDevices() ([]RevokedDevice, error) {
	return listEnroll[RevokedDevice](r, eRevoked)
}

// PutRevokedDevice records a revocation.
func (t *Tx) PutRevokedDevice(d RevokedDevice) error {
	return t.setJSON(enrollKey(eRevoked, d.Device), d)
}
