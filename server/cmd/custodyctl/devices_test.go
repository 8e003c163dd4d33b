package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
)

// startTLSNode runs one node with its API on HTTPS and returns its URL
// and the CA file to trust.
func startTLSNode(t *testing.T) (url, caFile string, ca *certs.CA) {
	t.Helper()
	dir := t.TempDir()
	site, err := certs.Bootstrap(dir, "custody", "n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raftAddr := raftLn.Addr().String()
	raftLn.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: filepath.Join(dir, "node"), RaftAddr: raftAddr, HTTPAddr: ln.Addr().String(),
		Bootstrap: true, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cert := site.Node.TLSCertificate()
	srv := api.New(api.Config{Node: node, Logger: log, CA: site.CA,
		TLS:      certs.ServerTLS(site.CA.Cert(), cert, nil, certs.AllowNoClientCert()),
		Verifier: certs.NewVerifier(site.CA.Cert(), syncsite.NewRevocations(node.State(), log), nil)})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = node.Serve(ctx) })
	wg.Go(func() { _ = srv.ServeListener(ctx, ln) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := false
		_ = node.State().View(func(r *state.Reader) error { _, err := r.User("admin"); ok = err == nil; return nil })
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no admin user")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "https://" + ln.Addr().String(), site.Layout.CACertFile(), site.CA
}

// adminCert writes a user certificate of ca for the admin into a
// temporary directory, as custody-server does on a new site.
func adminCert(t *testing.T, ca *certs.CA) (certFile, keyFile string) {
	t.Helper()
	leaf, err := ca.IssueUser("admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "admin.pem"), filepath.Join(dir, "admin-key.pem")
	if err := leaf.Save(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestDevicesOverHTTPS(t *testing.T) {
	url, caFile, ca := startTLSNode(t)
	if code, _, errs := ctl(t, "--server", url, "devices", "tokens"); code != 1 || !strings.Contains(errs, "--ca") {
		t.Fatalf("https without --ca: %d %s", code, errs)
	}
	if code, _, errs := ctl(t, "--server", url, "--ca", caFile, "--cert", caFile, "devices", "tokens"); code != 1 || !strings.Contains(errs, "together") {
		t.Fatalf("--cert without --key: %d %s", code, errs)
	}
	// Over HTTPS the user header alone is refused.
	if code, _, errs := ctl(t, "--server", url, "--ca", caFile, "devices", "tokens"); code != 1 || !strings.Contains(errs, "401") {
		t.Fatalf("no user certificate: %d %s", code, errs)
	}
	admCert, admKey := adminCert(t, ca)
	ctl := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		return ctl(t, append([]string{"--cert", admCert, "--key", admKey}, args...)...)
	}
	if code, _, _ := ctl(t, "--server", url, "--ca", caFile, "devices", "token"); code != 2 {
		t.Fatal("a token without a label")
	}
	code, out, errs := ctl(t, "--server="+url, "--ca="+caFile, "devices", "token", "--label", "dock 2", "--ttl", "1h")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errs)
	}
	var tok api.TokenAnswer
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" || tok.CAFingerprint != certs.Fingerprint(ca.Cert()) {
		t.Fatalf("token answer %s: %v", out, err)
	}
	if !strings.Contains(errs, "custody-hh enroll --server "+url+" --token "+tok.Token+" --ca-fingerprint "+tok.CAFingerprint) {
		t.Fatalf("no enrollment hint: %s", errs)
	}
	if code, out, errs := ctl(t, "--server", url, "--ca", caFile, "devices", "tokens"); code != 0 || !strings.Contains(out, "dock 2") || strings.Contains(out, tok.Token) {
		t.Fatalf("tokens: %d %s %s", code, out, errs)
	}
	_, id, err := ca.IssueDevice()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := ctl(t, "--server", url, "--ca", caFile, "devices", "revoke", id.String(), "--reason", "stolen"); code != 0 || !strings.Contains(out, "stolen") {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if code, out, _ := ctl(t, "--server", url, "--ca", caFile, "devices", "revoked"); code != 0 || !strings.Contains(out, id.String()) {
		t.Fatalf("revoked: %d %s", code, out)
	}
	if code, _, errs := ctl(t, "--server", url, "--ca", caFile, "devices", "revoke", "nonsense"); code != 1 || !strings.Contains(errs, "400") {
		t.Fatalf("revoke a malformed id: %d %s", code, errs)
	}
	// Another site's CA does not trust this node.
	other := filepath.Join(t.TempDir(), "other")
	otherSite, err := certs.Bootstrap(other, "custody", "n1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := ctl(t, "--server", url, "--ca", otherSite.Layout.CACertFile(), "devices", "tokens"); code != 1 || !strings.Contains(errs, "certificate") {
		t.Fatalf("another site's CA: %d %s", code, errs)
	}
}

// TestUsersCert: an admin has the site sign a certificate for a key made
// here; the certificate then acts as its user.
func TestUsersCert(t *testing.T) {
	url, caFile, ca := startTLSNode(t)
	admCert, admKey := adminCert(t, ca)
	out := filepath.Join(t.TempDir(), "certs")
	as := []string{"--server", url, "--ca", caFile, "--cert", admCert, "--key", admKey}
	if code, _, _ := ctl(t, append(as, "users", "cert")...); code != 2 {
		t.Fatal("users cert without an id")
	}
	if code, _, errs := ctl(t, append(as, "users", "cert", "ghost", "--out", out)...); code != 1 || !strings.Contains(errs, "404") {
		t.Fatalf("a certificate for an unknown user: %d %s", code, errs)
	}
	code, stdout, errs := ctl(t, append(as, "users", "cert", "admin", "--out", out)...)
	if code != 0 {
		t.Fatalf("users cert: %d %s", code, errs)
	}
	var files struct{ User, Cert, Key string }
	if err := json.Unmarshal([]byte(stdout), &files); err != nil || files.Cert != filepath.Join(out, "admin.pem") {
		t.Fatalf("answer %s: %v", stdout, err)
	}
	if fi, err := os.Stat(files.Key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	if code, stdout, errs := ctl(t, "--server", url, "--ca", caFile, "--cert", files.Cert, "--key", files.Key, "devices", "tokens"); code != 0 || !strings.Contains(stdout, "items") {
		t.Fatalf("with the new certificate: %d %s %s", code, stdout, errs)
	}
	if code, _, errs := ctl(t, append(as, "users", "cert", "admin", "--out", out)...); code != 1 || !strings.Contains(errs, "exists") {
		t.Fatalf("over existing files: %d %s", code, errs)
	}
}
