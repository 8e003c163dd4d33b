package sitetest

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// errCut is what a dial through a cut layer returns.
var errCut = errors.New("sitetest: node cut off the raft network")

// netCut wraps a node's raft stream layer so a test can cut the node
// off the other nodes' raft traffic and heal it again: while cut, its
// connections are closed, dials fail and accepted connections are
// dropped. The node's HTTP API stays reachable.
type netCut struct {
	raft.StreamLayer

	mu    sync.Mutex
	cut   bool
	conns map[*cutConn]struct{}
}

func newNetCut(inner raft.StreamLayer) *netCut {
	return &netCut{StreamLayer: inner, conns: map[*cutConn]struct{}{}}
}

// set cuts (true) or heals (false) the node's raft network.
func (l *netCut) set(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = cut
	if cut {
		for c := range l.conns {
			_ = c.Conn.Close() // not c.Close: that takes l.mu
		}
		clear(l.conns)
	}
}

func (l *netCut) track(c net.Conn) (net.Conn, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		_ = c.Close()
		return nil, false
	}
	tc := &cutConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, true
}

func (l *netCut) Accept() (net.Conn, error) {
	for {
		c, err := l.StreamLayer.Accept()
		if err != nil {
			return nil, err
		}
		if tc, ok := l.track(c); ok {
			return tc, nil
		}
	}
}

func (l *netCut) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	l.mu.Lock()
	cut := l.cut
	l.mu.Unlock()
	if cut {
		return nil, errCut
	}
	c, err := l.StreamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	tc, ok := l.track(c)
	if !ok {
		return nil, errCut
	}
	return tc, nil
}

type cutConn struct {
	net.Conn
	l *netCut
}

func (c *cutConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
