package client

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRefusalText(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{403, `{"error":"device certificate refused: certs: certificate revoked","code":"forbidden"}`,
			"403 Forbidden: device certificate refused: certs: certificate revoked"},
		{401, "sync needs a certificate\nmore", "401 Unauthorized: sync needs a certificate"},
		{426, "", "426 Upgrade Required"},
		{503, `{"error":"a\u001bb"}`, "503 Service Unavailable: ab"},
	} {
		if got := RefusalText(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("%d %q: %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

// FuzzRefusalText: whatever a site answers, the text is one printable
// line of bounded length that starts with the status.
func FuzzRefusalText(f *testing.F) {
	f.Add(403, []byte(`{"error":"revoked"}`))
	f.Add(401, []byte("plain\r\ntext"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		got := RefusalText(status, body)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\n\r\x00") || utf8.RuneCountInString(got) > 400 {
			t.Fatalf("refusal text %q", got)
		}
	})
}
