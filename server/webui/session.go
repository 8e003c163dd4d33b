package webui

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Session is what a signed session cookie carries: the user, the
// account's epoch when it was issued (a sign-out or a disable moves the
// epoch on and ends it), the session's own id, and when it was issued and
// last used (Unix seconds), for the absolute and the idle limit.
type Session struct {
	User   string `json:"u"`
	Epoch  uint64 `json:"e"`
	ID     string `json:"s"`
	Issued int64  `json:"i"`
	Last   int64  `json:"l"`
}

// RandomID is 16 random bytes in hex. A machine without randomness
// cannot sign anyone in safely, so it panics.
func RandomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("webui: random: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// SetCookie sets a cookie of the consoles: the whole site, HttpOnly,
// SameSite=Strict, Secure when served over TLS. A zero expires makes a
// browser-session cookie; a past one removes it.
func SetCookie(x *fiber.Ctx, name, value string, expires time.Time, secure bool) {
	x.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteStrictMode, Expires: expires})
}
