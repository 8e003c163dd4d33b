package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/custodyhq/custody/certs"
)

func TestParseTLS(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--data", "d", "--tls"}, ""},
		{[]string{"--data", "d", "--tls", "--join", "https://127.0.0.1:8081"}, ""},
		{[]string{"--data", "d", "--tls", "--join", "http://127.0.0.1:8081"}, "https://"},
		{[]string{"--data", "d", "--join", "http://127.0.0.1:8081"}, ""},
		{[]string{"--data", "d", "--recover", "peers.json"}, ""},
		{[]string{"--data", "d", "--recover", "peers.json", "--join", "http://127.0.0.1:8081"}, "--recover excludes"},
		{[]string{"--data", "d", "--recover", "peers.json", "--restore", "backup"}, "--recover excludes"},
	} {
		o, err := parse(tc.args, io.Discard)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v", tc.args, err)
		}
		// --tls implies --raft-tls: raft is never left open beside an
		// authenticated API.
		if err == nil && o.tls != o.raftTLS {
			t.Errorf("%v: tls %v, raft-tls %v", tc.args, o.tls, o.raftTLS)
		}
	}
	if o, err := parse([]string{"--data", "d", "--raft-tls"}, io.Discard); err != nil || !o.raftTLS || o.tls {
		t.Errorf("--raft-tls alone: %+v %v", o, err)
	}
}

// TestAdminCert: the certificate written for the bootstrap admin is a
// user certificate of the site CA for user "admin", with its key.
func TestAdminCert(t *testing.T) {
	site, err := certs.Bootstrap(t.TempDir(), "custody", "n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := issueAdminCert(site)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.LoadLeaf(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := certs.NewVerifier(site.CA.Cert(), nil, nil).Verify(leaf.Cert, certs.KindUser)
	if err != nil || p.User.Name != adminUser || p.User.Role != "admin" {
		t.Fatalf("admin certificate: %+v %v", p.User, err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v", err)
	}
}

func TestCertHosts(t *testing.T) {
	for _, tc := range []struct {
		o    options
		want []string
	}{
		{options{raft: "127.0.0.1:7001", http: "10.0.0.5:8081"}, []string{"127.0.0.1"}},
		{options{raft: "127.0.0.1:7001", http: "10.0.0.5:8081", tls: true}, []string{"127.0.0.1", "10.0.0.5"}},
		{options{raft: "node1.site:7001", http: "node1.site:8081", tls: true}, []string{"node1.site"}},
		{options{raft: "0.0.0.0:7001", http: ":8081", tls: true}, nil},
	} {
		got, err := certHosts(tc.o)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, %v; want %v", tc.o, got, err, tc.want)
		}
	}
	if _, err := certHosts(options{raft: "nonsense", tls: true}); err == nil {
		t.Error("a raft address without a port")
	}
}

// The first node writes the admin's certificate whenever there is none
// (a site that ran with --raft-tls before --tls included), and never
// replaces one that is there.
func TestAdminCertWhenMissing(t *testing.T) {
	dir := t.TempDir()
	site, err := certs.Bootstrap(dir, "custody", "n1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, issued, err := ensureAdminCert(site)
	if err != nil || !issued {
		t.Fatalf("first start: issued %v, %v", issued, err)
	}
	before, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, issued, err := ensureAdminCert(site); err != nil || issued {
		t.Fatalf("second start: issued %v, %v", issued, err)
	}
	if after, _ := os.ReadFile(certFile); !bytes.Equal(before, after) {
		t.Fatal("the admin certificate was replaced")
	}
	leaf, err := certs.LoadLeaf(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := certs.NewVerifier(site.CA.Cert(), nil, nil).Verify(leaf.Cert, certs.KindUser); err != nil || p.User.Name != adminUser {
		t.Fatalf("admin certificate: %+v %v", p, err)
	}
	// Both files gone (a site from before, or a start cut short): issued again.
	os.Remove(certFile)
	os.Remove(keyFile)
	if _, _, issued, err := ensureAdminCert(site); err != nil || !issued {
		t.Fatalf("after removal: issued %v, %v", issued, err)
	}
}

// Plain HTTP or plaintext raft beyond loopback needs --insecure-listen.
func TestParseListen(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--data", "d"}, ""},
		{[]string{"--data", "d", "--http", "localhost:8081", "--raft", "[::1]:7001"}, ""},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081"}, "--insecure-listen"},
		{[]string{"--data", "d", "--http", ":8081"}, "--insecure-listen"},
		{[]string{"--data", "d", "--http", "192.0.2.10:8081"}, "--insecure-listen"},
		{[]string{"--data", "d", "--http", "node1.site:8081"}, "--insecure-listen"},
		{[]string{"--data", "d", "--raft", "192.0.2.10:7001"}, "--raft-tls"},
		{[]string{"--data", "d", "--raft", "192.0.2.10:7001", "--raft-tls"}, ""},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081", "--raft", "0.0.0.0:7001", "--tls"}, ""},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081", "--raft-tls"}, "--insecure-listen"},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081", "--raft", "0.0.0.0:7001", "--insecure-listen"}, ""},
	} {
		_, err := parse(tc.args, io.Discard)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
}

// Every start without --tls says the user header is trusted; the
// cluster-secret warning is for plain HTTP only, and says what the node
// does without one; --insecure-listen beyond loopback is called out.
func TestStartWarnings(t *testing.T) {
	const (
		trusted  = "trusts the X-Custody-User header"
		loopOnly = "answer only callers on this host"
		insecure = "--insecure-listen: serving without TLS beyond loopback"
	)
	for _, tc := range []struct {
		args      []string
		secret    bool
		want, not []string
	}{
		{[]string{"--data", "d"}, false, []string{trusted, loopOnly}, []string{insecure}},
		{[]string{"--data", "d"}, true, []string{trusted}, []string{loopOnly, insecure}},
		{[]string{"--data", "d", "--tls"}, false, nil, []string{trusted, loopOnly, "cluster-secret", insecure}},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081", "--insecure-listen"}, true, []string{trusted, insecure}, []string{loopOnly}},
		{[]string{"--data", "d", "--http", "0.0.0.0:8081", "--tls", "--insecure-listen"}, false, nil, []string{trusted, loopOnly, insecure}},
	} {
		o, err := parse(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		var out bytes.Buffer
		warnInsecure(slog.New(slog.NewTextHandler(&out, nil)), o, tc.secret)
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v (secret %v): no %q in %s", tc.args, tc.secret, w, out.String())
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out.String(), w) {
				t.Errorf("%v (secret %v): %q in %s", tc.args, tc.secret, w, out.String())
			}
		}
	}
}

// The binary refuses to start serving plain HTTP beyond loopback, before
// it opens anything.
func TestRunRefusesPlainHTTPBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run([]string{"--data", dir, "--http", "0.0.0.0:0"}, &stderr); code != 2 || !strings.Contains(stderr.String(), "--insecure-listen") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("the data directory was touched: %v %v", entries, err)
	}
}
