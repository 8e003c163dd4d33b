package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// TLSOption adjusts a tls.Config built by ServerTLS or ClientTLS.
type TLSOption func(*tlsOptions)

type tlsOptions struct {
	now               func() time.Time
	allowNoClientCert bool
	accept            []Kind
	revoked           RevocationChecker
}

// WithClock sets the clock used to check validity periods (time.Now by default).
func WithClock(now func() time.Time) TLSOption {
	return func(o *tlsOptions) { o.now = now }
}

// AllowNoClientCert lets clients connect without a certificate (ServerTLS
// only). It is for development mode of the websocket endpoint: a client that
// does present a certificate is still fully verified, and the handler must
// treat a connection without one as anonymous (Verifier.DeviceIDFromConn
// returns ErrNoPeerCert). Never use it for the raft listener.
func AllowNoClientCert() TLSOption {
	return func(o *tlsOptions) { o.allowNoClientCert = true }
}

// AcceptKinds restricts the peer certificates accepted to the given kinds.
// ServerTLS accepts every kind by default; the raft listener should accept
// only KindNode. ClientTLS always requires KindNode and ignores this option.
func AcceptKinds(kinds ...Kind) TLSOption {
	return func(o *tlsOptions) { o.accept = append([]Kind(nil), kinds...) }
}

// WithRevocation makes ClientTLS refuse a server whose certificate is
// revoked (ServerTLS takes its checker as an argument).
func WithRevocation(r RevocationChecker) TLSOption {
	return func(o *tlsOptions) { o.revoked = r }
}

func applyTLSOptions(opts []TLSOption) tlsOptions {
	var o tlsOptions
	for _, opt := range opts {
		opt(&o)
	}
	o.now = clockOrDefault(o.now)
	return o
}

// ServerTLS returns the tls.Config of a node's listeners (raft and HTTPS).
// The node presents nodeCert; every client must present a certificate issued
// by the site CA, within its validity period, not revoked by revoked (which
// may be nil), and of an accepted kind (see AcceptKinds). Only TLS 1.3.
//
// Client certificates are checked in VerifyConnection by the same Verifier
// the application uses, which runs on every handshake including resumed
// sessions, so a revocation takes effect on the next connection. ClientAuth
// is RequireAnyClientCert (RequestClientCert with AllowNoClientCert): the
// handshake itself refuses a missing certificate, and the Verifier refuses
// an untrusted one with this package's errors (ErrUnknownCA, ErrRevoked,
// ErrCertExpired, ErrWrongKind ...), which the server sees as the error of
// Handshake.
func ServerTLS(caCert *x509.Certificate, nodeCert tls.Certificate, revoked RevocationChecker, opts ...TLSOption) *tls.Config {
	o := applyTLSOptions(opts)
	v := NewVerifier(caCert, revoked, o.now)
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{nodeCert},
		ClientCAs:    poolOf(caCert),
		ClientAuth:   tls.RequireAnyClientCert,
		Time:         o.now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				if o.allowNoClientCert {
					return nil
				}
				return ErrNoPeerCert
			}
			_, err := v.VerifyConn(cs, o.accept...)
			return err
		},
	}
	if o.allowNoClientCert {
		cfg.ClientAuth = tls.RequestClientCert
	}
	return cfg
}

// ClientTLS returns the tls.Config for a device or a node dialling a node.
// cert is the client's certificate (a zero tls.Certificate sends none, for a
// server in development mode). The server must present a node certificate
// issued by the site CA, within its validity period and, with
// WithRevocation, not revoked. When serverName is not empty the certificate
// must also be valid for it (ErrHostMismatch otherwise); when it is empty any
// node of the site is accepted, which suits raft peers dialled by address.
//
// The standard verification is replaced (InsecureSkipVerify) by the
// Verifier in VerifyConnection, which performs the full check above; that is
// what lets an empty serverName mean "any node of this site".
func ClientTLS(caCert *x509.Certificate, cert tls.Certificate, serverName string, opts ...TLSOption) *tls.Config {
	o := applyTLSOptions(opts)
	v := NewVerifier(caCert, o.revoked, o.now)
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		ServerName:         serverName,
		InsecureSkipVerify: true, // verified in VerifyConnection below
		Time:               o.now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			p, err := v.VerifyConn(cs, KindNode)
			if err != nil {
				return fmt.Errorf("server: %w", err)
			}
			if serverName != "" {
				if err := p.Cert.VerifyHostname(serverName); err != nil {
					return fmt.Errorf("server %s: %w: %w", p.NodeID, ErrHostMismatch, err)
				}
			}
			return nil
		},
	}
	if len(cert.Certificate) > 0 {
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}
