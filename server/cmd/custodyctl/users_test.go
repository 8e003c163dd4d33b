package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsersRevoke: an admin revokes a user's certificates (here the
// admin's own, as after a leaked admin-key.pem); every certificate
// issued until then is refused, one issued afterwards works.
func TestUsersRevoke(t *testing.T) {
	url, caFile, ca := startTLSNode(t)
	admCert, admKey := adminCert(t, ca)
	as := func(cert, key string, args ...string) []string {
		return append([]string{"--server", url, "--ca", caFile, "--cert", cert, "--key", key}, args...)
	}
	dir := t.TempDir()
	if code, _, errs := ctl(t, as(admCert, admKey, "users", "cert", "admin", "--out", filepath.Join(dir, "before"))...); code != 0 {
		t.Fatalf("users cert: %d %s", code, errs)
	}
	before, beforeKey := filepath.Join(dir, "before", "admin.pem"), filepath.Join(dir, "before", "admin-key.pem")
	for _, tc := range []struct {
		name string
		args []string
		code int
		errs string
	}{
		{"no id", []string{"users", "revoke"}, 2, "usage"},
		{"a stray argument", []string{"users", "revoke", "admin", "extra"}, 2, "usage"},
		{"an unknown command", []string{"users", "forget", "admin"}, 2, "unknown users command"},
		{"an unknown user", []string{"users", "revoke", "ghost"}, 1, "404"},
	} {
		if code, _, errs := ctl(t, as(admCert, admKey, tc.args...)...); code != tc.code || !strings.Contains(errs, tc.errs) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, errs, tc.code, tc.errs)
		}
	}

	code, out, errs := ctl(t, as(admCert, admKey, "users", "revoke", "admin", "--reason", "key lost")...)
	var rec struct{ User, By, Reason string }
	if err := json.Unmarshal([]byte(out), &rec); code != 0 || err != nil || rec.User != "admin" || rec.By != "admin" || rec.Reason != "key lost" {
		t.Fatalf("users revoke: %d %s %s", code, out, errs)
	}
	for name, files := range map[string][2]string{"the revoking certificate": {admCert, admKey}, "one issued before": {before, beforeKey}} {
		if code, _, errs := ctl(t, as(files[0], files[1], "devices", "tokens")...); code != 1 || !strings.Contains(errs, "401") || !strings.Contains(errs, "certificate revoked") {
			t.Errorf("%s: %d %s", name, code, errs)
		}
	}

	// The site's CA signs a new admin certificate (custody-server does,
	// on the node); with it the admin has one made for a key of its own.
	newCert, newKey := adminCert(t, ca)
	if code, _, errs := ctl(t, as(newCert, newKey, "users", "cert", "admin", "--out", filepath.Join(dir, "after"))...); code != 0 {
		t.Fatalf("users cert after revocation: %d %s", code, errs)
	}
	after, afterKey := filepath.Join(dir, "after", "admin.pem"), filepath.Join(dir, "after", "admin-key.pem")
	if code, out, errs := ctl(t, as(after, afterKey, "devices", "tokens")...); code != 0 || !strings.Contains(out, "items") {
		t.Fatalf("a certificate issued after the revocation: %d %s %s", code, out, errs)
	}
}

// TestUsersPassword: an admin sets a user's console password from stdin;
// a password too short or missing is refused before anything is sent.
func TestUsersPassword(t *testing.T) {
	url, caFile, ca := startTLSNode(t)
	admCert, admKey := adminCert(t, ca)
	args := func(a ...string) []string {
		return append([]string{"--server", url, "--ca", caFile, "--cert", admCert, "--key", admKey}, a...)
	}
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		out         string
	}{
		{"set", "a long enough secret\n", []string{"users", "password", "admin"}, 0, `"set"`},
		{"too short", "short\n", []string{"users", "password", "admin"}, 1, "at least"},
		{"nothing on stdin", "", []string{"users", "password", "admin"}, 2, "stdin"},
		{"an unknown user", "a long enough secret\n", []string{"users", "password", "ghost"}, 1, "404"},
	}
	for _, tc := range tests {
		code, out, errs := runCtl(t, tc.stdin, args(tc.args...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.out) {
			t.Errorf("%s: %d %s %s, want %d with %q", tc.name, code, out, errs, tc.code, tc.out)
		}
		if strings.Contains(out+errs, "a long enough secret") || strings.Contains(out, "hash") {
			t.Errorf("%s: the answer repeats the password or a verifier: %s", tc.name, out)
		}
	}
}
