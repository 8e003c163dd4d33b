// Package webui is what the site console and the operator console
// share: signed cookie values and form tokens, the security headers of
// every page, the stylesheet, and times and numbers as people read
// them. It knows nothing of a site's state or of raft.
package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var assets embed.FS

// Asset is a file of the shared static assets by its name under
// /static/ ("console.css"); ok is false when there is none.
func Asset(name string) ([]byte, bool) {
	b, err := fs.ReadFile(assets, "static/"+name)
	return b, err == nil
}

// Sign is the HMAC-SHA256 under key of parts, each ended by a zero
// byte (so ("ab","c") and ("a","bc") differ).
func Sign(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// Seal encodes v as JSON in base64 and signs it for purpose kind: the
// value of a signed cookie.
func Seal(key []byte, kind string, v any) string {
	b, _ := json.Marshal(v)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(Sign(key, kind, p))
}

// Open checks a value Seal made for kind and decodes it into v; it
// reports false for anything else.
func Open(key []byte, kind, sealed string, v any) bool {
	p, sig, ok := strings.Cut(sealed, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, Sign(key, kind, p)) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	return err == nil && json.Unmarshal(b, v) == nil
}

// Token is a form token for purpose kind tied to id (a session id, a
// sign-in form's nonce): 40 hex digits.
func Token(key []byte, kind, id string) string {
	return hex.EncodeToString(Sign(key, kind, id))[:40]
}

// TokenOK compares a token a form sent with the one expected, in
// constant time; an empty expected token admits nothing.
func TokenOK(got, want string) bool {
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

// PageHeaders sets what every HTML page answers with: a
// Content-Security-Policy that allows nothing from elsewhere and no
// inline script or style, no sniffing, no caching.
func PageHeaders(x *fiber.Ctx) {
	x.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	x.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	x.Set("X-Content-Type-Options", "nosniff")
	x.Set("Referrer-Policy", "same-origin")
	x.Set(fiber.HeaderCacheControl, "no-store")
}
