package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// An admin sets a plain PIN; the site keeps the verifier handhelds
// check, answers only that a PIN is set, and a later put of the user
// keeps it.
func TestAdminSetsAPlainPIN(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	adm.ok("PUT", "/api/v1/users/op1", map[string]any{"name": "Op", "role": "operator", "clients": []string{"*"}}, nil)
	for _, tc := range []struct {
		name, path string
		body       any
		code       int
	}{
		{"too short", "/api/v1/users/op1/pin", map[string]any{"pin": "123"}, http.StatusBadRequest},
		{"not digits", "/api/v1/users/op1/pin", map[string]any{"pin": "12ab"}, http.StatusBadRequest},
		{"too long", "/api/v1/users/op1/pin", map[string]any{"pin": "1234567890123"}, http.StatusBadRequest},
		{"an unknown user", "/api/v1/users/ghost/pin", map[string]any{"pin": "2468"}, http.StatusNotFound},
	} {
		if code, _, b := adm.do("POST", tc.path, tc.body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, b, tc.code)
		}
	}
	if code, _, _ := adm.as("op1").do("POST", "/api/v1/users/op1/pin", map[string]any{"pin": "2468"}); code != http.StatusForbidden {
		t.Errorf("an operator setting a PIN: %d", code)
	}
	var set struct {
		HasPIN bool `json:"hasPin"`
	}
	adm.ok("POST", "/api/v1/users/op1/pin", map[string]any{"pin": "2468"}, &set)
	if !set.HasPIN {
		t.Fatalf("answer %+v", set)
	}
	adm.ok("PUT", "/api/v1/users/op1", map[string]any{"name": "Op One", "role": "operator", "clients": []string{"*"}}, nil)
	for _, path := range []string{"/api/v1/users/op1?consistency=leader", "/api/v1/users?consistency=leader"} {
		code, _, b := adm.do("GET", path, nil)
		if code != http.StatusOK || !strings.Contains(string(b), `"hasPin":true`) || strings.Contains(string(b), "salt") || strings.Contains(string(b), "hash") {
			t.Fatalf("%s: %d %s", path, code, b)
		}
	}
	leader := site.WaitLeader(10 * time.Second)
	var u master.User
	if err := leader.Node.State().View(func(r *state.Reader) (err error) { u, err = r.User("op1"); return }); err != nil {
		t.Fatal(err)
	}
	if u.Name != "Op One" || u.PIN.Check("2468") != nil || u.PIN.Check("1357") == nil {
		t.Fatalf("stored user %+v", u)
	}
}
