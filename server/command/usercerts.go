package command

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
)

// User certificate revocation: an admin stops every certificate of a
// user issued until now (a leaked key, a person who left), replicated
// so every node refuses them, forwarded reads included. The proposer
// stamps the time; applying compares stamped times only, so every
// replica keeps the same record and a replayed log keeps it again.

// RevokeUserCerts refuses the certificates of User issued no later than
// At, the proposer's time (state.UserCertRevocation.Refuses has the
// rule). The result is the revocation in effect.
type RevokeUserCerts = state.UserCertRevocation

// Revocation limits.
const (
	// MaxUserID bounds the user id of a revocation.
	MaxUserID = 256
	// MaxRevokeReason bounds a revocation's reason.
	MaxRevokeReason = 500
)

// revokeUserCerts applies a RevokeUserCerts. The later of the kept and
// the new revocation stands: a second revocation moves the cut-off
// forward, an older one (a retried proposal, a proposer whose clock is
// behind) changes nothing and answers the revocation in effect. Applying
// the same command twice therefore changes nothing the second time.
func (b *batch) revokeUserCerts(v RevokeUserCerts) any {
	switch {
	case v.User == "" || len(v.User) > MaxUserID:
		return fmt.Errorf("%w: a user id has 1 to %d bytes, not %d", ErrRejected, MaxUserID, len(v.User))
	case v.At.IsZero():
		return fmt.Errorf("%w: certificate revocation of %s without a time", ErrRejected, v.User)
	case len(v.Reason) > MaxRevokeReason:
		return fmt.Errorf("%w: revocation reason of %d bytes (at most %d)", ErrRejected, len(v.Reason), MaxRevokeReason)
	}
	old, err := b.tx.UserCertRevocation(v.User)
	switch {
	case err == nil:
		if !v.At.After(old.At) {
			return old
		}
	case !errors.Is(err, state.ErrNotFound):
		must(err, "user certificate revocation")
	}
	must(b.tx.PutUserCertRevocation(v), "user certificate revocation")
	return v
}
