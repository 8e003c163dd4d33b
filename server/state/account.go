package state

import "time"

// Console accounts: M w user → JSON, and the console's signing key:
// M z → the key. A user's console account holds what a browser sign-in
// needs and the handhelds never do: the password verifier, whether the
// user is disabled, the wrong-password count and lock, and a session
// epoch that ends every session signed before it. It sits apart from
// the user record, so the verifier never reaches the change feed, a
// handheld or an API answer, and putting the user again (a changed role)
// keeps it. Not in the change feed.

// Master kinds of console records; never reuse the bytes.
const (
	mAccount    byte = 'w'
	mConsoleKey byte = 'z'
)

// PasswordVerifier is an argon2id hash of a password with its
// parameters. Only the console derives and checks it.
type PasswordVerifier struct {
	Salt    []byte `json:"salt"`
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memoryKiB"`
	Threads uint8  `json:"threads"`
	Hash    []byte `json:"hash"`
}

// Account is a user's console account. Times were stamped by the
// proposer, never read from a clock while applying.
type Account struct {
	User     string            `json:"user"`
	Password *PasswordVerifier `json:"password,omitempty"`
	SetBy    string            `json:"setBy,omitempty"`
	SetAt    time.Time         `json:"setAt,omitzero"`
	Disabled bool              `json:"disabled,omitempty"`
	// Failures counts wrong passwords since the last success; at the
	// limit the account is locked until LockedUntil.
	Failures    int       `json:"failures,omitempty"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
	// Epoch ends every session signed with a lower epoch (sign-out,
	// disable, a new password).
	Epoch uint64 `json:"epoch"`
}

// Locked reports whether the account refuses sign-in at now.
func (a *Account) Locked(now time.Time) bool { return now.Before(a.LockedUntil) }

// Account returns a user's console account (ErrNotFound when the user
// never had one).
func (r *Reader) Account(user string) (Account, error) {
	return getMaster[Account](r, mAccount, user)
}

// Accounts lists the console accounts, by user id.
func (r *Reader) Accounts() ([]Account, error) { return listMaster[Account](r, mAccount, nil) }

// PutAccount stores a console account.
func (t *Tx) PutAccount(a Account) error { return t.setJSON(key(tMaster, string(mAccount)+a.User), a) }

// ConsoleKey is the key the console signs sessions and CSRF tokens
// with: the same on every node (ErrNotFound before it is set).
func (r *Reader) ConsoleKey() ([]byte, error) {
	b, err := r.get(key(tMaster, string(mConsoleKey)))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// PutConsoleKey stores the console's signing key.
func (t *Tx) PutConsoleKey(k []byte) error {
	return t.set(key(tMaster, string(mConsoleKey)), append([]byte(nil), k...))
}
