package cluster

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// tlsLayer is a raft stream layer over mutual TLS: the listener uses the
// node's server configuration, dialling a peer its client configuration.
type tlsLayer struct {
	net.Listener
	advertise net.Addr
	client    *tls.Config
}

func newTLSLayer(bind string, advertise net.Addr, server, client *tls.Config) (*tlsLayer, error) {
	ln, err := tls.Listen("tcp", bind, server)
	if err != nil {
		return nil, err
	}
	return &tlsLayer{Listener: ln, advertise: advertise, client: client}, nil
}

func (l *tlsLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	return tls.DialWithDialer(d, "tcp", string(addr), l.client)
}

func (l *tlsLayer) Addr() net.Addr {
	if l.advertise != nil {
		return l.advertise
	}
	return l.Listener.Addr()
}

// secretTransport adds the cluster secret to a node's requests to other
// nodes.
type secretTransport struct {
	secret string
	next   http.RoundTripper
}

func (t *secretTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.secret == "" {
		return t.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set(HeaderSecret, t.secret)
	return t.next.RoundTrip(r)
}
