// Package webuitest drives a console's Fiber app as a browser would,
// for tests: a cookie jar, form posts with the page's CSRF token, and
// sign-in through the login form. Both the site console and the
// operator console are tested through it.
package webuitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Browser is one browser: its own cookies, against one app.
type Browser struct {
	t       testing.TB
	app     *fiber.App
	cookies map[string]string
}

// New is a browser with no cookies.
func New(t testing.TB, app *fiber.App) *Browser {
	return &Browser{t: t, app: app, cookies: map[string]string{}}
}

// Do sends a request (a form post when form is not nil) with the
// browser's cookies, keeps the cookies the answer sets or clears, and
// returns the status, headers and body.
func (b *Browser) Do(method, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.app.Test(req, -1)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Value == "" || !c.Expires.IsZero() && c.Expires.Before(time.Unix(10, 0)) {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

// Page gets a page that must answer 200.
func (b *Browser) Page(path string) string {
	b.t.Helper()
	code, _, page := b.Do("GET", path, nil)
	if code != http.StatusOK {
		b.t.Fatalf("%s: %d %.800s", path, code, page)
	}
	return page
}

// Login signs in through the login form: 303 and where it leads, or the
// status and the page.
func (b *Browser) Login(user, pw string) (int, string) {
	b.t.Helper()
	_, _, page := b.Do("GET", "/login", nil)
	code, h, body := b.Do("POST", "/login", url.Values{"csrf": {CSRF(b.t, page)}, "user": {user}, "password": {pw}, "next": {"/"}})
	if code == http.StatusSeeOther {
		return code, h.Get("Location")
	}
	return code, body
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// CSRF is the form token of a page.
func CSRF(t testing.TB, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in %.300s", page)
	}
	return m[1]
}
