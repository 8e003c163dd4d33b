package certs

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"
)

func readAll(t *testing.T, l Layout) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{l.CACertFile(), l.CAKeyFile(), l.NodeCertFile(), l.NodeKeyFile()} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

func TestBootstrapIdempotent(t *testing.T) {
	clk := newTestClock()
	dir := t.TempDir()
	l := NewLayout(dir)
	hosts := []string{"localhost", "127.0.0.1"}

	first, err := l.Bootstrap("Depot", "node-1", hosts, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Created, []string{CAKeyFileName, CACertFileName, NodeKeyFileName, NodeCertFileName}) {
		t.Fatalf("created %v", first.Created)
	}
	for _, p := range []string{l.CAKeyFile(), l.NodeKeyFile()} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", p, st.Mode().Perm(), err)
		}
	}
	before := readAll(t, l)

	second, err := l.Bootstrap("Depot", "node-1", hosts, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Created) != 0 {
		t.Fatalf("second run created %v", second.Created)
	}
	for p, b := range readAll(t, l) {
		if string(b) != string(before[p]) {
			t.Fatalf("%s changed on second run", p)
		}
	}
	if !second.Node.Cert.Equal(first.Node.Cert) || !second.CA.Cert().Equal(first.CA.Cert()) {
		t.Fatal("second run returned other certificates")
	}
	if _, err := NewVerifier(second.CA.Cert(), nil, clk.Now).Verify(second.Node.Cert, KindNode); err != nil {
		t.Fatal(err)
	}

	// A missing node pair is recreated under the same CA.
	os.Remove(l.NodeCertFile())
	os.Remove(l.NodeKeyFile())
	third, err := l.Bootstrap("Depot", "node-1", hosts, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(third.Created, []string{NodeKeyFileName, NodeCertFileName}) || !third.CA.Cert().Equal(first.CA.Cert()) {
		t.Fatalf("recreate node: created %v", third.Created)
	}

	// A new host or an expired node certificate gets a new one, same CA.
	fourth, err := l.Bootstrap("Depot", "node-1", append(hosts, "node-1.depot.internal"), clk.Now)
	if err != nil || len(fourth.Created) != 2 || !slices.Contains(fourth.Node.Cert.DNSNames, "node-1.depot.internal") {
		t.Fatalf("new host: %v, created %v", err, fourth.Created)
	}
	clk.Advance(DefaultNodeValidity + time.Hour)
	fifth, err := l.Bootstrap("Depot", "node-1", hosts, clk.Now)
	if err != nil || len(fifth.Created) != 2 || !fifth.CA.Cert().Equal(first.CA.Cert()) {
		t.Fatalf("expired node cert: %v, created %v", err, fifth.Created)
	}
}

func TestBootstrapRefusesToOverwrite(t *testing.T) {
	clk := newTestClock()
	tests := []struct {
		name    string
		prepare func(l Layout)
		site    string
		node    string
		wantErr error
	}{
		{"CA key missing", func(l Layout) { os.Remove(l.CAKeyFile()) }, "Depot", "node-1", ErrIncompleteLayout},
		{"CA cert missing", func(l Layout) { os.Remove(l.CACertFile()) }, "Depot", "node-1", ErrIncompleteLayout},
		{"node key missing", func(l Layout) { os.Remove(l.NodeKeyFile()) }, "Depot", "node-1", ErrIncompleteLayout},
		{"other site name", func(Layout) {}, "Elsewhere", "node-1", ErrLayoutMismatch},
		{"other node id", func(Layout) {}, "Depot", "node-2", ErrLayoutMismatch},
		{"node cert of another CA", func(l Layout) {
			other := newTestCA(t, clk, "Depot")
			n, _ := other.IssueNode("node-1", nil)
			if err := l.SaveNode(n); err != nil {
				t.Fatal(err)
			}
		}, "Depot", "node-1", ErrLayoutMismatch},
		{"corrupt CA", func(l Layout) { os.WriteFile(l.CACertFile(), []byte("x"), 0o644) }, "Depot", "node-1", ErrBadPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLayout(t.TempDir())
			if _, err := l.Bootstrap("Depot", "node-1", nil, clk.Now); err != nil {
				t.Fatal(err)
			}
			tt.prepare(l)
			var before []byte
			if b, err := os.ReadFile(l.CACertFile()); err == nil {
				before = b
			}
			if _, err := l.Bootstrap(tt.site, tt.node, nil, clk.Now); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if b, _ := os.ReadFile(l.CACertFile()); string(b) != string(before) {
				t.Fatal("CA certificate was overwritten")
			}
		})
	}
}

func TestBootstrapDefaultClock(t *testing.T) {
	site, err := Bootstrap(t.TempDir(), "Depot", "solo", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(site.CA.Cert(), nil, nil).Verify(site.Node.Cert, KindNode); err != nil {
		t.Fatalf("bootstrapped node not valid now: %v", err)
	}
}
