package procs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartTLSNode starts a one-node site with its API on HTTPS (--tls) and
// returns once it answers /readyz over HTTPS and has its seed records.
// extra flags go to the node after --tls.
func StartTLSNode(t testing.TB, bin string, extra ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{ID: "n1", Raft: FreeAddr(t), HTTP: FreeAddr(t), Extra: append([]string{"--tls"}, extra...), bin: bin, dir: dir}
	s.Data = filepath.Join(dir, s.ID)
	s.Start(t)
	WaitFor(t, 60*time.Second, "the TLS node ready", func() bool { return ReadyTLS(s) })
	WaitFor(t, 30*time.Second, "the seed admin user", func() bool {
		c, err := TLSClient(s, "admin")
		return err == nil && c.Get("/api/v1/me", nil) == nil
	})
	return s
}

// TLSURL is the node's API base URL over HTTPS.
func (s *Server) TLSURL() string { return "https://" + s.HTTP }

// CAFile is the site CA certificate in the node's data dir (written at
// its first start with --tls or --raft-tls).
func (s *Server) CAFile() string { return filepath.Join(s.Data, "certs", "ca.pem") }

// NodeCertFiles are the node's certificate and key files.
func (s *Server) NodeCertFiles() (cert, key string) {
	return filepath.Join(s.Data, "certs", "node.pem"), filepath.Join(s.Data, "certs", "node-key.pem")
}

// UserCertFiles are the certificate and key of user in the node's
// DIR/certs: the first node writes the bootstrap admin's there
// (admin.pem, admin-key.pem) when it creates the site CA.
func (s *Server) UserCertFiles(user string) (cert, key string) {
	return filepath.Join(s.Data, "certs", user+".pem"), filepath.Join(s.Data, "certs", user+"-key.pem")
}

// tlsConfig trusts the site CA of s (for any node of it) and presents
// the certificate of user found in the node's DIR/certs, or none.
func tlsConfig(s *Server, user string) (*tls.Config, error) {
	b, err := os.ReadFile(s.CAFile())
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", s.CAFile())
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// Node certificates name their hosts, and the test dials 127.0.0.1.
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: "127.0.0.1"}
	if user != "" {
		certFile, keyFile := s.UserCertFiles(user)
		if _, err := os.Stat(certFile); err == nil {
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return nil, err
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg, nil
}

// ReadyTLS reports whether the node answers /readyz over HTTPS with 200.
func ReadyTLS(s *Server) bool {
	cfg, err := tlsConfig(s, "")
	if err != nil {
		return false
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(s.TLSURL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TLSClient returns an API client for node s over HTTPS, trusting the
// site CA, acting as user: it presents the user's certificate from the
// node's DIR/certs (see UserCertFiles) when there is one, and names the
// user in the header.
func TLSClient(s *Server, user string) (*API, error) {
	cfg, err := tlsConfig(s, user)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, TLSClientConfig: cfg, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	return &API{Base: s.TLSURL(), User: user, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
}
