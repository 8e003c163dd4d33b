package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDevicesNotRevokedShowTheirState: a device nobody revoked shows as
// online or offline with a Revoke form, never as revoked.
func TestDevicesNotRevokedShowTheirState(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _ := b.Login("admin", "admin password 1"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	code, _, page := b.Do("GET", "/devices", nil)
	if code != http.StatusOK {
		t.Fatalf("devices: %d %.500s", code, page)
	}
	if !strings.Contains(page, "hh-a") {
		t.Fatalf("the device that received is not listed: %.3000s", page)
	}
	if strings.Contains(page, "revoked") {
		t.Fatalf("a device nobody revoked shows as revoked: %.3000s", page)
	}
	if !strings.Contains(page, `action="/devices/hh-a/revoke"`) {
		t.Fatalf("no Revoke form for a device in use: %.3000s", page)
	}
}
