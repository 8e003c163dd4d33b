package command

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
)

// Device admission: enrollment tokens and revoked devices, replicated so
// that any node can admit a handheld and every node refuses a revoked
// one. The proposer makes the token and stamps every time; applying
// judges expiry against the command's time, never a clock, so every
// replica decides alike and a replayed log decides as it did.

// EnrollToken keeps a new one-time enrollment token: its hash (hex
// SHA-256, the token itself is never proposed), label, creator, and
// validity. UsedAt and Device must be empty.
type EnrollToken = state.EnrollToken

// UseToken spends an enrollment token for a device at At, the proposer's
// time. Applying it answers a UseResult.
type UseToken struct {
	Hash   string    `json:"hash"`   // hex SHA-256 of the token
	Device string    `json:"device"` // canonical device id (certs.DeviceID)
	At     time.Time `json:"at"`
}

// RevokeDevice stops admitting a device (state.RevokedDevice). Revoking
// a revoked device keeps the first revocation. The result is the
// revocation as kept.
type RevokeDevice = state.RevokedDevice

// PurgeTokens forgets every token that expired before Before (the
// proposer's time less what it wants to keep for audit). The result is
// a PurgeResult.
type PurgeTokens struct {
	Before time.Time `json:"before"`
}

// PurgeResult is how many tokens a PurgeTokens removed.
type PurgeResult struct {
	Purged int `json:"purged"`
}

// Why a UseToken was refused (UseResult.Refused).
const (
	RefusedUnknown = "unknown" // no token with that hash
	RefusedUsed    = "used"    // the token was used before
	RefusedExpired = "expired" // At is not before the token's expiry
	RefusedRevoked = "revoked" // the device is revoked
)

// UseResult is what a UseToken did: Refused is empty when the token was
// spent, and Token is the token as stored (its earlier use when refused
// as used).
type UseResult struct {
	Token   state.EnrollToken `json:"token"`
	Refused string            `json:"refused,omitempty"`
	Reason  string            `json:"reason,omitempty"` // for people
}

// MaxTokenLabel bounds an enrollment token's label.
const MaxTokenLabel = 200

// decodeEnroll decodes the payload of a device admission command. An
// error (ErrPayload) makes the entry undecodable; validateEnroll then
// says whether the command breaks a rule (ErrRejected).
func decodeEnroll(t Type, payload []byte) (any, error) {
	var v any
	switch t {
	case TypeEnrollToken:
		v = &EnrollToken{}
	case TypeUseToken:
		v = &UseToken{}
	case TypeRevokeDevice:
		v = &RevokeDevice{}
	case TypePurgeTokens:
		v = &PurgeTokens{}
	default:
		return nil, fmt.Errorf("%w: %d is not a device admission command", ErrUnknownType, t)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	return v, nil
}

func validateEnroll(v any) error {
	switch v := v.(type) {
	case *EnrollToken:
		switch {
		case checkTokenHash(v.Hash) != nil:
			return checkTokenHash(v.Hash)
		case len(v.Label) > MaxTokenLabel:
			return fmt.Errorf("%w: token label of %d bytes (at most %d)", ErrRejected, len(v.Label), MaxTokenLabel)
		case v.CreatedAt.IsZero() || !v.ExpiresAt.After(v.CreatedAt):
			return fmt.Errorf("%w: token must expire after it is created", ErrRejected)
		case !v.UsedAt.IsZero() || v.Device != "":
			return fmt.Errorf("%w: a new token cannot be used already", ErrRejected)
		}
	case *UseToken:
		if err := checkTokenHash(v.Hash); err != nil {
			return err
		}
		if err := checkDevice(v.Device); err != nil {
			return err
		}
		if v.At.IsZero() {
			return fmt.Errorf("%w: token use without a time", ErrRejected)
		}
	case *RevokeDevice:
		if err := checkDevice(v.Device); err != nil {
			return err
		}
		if v.At.IsZero() {
			return fmt.Errorf("%w: revocation without a time", ErrRejected)
		}
	case *PurgeTokens:
		if v.Before.IsZero() {
			return fmt.Errorf("%w: purge without a time", ErrRejected)
		}
	}
	return nil
}

func checkTokenHash(h string) error {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(certs.TokenHash{}) || hex.EncodeToString(b) != h {
		return fmt.Errorf("%w: token hash %q is not 64 lower-case hex digits", ErrRejected, h)
	}
	return nil
}

func checkDevice(d string) error {
	id, err := certs.ParseDeviceID(d)
	if err != nil {
		return fmt.Errorf("%w: device %q: %v", ErrRejected, d, err)
	}
	if id.String() != d {
		return fmt.Errorf("%w: device %q is not in canonical form %s", ErrRejected, d, id)
	}
	return nil
}

// TokenHashHex is the form of a token hash in commands and the state.
func TokenHashHex(h certs.TokenHash) string { return hex.EncodeToString(h[:]) }

// enroll applies a device admission command.
func (b *batch) enroll(v any) any {
	if err := validateEnroll(v); err != nil {
		return err
	}
	switch v := v.(type) {
	case *EnrollToken:
		_, err := b.tx.EnrollToken(v.Hash)
		if err == nil {
			return fmt.Errorf("%w: %v", ErrRejected, certs.ErrTokenExists)
		}
		if !errors.Is(err, state.ErrNotFound) {
			must(err, "enrollment token")
		}
		must(b.tx.PutEnrollToken(*v), "enrollment token")
	case *UseToken:
		return b.useToken(v)
	case *RevokeDevice:
		old, err := b.tx.RevokedDevice(v.Device)
		if err == nil {
			return old
		}
		if !errors.Is(err, state.ErrNotFound) {
			must(err, "revoked device")
		}
		must(b.tx.PutRevokedDevice(*v), "revoked device")
		return *v
	case *PurgeTokens:
		toks, err := b.tx.EnrollTokens()
		must(err, "enrollment tokens")
		n := 0
		for _, tok := range toks {
			if tok.ExpiresAt.Before(v.Before) {
				must(b.tx.DeleteEnrollToken(tok.Hash), "purge token")
				n++
			}
		}
		return PurgeResult{Purged: n}
	}
	return nil
}

// useToken spends a token once: the rule is certs.TokenRecord.Usable at
// the command's time. The device that spent it may use it again (a
// retried enrollment whose answer was lost gets a certificate for the
// same key); any other device is refused. A revoked device cannot spend
// a token (the token stays usable for another device).
func (b *batch) useToken(v *UseToken) UseResult {
	tok, err := b.tx.EnrollToken(v.Hash)
	if errors.Is(err, state.ErrNotFound) {
		return UseResult{Refused: RefusedUnknown, Reason: certs.ErrTokenUnknown.Error()}
	}
	must(err, "enrollment token")
	revoked, err := b.tx.IsDeviceRevoked(v.Device)
	must(err, "revoked device")
	if revoked {
		return UseResult{Token: tok, Refused: RefusedRevoked, Reason: fmt.Sprintf("device %s: %v", v.Device, certs.ErrRevoked)}
	}
	if tok.Used() && tok.Device == v.Device {
		// The same key enrolling again (its first answer was lost): the
		// token was spent for this very device, so the use stands.
		return UseResult{Token: tok}
	}
	rec := certs.TokenRecord{Label: tok.Label, CreatedAt: tok.CreatedAt, ExpiresAt: tok.ExpiresAt, UsedAt: tok.UsedAt}
	if tok.Device != "" {
		rec.Device, _ = certs.ParseDeviceID(tok.Device)
	}
	if err := rec.Usable(v.At); err != nil {
		refused := RefusedExpired
		if errors.Is(err, certs.ErrTokenUsed) {
			refused = RefusedUsed
		}
		return UseResult{Token: tok, Refused: refused, Reason: err.Error()}
	}
	tok.UsedAt, tok.Device = v.At, v.Device
	must(b.tx.PutEnrollToken(tok), "enrollment token")
	return UseResult{Token: tok}
}
