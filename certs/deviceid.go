package certs

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"fmt"
	"strings"
)

// DeviceID identifies a handheld. It is the SHA-256 of the DER-encoded
// SubjectPublicKeyInfo of the device's key, so it is fixed by the key alone
// and cannot be claimed without it.
//
// Its text form is the 52-character unpadded base32 encoding, split into four
// groups of 13 characters, each followed by a Luhn mod 32 check character,
// and written as seven dash-separated groups of eight (62 characters):
//
//	KRMGZO6N-5QLUXOGW-WWKRWCKQ-NXPUVAVP-5RW5ZNXS-BC3HHGDN-ALDVLVQJ
type DeviceID [sha256.Size]byte

const (
	deviceIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	deviceIDRawLen   = 52 // base32 characters of 32 bytes, no padding
	deviceIDChunk    = 13 // characters per checked chunk
	deviceIDChecked  = deviceIDRawLen + deviceIDRawLen/deviceIDChunk
	deviceIDGroup    = 8
)

func deviceIDEncoding() *base32.Encoding {
	return base32.StdEncoding.WithPadding(base32.NoPadding)
}

// DeviceIDFromSPKI returns the device id for a DER-encoded SubjectPublicKeyInfo.
func DeviceIDFromSPKI(spkiDER []byte) DeviceID {
	return DeviceID(sha256.Sum256(spkiDER))
}

// DeviceIDFromPublicKey returns the device id for a public key.
func DeviceIDFromPublicKey(pub crypto.PublicKey) (DeviceID, error) {
	if err := checkPublicKey(pub); err != nil {
		return DeviceID{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return DeviceID{}, fmt.Errorf("marshal public key: %w: %w", ErrUnsupportedKey, err)
	}
	return DeviceIDFromSPKI(der), nil
}

// ParseDeviceID parses the text form of a device id. Letters may be in either
// case; dashes and spaces are ignored; the four check characters must be
// correct and the encoding canonical.
func ParseDeviceID(s string) (DeviceID, error) {
	if len(s) > 2*deviceIDChecked {
		return DeviceID{}, fmt.Errorf("device id of %d characters: %w", len(s), ErrBadDeviceID)
	}
	var b strings.Builder
	b.Grow(deviceIDChecked)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'):
		default:
			return DeviceID{}, fmt.Errorf("device id has invalid character %q at %d: %w", c, i, ErrBadDeviceID)
		}
		b.WriteByte(c)
	}
	checked := b.String()
	if len(checked) != deviceIDChecked {
		return DeviceID{}, fmt.Errorf("device id has %d significant characters, want %d: %w", len(checked), deviceIDChecked, ErrBadDeviceID)
	}
	raw := make([]byte, 0, deviceIDRawLen)
	for i := 0; i < deviceIDRawLen/deviceIDChunk; i++ {
		chunk := checked[i*(deviceIDChunk+1) : (i+1)*(deviceIDChunk+1)]
		if luhn32(chunk[:deviceIDChunk]) != chunk[deviceIDChunk] {
			return DeviceID{}, fmt.Errorf("device id check character %d is wrong: %w", i+1, ErrBadDeviceID)
		}
		raw = append(raw, chunk[:deviceIDChunk]...)
	}
	dec, err := deviceIDEncoding().DecodeString(string(raw))
	if err != nil || len(dec) != sha256.Size {
		return DeviceID{}, fmt.Errorf("device id does not decode: %w", ErrBadDeviceID)
	}
	var id DeviceID
	copy(id[:], dec)
	if deviceIDEncoding().EncodeToString(id[:]) != string(raw) {
		return DeviceID{}, fmt.Errorf("device id is not canonically encoded: %w", ErrBadDeviceID)
	}
	return id, nil
}

// String returns the canonical text form (upper case, dashed, with check
// characters).
func (id DeviceID) String() string {
	raw := deviceIDEncoding().EncodeToString(id[:])
	checked := make([]byte, 0, deviceIDChecked)
	for i := 0; i < deviceIDRawLen/deviceIDChunk; i++ {
		chunk := raw[i*deviceIDChunk : (i+1)*deviceIDChunk]
		checked = append(checked, chunk...)
		checked = append(checked, luhn32(chunk))
	}
	out := make([]byte, 0, deviceIDChecked+deviceIDChecked/deviceIDGroup-1)
	for i := 0; i < len(checked); i += deviceIDGroup {
		if i > 0 {
			out = append(out, '-')
		}
		out = append(out, checked[i:i+deviceIDGroup]...)
	}
	return string(out)
}

// Short returns the first group of the text form, for logs and screens.
func (id DeviceID) Short() string {
	return id.String()[:deviceIDGroup]
}

// IsZero reports whether id is the zero value.
func (id DeviceID) IsZero() bool {
	return id == DeviceID{}
}

// Validate reports an error for the zero id, which no key produces and which
// marks an unset field.
func (id DeviceID) Validate() error {
	if id.IsZero() {
		return fmt.Errorf("zero device id: %w", ErrBadDeviceID)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (id DeviceID) MarshalText() ([]byte, error) {
	return []byte(id.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *DeviceID) UnmarshalText(b []byte) error {
	p, err := ParseDeviceID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// luhn32 returns the Luhn mod 32 check character of s, which must hold only
// characters of deviceIDAlphabet.
func luhn32(s string) byte {
	const n = len(deviceIDAlphabet)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(deviceIDAlphabet, s[i])
		factor = 3 - factor
		sum += addend/n + addend%n
	}
	return deviceIDAlphabet[(n-sum%n)%n]
}
