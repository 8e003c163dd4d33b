package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/handheld/syncdev"
)

// TestEnrolledDataDir: a data dir that holds a device certificate is
// used as that device, by every command; -device may repeat the id but
// not contradict it; sync then speaks wss:// with the certificate.
func TestEnrolledDataDir(t *testing.T) {
	ca, err := certs.NewCA(certs.CAConfig{SiteName: "hh"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, id, err := ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hh")
	plain := filepath.Join(t.TempDir(), "plain")
	for _, tc := range []struct {
		dir, flagged, want string
		ok                 bool
	}{
		{plain, "", defaultDevice, true},
		{plain, "hh-7", "hh-7", true},
	} {
		if got, err := deviceID(tc.dir, tc.flagged); (err == nil) != tc.ok || got != tc.want {
			t.Errorf("deviceID(%s, %q) = %q, %v", tc.dir, tc.flagged, got, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := (&syncdev.Identity{Leaf: leaf, CA: ca.Cert(), Device: id}).Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flagged string
		ok      bool
	}{{"", true}, {id.String(), true}, {"hh-demo", false}} {
		if got, err := deviceID(dir, tc.flagged); (err == nil) != tc.ok || (tc.ok && got != id.String()) {
			t.Errorf("enrolled deviceID(%q) = %q, %v", tc.flagged, got, err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	if err := run([]string{"outbox", "-data", dir}, strings.NewReader(""), &out, log); err != nil {
		t.Fatalf("outbox of the enrolled device: %v", err)
	}
	if err := run([]string{"outbox", "-data", dir, "-device", "hh-demo"}, strings.NewReader(""), &out, log); err == nil {
		t.Fatal("a contradicting -device was accepted")
	}

	url, cfg, err := syncTarget(dir, syncOptions{server: "https://127.0.0.1:9/", wait: time.Second})
	if err != nil || url != "wss://127.0.0.1:9/api/v1/sync" || cfg == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("enrolled sync target %q %v", url, err)
	}
	if _, _, err := syncTarget(dir, syncOptions{server: "http://127.0.0.1:9"}); err == nil {
		t.Fatal("an enrolled device would sync in clear")
	}
	if url, cfg, err := syncTarget(plain, syncOptions{}); err != nil || url != "ws://127.0.0.1:8081/api/v1/sync" || cfg != nil {
		t.Fatalf("unenrolled default: %q %v", url, err)
	}
	if _, _, err := syncTarget(plain, syncOptions{server: "https://127.0.0.1:9"}); err == nil {
		t.Fatal("https without a CA to trust")
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.Save(caFile, filepath.Join(t.TempDir(), "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	if url, cfg, err := syncTarget(plain, syncOptions{server: "https://127.0.0.1:9", caFile: caFile}); err != nil || !strings.HasPrefix(url, "wss://") || cfg == nil || len(cfg.Certificates) != 0 {
		t.Fatalf("unenrolled over https: %q %v", url, err)
	}
	// A data dir that already holds an unenrolled replica cannot be enrolled.
	if err := run([]string{"outbox", "-data", plain}, strings.NewReader(""), &out, log); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"enroll", "-data", plain, "-server", "https://127.0.0.1:9", "-token", "x", "-ca-fingerprint", "00"},
		strings.NewReader(""), &out, log); err == nil || !strings.Contains(err.Error(), "new data directory") {
		t.Fatalf("enroll over an unenrolled replica: %v", err)
	}
}
