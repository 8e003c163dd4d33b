package state

import "time"

// User certificate revocation: M V user → JSON. One record per user
// whose certificates an admin revoked: every certificate of that user
// issued up to the revocation is refused from then on, later ones are
// accepted. The record is apart from the user record, so putting the
// user again (a changed role, or an id re-created) keeps it: an old
// certificate never comes back to life. Not in the change feed:
// handhelds do not authenticate users by certificate.

// mUserCerts is the master kind of user certificate revocations. It
// sits next to the kinds in keys.go; never reuse the byte.
const mUserCerts byte = 'V'

// UserCertRevocation is the latest revocation of a user's certificates.
// At was stamped by the proposer, never read from a clock while
// applying.
type UserCertRevocation struct {
	User   string    `json:"user"`
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// Refuses reports whether a certificate of the user whose NotBefore is
// notBefore was issued no later than the revocation, for a CA that
// backdates NotBefore by backdate (certs.Backdate) from the time it
// signs.
//
// A certificate signed at time s carries NotBefore = s - backdate,
// truncated to the second (X.509 times have whole seconds). So from
// NotBefore alone a certificate is known to be signed within the second
// [NotBefore+backdate, NotBefore+backdate+1s). The rule refuses every
// certificate that may have been signed in or before the second of the
// revocation: NotBefore+backdate <= At truncated to the second. A
// certificate signed in the same second as the revocation, after it,
// is refused too: revocation errs on the safe side, and the issuing
// side waits for the next second before it signs for a user revoked in
// the current one. A certificate signed from the next whole second on
// is accepted.
func (u *UserCertRevocation) Refuses(notBefore time.Time, backdate time.Duration) bool {
	return !notBefore.Add(backdate).After(u.At.Truncate(time.Second))
}

// FirstAccepted is the earliest signing time whose certificates the
// revocation no longer refuses: the whole second after At.
func (u *UserCertRevocation) FirstAccepted() time.Time {
	return u.At.Truncate(time.Second).Add(time.Second)
}

// UserCertRevocation returns the revocation of a user's certificates
// (ErrNotFound when they were never revoked).
func (r *Reader) UserCertRevocation(user string) (UserCertRevocation, error) {
	return getMaster[UserCertRevocation](r, mUserCerts, user)
}

// UserCertRevocations lists the users whose certificates were revoked,
// by user id.
func (r *Reader) UserCertRevocations() ([]UserCertRevocation, error) {
	return listMaster[UserCertRevocation](r, mUserCerts, nil)
}

// PutUserCertRevocation records a revocation of a user's certificates,
// replacing the one before.
func (t *Tx) PutUserCertRevocation(u UserCertRevocation) error {
	return t.setJSON(key(tMaster, string(mUserCerts)+u.User), u)
}
