// Package password derives and checks the argon2id verifiers of console
// passwords. The verifier is what the replicated state keeps; the
// password itself is never stored or logged.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/custodyhq/custody/server/state"
)

// Errors returned by this package.
var (
	// ErrWrong reports a password that does not match the verifier.
	ErrWrong = errors.New("password: wrong password")
	// ErrWeak reports a password the site does not accept.
	ErrWeak = errors.New("password: not accepted")
)

// Parameters of new verifiers: argon2id with 2 passes over 19 MiB on
// one thread (OWASP's minimum; a check takes tens of milliseconds).
const (
	Time    = 2
	Memory  = 19 * 1024 // KiB
	Threads = 1
	KeyLen  = 32
	SaltLen = 16
)

// Length bounds of a password, in characters.
const (
	MinLen = 10
	MaxLen = 256
)

// Acceptable says whether pw is acceptable as a new password.
func Acceptable(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not valid UTF-8", ErrWeak)
	case n < MinLen:
		return fmt.Errorf("%w: a password has at least %d characters", ErrWeak, MinLen)
	case n > MaxLen:
		return fmt.Errorf("%w: a password has at most %d characters", ErrWeak, MaxLen)
	}
	return nil
}

// New derives a verifier of pw with a fresh random salt.
func New(pw string) (state.PasswordVerifier, error) {
	if err := Acceptable(pw); err != nil {
		return state.PasswordVerifier{}, err
	}
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return state.PasswordVerifier{}, fmt.Errorf("password salt: %w", err)
	}
	return state.PasswordVerifier{Salt: salt, Time: Time, Memory: Memory, Threads: Threads,
		Hash: argon2.IDKey([]byte(pw), salt, Time, Memory, Threads, KeyLen)}, nil
}

// Verify compares pw with v in constant time. Stored parameters are
// bounded: a damaged or forged verifier must not make a check free or
// take minutes.
func Verify(v *state.PasswordVerifier, pw string) error {
	if v == nil || len(v.Salt) < SaltLen || len(v.Hash) < 16 || len(v.Hash) > 64 ||
		v.Time < 1 || v.Time > 10 || v.Memory < 8*1024 || v.Memory > 256*1024 || v.Threads < 1 || v.Threads > 8 ||
		len(pw) > 4*MaxLen {
		return ErrWrong
	}
	h := argon2.IDKey([]byte(pw), v.Salt, v.Time, v.Memory, v.Threads, uint32(len(v.Hash)))
	if subtle.ConstantTimeCompare(h, v.Hash) != 1 {
		return ErrWrong
	}
	return nil
}

// Dummy is a verifier no password matches, at the parameters of new
// ones: checking a password against it for an unknown user keeps that
// sign-in as slow as a known user's, so timing does not tell users apart.
func Dummy() *state.PasswordVerifier {
	return &state.PasswordVerifier{Salt: make([]byte, SaltLen), Time: Time, Memory: Memory, Threads: Threads, Hash: make([]byte, KeyLen)}
}

// Generate makes a random password of 20 characters from an alphabet
// without look-alikes (for a site's first admin password and the demo).
func Generate() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}
