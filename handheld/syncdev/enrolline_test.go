package syncdev

import (
	"errors"
	"testing"
)

func TestParseEnrollLine(t *testing.T) {
	for _, tc := range []struct {
		line                string
		server, token, fing string
		bad                 bool
	}{
		{line: "custody-hh enroll --server https://10.0.0.5:8081 --token abc --ca-fingerprint 00ff", server: "https://10.0.0.5:8081", token: "abc", fing: "00ff"},
		{line: "  -server=https://h:1 -token=t1\n-ca-fingerprint=AA:BB ", server: "https://h:1", token: "t1", fing: "AA:BB"},
		{line: "custody-hh enroll --server https://h:1 --token t", bad: true},
		{line: "custody-hh enroll --server https://h:1 --token t --ca-fingerprint f --color red", bad: true},
		{line: "custody-hh enroll --server", bad: true},
		{line: "", bad: true},
	} {
		cfg, err := ParseEnrollLine(tc.line)
		if tc.bad {
			if !errors.Is(err, ErrEnroll) {
				t.Errorf("%q: err %v, want ErrEnroll", tc.line, err)
			}
			continue
		}
		if err != nil || cfg.Server != tc.server || cfg.Token != tc.token || cfg.CAFingerprint != tc.fing {
			t.Errorf("%q: %+v %v", tc.line, cfg, err)
		}
	}
}
