package certs

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

func BenchmarkParseDeviceID(b *testing.B) {
	key, _ := NewKey()
	id, _ := DeviceIDFromPublicKey(key.Public())
	s := id.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDeviceID(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeviceIDString(b *testing.B) {
	key, _ := NewKey()
	id, _ := DeviceIDFromPublicKey(key.Public())
	b.ReportAllocs()
	for b.Loop() {
		_ = id.String()
	}
}

func BenchmarkVerifyDevice(b *testing.B) {
	clk := newTestClock()
	ca := newTestCA(b, clk, "Bench")
	dev, _, _ := ca.IssueDevice()
	revoked := NewRevocationList()
	for i := 0; i < 1000; i++ {
		d, _, _ := ca.IssueDevice()
		revoked.Revoke(d.Cert.SerialNumber, clk.Now(), 1)
	}
	v := NewVerifier(ca.Cert(), revoked, clk.Now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(dev.Cert, KindDevice); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnroll(b *testing.B) {
	clk := newTestClock()
	ca := newTestCA(b, clk, "Bench")
	enr := NewEnroller(ca, NewMemoryTokenStore(), clk.Now)
	key, _ := NewKey()
	csr, _, _ := NewDeviceCSR(key)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tok, _, err := enr.NewToken(ctx, time.Hour, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := enr.Enroll(ctx, tok, csr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeviceHandshake measures a full mutual-TLS handshake of a device
// with a node over 127.0.0.1 (no session resumption), both ends in process.
func BenchmarkDeviceHandshake(b *testing.B) {
	clk := newTestClock()
	ca := newTestCA(b, clk, "Bench")
	node, _ := ca.IssueNode("n1", []string{"127.0.0.1"})
	dev, _, _ := ca.IssueDevice()
	srv := ServerTLS(ca.Cert(), node.TLSCertificate(), NewRevocationList(), WithClock(clk.Now))
	cli := ClientTLS(ca.Cert(), dev.TLSCertificate(), "", WithClock(clk.Now))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					_, _ = c.Write([]byte{1})
				}
			}()
		}
	}()
	addr := ln.Addr().String()
	b.ReportAllocs()
	for b.Loop() {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c := tls.Client(raw, cli)
		var one [1]byte
		if _, err := io.ReadFull(c, one[:]); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
