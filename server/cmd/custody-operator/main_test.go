package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
)

func TestPasswordCommand(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"a long enough password\n", true},
		{"short\n", false},
		{"", false},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		err := run(context.Background(), []string{"password"}, strings.NewReader(tc.in), &out, &out)
		if (err == nil) != tc.ok {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if !tc.ok {
			continue
		}
		var v state.PasswordVerifier
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if password.Verify(&v, strings.TrimSpace(tc.in)) != nil || password.Verify(&v, "another password") == nil {
			t.Fatal("the printed verifier does not verify the password")
		}
	}
}

func TestBadConfigRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "operator.json")
	for _, body := range []string{`{"sites":[]}`, `{"sites":[{"id":"a","url":"ftp://x","user":"u","clients":["c"]}]}`, `{"unknown":1}`} {
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := run(context.Background(), []string{"--config", cfg, "--data", filepath.Join(dir, "d"), "--http", "127.0.0.1:0"}, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "configuration") {
			t.Fatalf("%s: err %v", body, err)
		}
	}
}
