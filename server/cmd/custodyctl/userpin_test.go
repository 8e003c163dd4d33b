package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsersPIN: an admin sets a user's PIN from standard input; the
// answer says a PIN is set and never carries the verifier.
func TestUsersPIN(t *testing.T) {
	url, caFile, ca := startTLSNode(t)
	admCert, admKey := adminCert(t, ca)
	as := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--server", url, "--ca", caFile, "--cert", admCert, "--key", admKey}, args...),
			strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		errs        string
	}{
		{"no PIN", "", []string{"users", "pin", "admin"}, 2, "no PIN"},
		{"letters", "12ab\n", []string{"users", "pin", "admin"}, 1, "digits"},
		{"an unknown user", "2468\n", []string{"users", "pin", "ghost"}, 1, "404"},
		{"a stray argument", "2468\n", []string{"users", "pin", "admin", "2468"}, 2, "usage"},
	} {
		if code, _, errs := as(tc.stdin, tc.args...); code != tc.code || !strings.Contains(errs, tc.errs) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, errs, tc.code, tc.errs)
		}
	}
	code, out, errs := as("2468\n", "users", "pin", "admin")
	if code != 0 || !strings.Contains(out, `"hasPin": true`) || strings.Contains(out, "salt") || strings.Contains(out, "hash") {
		t.Fatalf("users pin: %d %s %s", code, out, errs)
	}
}
