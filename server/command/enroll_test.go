package command

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
)

var enrollT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func tokenHash(n int) string {
	return TokenHashHex(certs.TokenHash(sha256.Sum256([]byte(fmt.Sprint("token", n)))))
}

func newDeviceID(t testing.TB) string {
	t.Helper()
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	id, err := certs.DeviceIDFromPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func mint(n int, ttl time.Duration) EnrollToken {
	return EnrollToken{Hash: tokenHash(n), Label: fmt.Sprint("handheld ", n), By: "admin", CreatedAt: enrollT0, ExpiresAt: enrollT0.Add(ttl)}
}

// enrollSamples are the snapshot round-trip samples of the device
// admission commands (see commandSamples).
func enrollSamples(t testing.TB) map[Type][][]byte {
	dev := newDeviceID(t)
	tok := jsonEntry(t, TypeEnrollToken, mint(1, time.Hour))
	return map[Type][][]byte{
		TypeEnrollToken:  {tok},
		TypeUseToken:     {tok, jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: dev, At: enrollT0.Add(time.Minute)})},
		TypeRevokeDevice: {jsonEntry(t, TypeRevokeDevice, RevokeDevice{Device: dev, By: "admin", Reason: "lost", At: enrollT0})},
		TypePurgeTokens: {tok, jsonEntry(t, TypeEnrollToken, mint(2, 48*time.Hour)),
			jsonEntry(t, TypePurgeTokens, PurgeTokens{Before: enrollT0.Add(24 * time.Hour)})},
	}
}

func useResult(t *testing.T, res any) UseResult {
	t.Helper()
	r, ok := res.(UseResult)
	if !ok {
		t.Fatalf("result %T %v, want a UseResult", res, res)
	}
	return r
}

// TestTokenIsUsedOnce: of several uses of one token, in one batch or in
// later ones, only the first succeeds; expiry is judged by the time in
// the command, whatever the clock says; replicas that apply the same
// log agree.
func TestTokenIsUsedOnce(t *testing.T) {
	devA, devB := newDeviceID(t), newDeviceID(t)
	// Valid in 2026 only: a clock-based rule would refuse or accept
	// these uses by today's date.
	entries := [][]byte{
		jsonEntry(t, TypeEnrollToken, mint(1, time.Hour)),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: devA, At: enrollT0.Add(time.Minute)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: devB, At: enrollT0.Add(2 * time.Minute)}),
		jsonEntry(t, TypeEnrollToken, mint(2, time.Hour)),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(2), Device: devB, At: enrollT0.Add(time.Hour)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(3), Device: devB, At: enrollT0}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(2), Device: devB, At: enrollT0.Add(59 * time.Minute)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: devA, At: enrollT0.Add(3 * time.Hour)}),
	}
	want := []struct{ refused, device string }{
		{"", devA}, {RefusedUsed, devA}, {RefusedExpired, ""}, {RefusedUnknown, ""}, {"", devB},
		{"", devA}, // the same device again, even after expiry: its use stands
	}
	var hashes []string
	for _, split := range []int{len(entries), 1} { // one batch; one entry per batch
		st := openStore(t)
		l := &log{p: newProc(t, st)}
		var results []any
		for i := 0; i < len(entries); i += split {
			results = append(results, l.apply(t, entries[i:min(i+split, len(entries))]...)...)
		}
		uses := []any{results[1], results[2], results[4], results[5], results[6], results[7]}
		for i, res := range uses {
			r := useResult(t, res)
			if r.Refused != want[i].refused || r.Token.Device != want[i].device || (i == 5 && !r.Token.UsedAt.Equal(enrollT0.Add(time.Minute))) {
				t.Fatalf("split %d, use %d: %+v, want %+v", split, i, r, want[i])
			}
			if r.Refused != "" && r.Reason == "" {
				t.Fatalf("refusal without a reason: %+v", r)
			}
		}
		h, _ := hashOf(t, st)
		hashes = append(hashes, h)
	}
	if hashes[0] != hashes[1] {
		t.Fatal("replicas applying the same log in other batches disagree")
	}
}

func TestRevokedDeviceCannotUseToken(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	devA, devB := newDeviceID(t), newDeviceID(t)
	res := l.apply(t,
		jsonEntry(t, TypeEnrollToken, mint(1, time.Hour)),
		jsonEntry(t, TypeRevokeDevice, RevokeDevice{Device: devA, By: "admin", Reason: "lost", At: enrollT0}),
		jsonEntry(t, TypeRevokeDevice, RevokeDevice{Device: devA, By: "lead", Reason: "again", At: enrollT0.Add(time.Minute)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: devA, At: enrollT0.Add(time.Minute)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: devB, At: enrollT0.Add(2 * time.Minute)}),
	)
	if first, again := res[1].(RevokeDevice), res[2].(RevokeDevice); first.Reason != "lost" || !reflect.DeepEqual(first, again) {
		t.Fatalf("second revocation replaced the first: %+v, %+v", first, again)
	}
	if r := useResult(t, res[3]); r.Refused != RefusedRevoked || !strings.Contains(r.Reason, "revoked") {
		t.Fatalf("revoked device used the token: %+v", r)
	}
	if r := useResult(t, res[4]); r.Refused != "" || r.Token.Device != devB {
		t.Fatalf("the token was burnt by the revoked device: %+v", r)
	}
	_ = st.View(func(r *state.Reader) error {
		revs, err := r.RevokedDevices()
		if err != nil || len(revs) != 1 || revs[0].Device != devA || revs[0].By != "admin" {
			t.Errorf("revoked %+v, %v", revs, err)
		}
		return nil
	})
}

func TestPurgeTokens(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	res := l.apply(t,
		jsonEntry(t, TypeEnrollToken, mint(1, time.Hour)),
		jsonEntry(t, TypeEnrollToken, mint(2, 48*time.Hour)),
		jsonEntry(t, TypeEnrollToken, mint(3, 2*time.Hour)),
		jsonEntry(t, TypePurgeTokens, PurgeTokens{Before: enrollT0.Add(2 * time.Hour)}),
		jsonEntry(t, TypeUseToken, UseToken{Hash: tokenHash(1), Device: newDeviceID(t), At: enrollT0}),
	)
	if p, ok := res[3].(PurgeResult); !ok || p.Purged != 1 {
		t.Fatalf("purge %+v", res[3])
	}
	// A purged token is unknown, as certs.MemoryTokenStore.Purge has it.
	if r := useResult(t, res[4]); r.Refused != RefusedUnknown {
		t.Fatalf("purged token: %+v", r)
	}
	_ = st.View(func(r *state.Reader) error {
		toks, err := r.EnrollTokens()
		if err != nil || len(toks) != 2 {
			t.Errorf("tokens after purge: %+v, %v", toks, err)
		}
		return nil
	})
}

func TestEnrollCommandsRejected(t *testing.T) {
	dev := newDeviceID(t)
	long := mint(5, time.Hour)
	long.Label = strings.Repeat("x", MaxTokenLabel+1)
	used := mint(6, time.Hour)
	used.UsedAt, used.Device = enrollT0, dev
	backwards := mint(7, -time.Hour)
	for _, tc := range []struct {
		name string
		typ  Type
		v    any
	}{
		{"token twice", TypeEnrollToken, mint(1, time.Hour)},
		{"short hash", TypeEnrollToken, EnrollToken{Hash: "abcd", CreatedAt: enrollT0, ExpiresAt: enrollT0.Add(time.Hour)}},
		{"upper-case hash", TypeEnrollToken, EnrollToken{Hash: strings.ToUpper(tokenHash(8)), CreatedAt: enrollT0, ExpiresAt: enrollT0.Add(time.Hour)}},
		{"long label", TypeEnrollToken, long},
		{"born used", TypeEnrollToken, used},
		{"expires before created", TypeEnrollToken, backwards},
		{"use: bad device", TypeUseToken, UseToken{Hash: tokenHash(1), Device: "hh-1", At: enrollT0}},
		{"use: lower-case device", TypeUseToken, UseToken{Hash: tokenHash(1), Device: strings.ToLower(dev), At: enrollT0}},
		{"use: no time", TypeUseToken, UseToken{Hash: tokenHash(1), Device: dev}},
		{"revoke: bad device", TypeRevokeDevice, RevokeDevice{Device: "x", At: enrollT0}},
		{"revoke: no time", TypeRevokeDevice, RevokeDevice{Device: dev}},
		{"purge: no time", TypePurgeTokens, PurgeTokens{}},
	} {
		st := openStore(t)
		l := &log{p: newProc(t, st)}
		l.apply(t, jsonEntry(t, TypeEnrollToken, mint(1, time.Hour)))
		before, _ := hashOf(t, st)
		res := l.apply(t, jsonEntry(t, tc.typ, tc.v))[0]
		if err, ok := res.(error); !ok || !errors.Is(err, ErrRejected) {
			t.Errorf("%s: result %v", tc.name, res)
		}
		if after, _ := hashOf(t, st); after != before {
			t.Errorf("%s: a rejected command changed the state", tc.name)
		}
	}
}

func TestEnrollUndecodableIsRefused(t *testing.T) {
	for _, typ := range []Type{TypeEnrollToken, TypeUseToken, TypeRevokeDevice, TypePurgeTokens} {
		st := openStore(t)
		res := (&log{p: newProc(t, st)}).apply(t, Encode(typ, []byte(`{"hash":`)))[0]
		if err, ok := res.(error); !ok || !errors.Is(err, ErrPayload) {
			t.Errorf("type %d: undecodable payload answered %v", typ, res)
		}
	}
}

// FuzzEnrollPayload: no payload makes decoding or validating a device
// admission command panic, and a payload that passes re-encodes to one
// that passes with the same value.
func FuzzEnrollPayload(f *testing.F) {
	for _, entries := range enrollSamples(f) {
		for _, e := range entries {
			_, p, _ := Decode(e)
			f.Add(uint8(TypeUseToken-TypeEnrollToken), p)
			f.Add(uint8(0), p)
		}
	}
	f.Add(uint8(3), []byte(`{"before":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, n uint8, payload []byte) {
		typ := TypeEnrollToken + Type(n%4)
		v, err := decodeEnroll(typ, payload)
		if err != nil || validateEnroll(v) != nil {
			return
		}
		b := jsonEntry(t, typ, v)
		_, p, _ := Decode(b)
		again, err := decodeEnroll(typ, p)
		if err != nil || validateEnroll(again) != nil || !reflect.DeepEqual(jsonEntry(t, typ, again), b) {
			t.Fatalf("re-encoded %T does not decode alike: %v", v, err)
		}
	})
}

// TestEveryTypeDecodes: the last types declared are known to Decode and
// listed by Types (a typeEnd equal to the last type once hid
// TypeRemoveNode from both).
func TestEveryTypeDecodes(t *testing.T) {
	for _, typ := range []Type{TypeRemoveNode, TypeEnrollToken, TypeUseToken, TypeRevokeDevice, TypePurgeTokens} {
		if got, _, err := Decode(Encode(typ, []byte("{}"))); err != nil || got != typ {
			t.Errorf("type %d decodes as %d, %v", typ, got, err)
		}
	}
	if ts := Types(); !slices.Contains(ts, TypeRemoveNode) || !slices.Contains(ts, TypePurgeTokens) {
		t.Errorf("Types %v", ts)
	}
}
