package command

import (
	"errors"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

var consoleT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testVerifier() state.PasswordVerifier {
	return state.PasswordVerifier{Salt: make([]byte, 16), Time: 2, Memory: 19456, Threads: 1, Hash: make([]byte, 32)}
}

func consoleSamples(t testing.TB) map[Type][][]byte {
	user := jsonEntry(t, TypeUser, master.User{ID: "lead", Role: master.RoleLead, Clients: []string{"acme"}})
	pw := jsonEntry(t, TypePassword, SetPassword{User: "lead", Password: testVerifier(), By: "admin", At: consoleT0})
	return map[Type][][]byte{
		TypePassword: {user, pw},
		TypeAccount:  {user, jsonEntry(t, TypeAccount, AccountChange{User: "lead", Action: AccountDisable, By: "admin", At: consoleT0})},
		TypeSignIn:   {user, jsonEntry(t, TypeSignIn, SignIn{User: "lead", OK: false, At: consoleT0})},
	}
}

func account(t *testing.T, st *state.Store, user string) state.Account {
	t.Helper()
	var a state.Account
	if err := st.View(func(r *state.Reader) error { var err error; a, err = r.Account(user); return err }); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSignInLocksAfterFiveWrongPasswords(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, consoleSamples(t)[TypePassword]...)
	epoch := account(t, st, "lead").Epoch
	for i := range MaxSignInFailures - 1 {
		res := l.apply(t, jsonEntry(t, TypeSignIn, SignIn{User: "lead", At: consoleT0.Add(time.Duration(i) * time.Second)}))
		if r, ok := res[0].(SignInResult); !ok || r.Failures != i+1 || !r.LockedUntil.IsZero() {
			t.Fatalf("failure %d: %#v", i+1, res[0])
		}
	}
	at := consoleT0.Add(time.Minute)
	res := l.apply(t, jsonEntry(t, TypeSignIn, SignIn{User: "lead", At: at}))
	if r := res[0].(SignInResult); !r.LockedUntil.Equal(at.Add(SignInLock)) {
		t.Fatalf("fifth wrong password: %#v", r)
	}
	a := account(t, st, "lead")
	if !a.Locked(at.Add(SignInLock-time.Second)) || a.Locked(at.Add(SignInLock)) {
		t.Fatalf("lock %v", a.LockedUntil)
	}
	// Wrong passwords while locked do not extend it; a new password lifts it.
	l.apply(t, jsonEntry(t, TypeSignIn, SignIn{User: "lead", At: at.Add(time.Minute)}))
	if got := account(t, st, "lead").LockedUntil; !got.Equal(at.Add(SignInLock)) {
		t.Fatalf("lock moved to %v", got)
	}
	l.apply(t, jsonEntry(t, TypePassword, SetPassword{User: "lead", Password: testVerifier(), By: "admin", At: at.Add(2 * time.Minute)}))
	a = account(t, st, "lead")
	if a.Locked(at.Add(3*time.Minute)) || a.Epoch != epoch+1 {
		t.Fatalf("after a new password: %+v", a)
	}
}

func TestAccountChanges(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, consoleSamples(t)[TypePassword]...)
	e0 := account(t, st, "lead").Epoch
	tests := []struct {
		action   string
		disabled bool
		epoch    uint64
		wantErr  bool
	}{
		{AccountSignOut, false, e0 + 1, false},
		{AccountDisable, true, e0 + 2, false},
		{AccountEnable, false, e0 + 2, false},
		{"delete", false, e0 + 2, true},
	}
	for _, tc := range tests {
		res := l.apply(t, jsonEntry(t, TypeAccount, AccountChange{User: "lead", Action: tc.action, At: consoleT0}))
		err, _ := res[0].(error)
		if (err != nil) != tc.wantErr || tc.wantErr && !errors.Is(err, ErrRejected) {
			t.Fatalf("%s: %v", tc.action, err)
		}
		a := account(t, st, "lead")
		if a.Disabled != tc.disabled || a.Epoch != tc.epoch {
			t.Fatalf("%s: %+v", tc.action, a)
		}
	}
	// Unknown users and bad input are refused and change nothing.
	for _, d := range [][]byte{
		jsonEntry(t, TypeAccount, AccountChange{User: "nobody", Action: AccountDisable, At: consoleT0}),
		jsonEntry(t, TypePassword, SetPassword{User: "lead", Password: state.PasswordVerifier{}, At: consoleT0}),
		jsonEntry(t, TypeConsoleKey, ConsoleKey{Key: []byte("short")}),
	} {
		if _, ok := l.apply(t, d)[0].(error); !ok {
			t.Fatalf("accepted %s", d)
		}
	}
	// The first console key stays.
	l.apply(t, jsonEntry(t, TypeConsoleKey, ConsoleKey{Key: make([]byte, ConsoleKeyLen)}))
	other := make([]byte, ConsoleKeyLen)
	other[0] = 1
	l.apply(t, jsonEntry(t, TypeConsoleKey, ConsoleKey{Key: other}))
	var k []byte
	st.View(func(r *state.Reader) error { k, _ = r.ConsoleKey(); return nil })
	if len(k) != ConsoleKeyLen || k[0] != 0 {
		t.Fatalf("key %x", k)
	}
}
