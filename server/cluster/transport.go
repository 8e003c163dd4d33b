package cluster

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// streamLayer is a raft stream layer over TCP, or over mutual TLS when
// it has TLS configurations: the listener uses the node's server
// configuration, dialling a peer its client configuration.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	client    *tls.Config
}

func newStreamLayer(bind string, advertise net.Addr, server, client *tls.Config) (*streamLayer, error) {
	var ln net.Listener
	var err error
	if server != nil && client != nil {
		ln, err = tls.Listen("tcp", bind, server)
	} else {
		ln, err = net.Listen("tcp", bind)
		client = nil
	}
	if err != nil {
		return nil, err
	}
	return &streamLayer{Listener: ln, advertise: advertise, client: client}, nil
}

func (l *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if l.client == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), l.client)
}

func (l *streamLayer) Addr() net.Addr {
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
