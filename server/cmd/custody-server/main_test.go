package main

import (
	"io"
	"slices"
	"strings"
	"testing"
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
	} {
		_, err := parse(tc.args, io.Discard)
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v", tc.args, err)
		}
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
