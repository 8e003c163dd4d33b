package command

import (
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/server/state"
)

// The console's sign-in, replicated so that any node signs a user in,
// checks a session and refuses a disabled or locked user alike. The
// proposer derives password verifiers and stamps times; applying
// compares stamped times only.

// ConsoleKey sets the key console sessions and CSRF tokens are signed
// with. The first one in the log stays: a second (two nodes racing at
// start) changes nothing.
type ConsoleKey struct {
	Key []byte `json:"key"`
}

// ConsoleKeyLen is the length of the console's signing key.
const ConsoleKeyLen = 32

// SetPassword gives a user a console password (its verifier). It clears
// the wrong-password count and the lock and ends the user's sessions.
type SetPassword struct {
	User     string                 `json:"user"`
	Password state.PasswordVerifier `json:"password"`
	By       string                 `json:"by"`
	At       time.Time              `json:"at"`
}

// Account actions.
const (
	AccountDisable = "disable" // refuse sign-in and end every session
	AccountEnable  = "enable"  // allow sign-in again
	AccountSignOut = "signout" // end every session of the user
)

// AccountChange disables, enables or signs out a console user.
type AccountChange struct {
	User   string    `json:"user"`
	Action string    `json:"action"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at"`
}

// SignIn records a sign-in's outcome: a success clears the count of
// wrong passwords; the MaxSignInFailures-th wrong one in a row locks the
// account for SignInLock from At.
type SignIn struct {
	User string    `json:"user"`
	OK   bool      `json:"ok"`
	At   time.Time `json:"at"`
}

// SignInResult is what applying a SignIn left: whether the account is
// locked now, and until when.
type SignInResult struct {
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
}

// The sign-in lock.
const (
	MaxSignInFailures = 5
	SignInLock        = 15 * time.Minute
)

// console applies the console's commands, decoded by decodePayload.
func (b *batch) console(val any) any {
	switch v := val.(type) {
	case *ConsoleKey:
		if len(v.Key) != ConsoleKeyLen {
			return fmt.Errorf("%w: a console key has %d bytes, not %d", ErrRejected, ConsoleKeyLen, len(v.Key))
		}
		_, err := b.tx.ConsoleKey()
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, state.ErrNotFound):
			must(err, "console key")
		}
		must(b.tx.PutConsoleKey(v.Key), "console key")
		return nil
	case *SetPassword:
		p := v.Password
		switch {
		case len(p.Salt) < 16 || len(p.Hash) < 16 || p.Time == 0 || p.Memory == 0 || p.Threads == 0:
			return fmt.Errorf("%w: password verifier of %s is not an argon2id verifier", ErrRejected, v.User)
		case v.At.IsZero():
			return fmt.Errorf("%w: password of %s without a time", ErrRejected, v.User)
		}
		a, err := b.account(v.User)
		if err != nil {
			return err
		}
		a.Password, a.SetBy, a.SetAt = &p, v.By, v.At
		a.Failures, a.LockedUntil = 0, time.Time{}
		a.Epoch++
		must(b.tx.PutAccount(a), "account")
		return nil
	case *AccountChange:
		a, err := b.account(v.User)
		if err != nil {
			return err
		}
		switch v.Action {
		case AccountDisable:
			a.Disabled = true
			a.Epoch++
		case AccountEnable:
			a.Disabled, a.Failures, a.LockedUntil = false, 0, time.Time{}
		case AccountSignOut:
			a.Epoch++
		default:
			return fmt.Errorf("%w: account action %q (want disable, enable or signout)", ErrRejected, v.Action)
		}
		must(b.tx.PutAccount(a), "account")
		return nil
	case *SignIn:
		if v.At.IsZero() {
			return fmt.Errorf("%w: sign-in of %s without a time", ErrRejected, v.User)
		}
		a, err := b.account(v.User)
		if err != nil {
			return err
		}
		switch {
		case v.OK:
			a.Failures = 0
		case a.Locked(v.At):
			// Wrong passwords while locked do not extend the lock.
		default:
			a.Failures++
			if a.Failures >= MaxSignInFailures {
				a.Failures, a.LockedUntil = 0, v.At.Add(SignInLock)
			}
		}
		must(b.tx.PutAccount(a), "account")
		return SignInResult{Failures: a.Failures, LockedUntil: a.LockedUntil}
	}
	return nil
}

// account reads the console account of an existing user (a new one when
// the user has none yet).
func (b *batch) account(user string) (state.Account, error) {
	if _, err := b.tx.User(user); errors.Is(err, state.ErrNotFound) {
		return state.Account{}, fmt.Errorf("%w: %q is not a user of this site", ErrRejected, user)
	} else {
		must(err, "user")
	}
	a, err := b.tx.Account(user)
	if errors.Is(err, state.ErrNotFound) {
		return state.Account{User: user}, nil
	}
	must(err, "account")
	return a, nil
}
