package api_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"testing"

	"github.com/custodyhq/custody/server/api"
)

// BenchmarkForwardedWrite: a master record written through a follower
// of a three-node site, which forwards it to the leader: over plain
// HTTP, and over HTTPS with node certificates (the client's connection
// and the forward both TLS, the user authenticated by its certificate
// at the follower, the forward by the node certificate at the leader).
// Connections are kept alive, as nodes keep theirs.
func BenchmarkForwardedWrite(b *testing.B) {
	for _, withTLS := range []bool{false, true} {
		b.Run(map[bool]string{false: "http", true: "https"}[withTLS], func(b *testing.B) {
			s := startSite(b, 3, 1000, withTLS)
			var follower *tlsNode
			for _, n := range s.nodes {
				if !n.node.IsLeader() {
					follower = n
				}
			}
			adm := s.client(b, "admin", s.userCert(b, "admin"))
			i := 0
			for b.Loop() {
				i++
				if code, body := adm.do("PUT", follower.url(fmt.Sprintf("/api/v1/locations/L%d", i)), map[string]string{"zone": "A"}); code != http.StatusOK {
					b.Fatalf("%d %s", code, body)
				}
			}
		})
	}
}

// BenchmarkEnroll: mint a token and enroll a device with it (a CSR
// made beforehand) through a follower: two commands through raft, the
// CSR check and the signature.
func BenchmarkEnroll(b *testing.B) {
	s := startTLSSite(b, 3, 1<<30)
	var follower *tlsNode
	for _, n := range s.nodes {
		if !n.node.IsLeader() {
			follower = n
		}
	}
	adm := s.client(b, "admin", s.userCert(b, "admin"))
	anon := s.client(b, "", tls.Certificate{})
	csr, _, _ := newCSR(b)
	for b.Loop() {
		tok := adm.mint(follower, "bench", "1h")
		if code, body := anon.do("POST", follower.url("/api/v1/enroll"), api.EnrollRequest{Token: tok.Token, CSR: string(csr)}); code != http.StatusOK {
			b.Fatalf("%d %s", code, body)
		}
	}
}
