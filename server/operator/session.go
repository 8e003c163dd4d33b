package operator

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/webui"
)

// Sessions work as the site console's: a signed cookie (webui.Seal)
// with the user, the user's session epoch (kept in the cache: signing
// out moves it and ends every session of the user), a random id, and
// the issue and last-use times; CSRF tokens are HMACs of the session id.
// Users and their password verifiers come from the configuration file.

const (
	sessionCookie = "custody_operator_session"
	loginCookie   = "custody_operator_login"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
	// maxFailures wrong passwords in a row lock a user for lockFor.
	maxFailures = 5
	lockFor     = 15 * time.Minute
)

type sessionData = webui.Session

func randomID() string { return webui.RandomID() }

func (o *Operator) setCookie(x *fiber.Ctx, name, value string, expires time.Time) {
	webui.SetCookie(x, name, value, expires, o.cfg.Secure)
}

func (o *Operator) authenticate(x *fiber.Ctx) error {
	u, s, why := o.session(x)
	if u == nil {
		o.setCookie(x, sessionCookie, "", time.Unix(1, 0))
		if x.Method() == fiber.MethodGet {
			q := url.Values{"next": {x.OriginalURL()}}
			if why != "" {
				q.Set("why", why)
			}
			return x.Redirect("/login?"+q.Encode(), fiber.StatusSeeOther)
		}
		return x.Status(fiber.StatusUnauthorized).SendString("sign in again: " + why)
	}
	if now := o.cfg.Now(); now.Unix()-s.Last >= 60 {
		s.Last = now.Unix()
		o.setCookie(x, sessionCookie, webui.Seal(o.key, "session", *s), time.Time{})
	}
	x.Locals("user", u)
	x.Locals("session", s)
	return x.Next()
}

func (o *Operator) session(x *fiber.Ctx) (*User, *sessionData, string) {
	v := x.Cookies(sessionCookie)
	if v == "" {
		return nil, nil, ""
	}
	var s sessionData
	if !webui.Open(o.key, "session", v, &s) {
		return nil, nil, "your session is not valid here"
	}
	now := o.cfg.Now()
	switch {
	case now.Sub(time.Unix(s.Issued, 0)) >= o.cfg.MaxAge:
		return nil, nil, "your session reached its time limit"
	case now.Sub(time.Unix(s.Last, 0)) >= o.cfg.Idle:
		return nil, nil, "your session ended after a while without use"
	}
	u := o.users[s.User]
	if u == nil {
		return nil, nil, "your user is no longer in the configuration"
	}
	e, err := o.cache.epoch(s.User)
	if err != nil || e != s.Epoch {
		return nil, nil, "your session ended (signed out)"
	}
	return u, &s, ""
}

func currentUser(x *fiber.Ctx) *User {
	u, _ := x.Locals("user").(*User)
	if u == nil {
		return &User{}
	}
	return u
}

func (o *Operator) csrfToken(x *fiber.Ctx) string {
	s, _ := x.Locals("session").(*sessionData)
	if s == nil {
		return ""
	}
	return webui.Token(o.key, "csrf", s.ID)
}

func (o *Operator) csrf(x *fiber.Ctx) error {
	got := x.FormValue(csrfField)
	if got == "" {
		got = x.Get(csrfHeader)
	}
	if !webui.TokenOK(got, o.csrfToken(x)) {
		return o.renderError(x, fmt.Errorf("%w: this form is out of date or did not come from the console: reload the page and try again", ErrForbidden))
	}
	return x.Next()
}

type loginView struct {
	CSRF, Next, User, Message string
}

func (o *Operator) loginForm(x *fiber.Ctx) error {
	return o.showLogin(x, x.Query("why"), "", fiber.StatusOK)
}

func (o *Operator) showLogin(x *fiber.Ctx, msg, user string, status int) error {
	nonce := x.Cookies(loginCookie)
	if len(nonce) != 32 {
		nonce = randomID()
		o.setCookie(x, loginCookie, nonce, time.Time{})
	}
	return o.render(x.Status(status), "login", "Sign in", loginView{CSRF: webui.Token(o.key, "login", nonce),
		Next: safeNext(x.Query("next", x.FormValue("next"))), User: user, Message: msg})
}

// showLocked answers a sign-in of a user locked until until.
func (o *Operator) showLocked(x *fiber.Ctx, id string, until time.Time) error {
	return o.showLogin(x, fmt.Sprintf("Too many wrong passwords: %s is locked until %s.", id, o.times.Clock(until)), id, fiber.StatusTooManyRequests)
}

func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (o *Operator) login(x *fiber.Ctx) error {
	nonce := x.Cookies(loginCookie)
	if nonce == "" || !webui.TokenOK(x.FormValue(csrfField), webui.Token(o.key, "login", nonce)) {
		return o.showLogin(x, "The sign-in form was out of date: try again.", "", fiber.StatusForbidden)
	}
	id := strings.TrimSpace(x.FormValue("user"))
	pw := x.FormValue("password")
	const wrong = "Wrong user or password."
	if id == "" || pw == "" {
		return o.showLogin(x, "Give your user id and password.", id, fiber.StatusBadRequest)
	}
	now := o.cfg.Now()
	f, err := o.cache.failures(id)
	if err != nil {
		return err
	}
	if now.Before(f.Until) {
		return o.showLocked(x, id, f.Until)
	}
	u := o.users[id]
	v := password.Dummy()
	if u != nil {
		v = &u.Pass
	}
	o.hashes <- struct{}{}
	err = password.Verify(v, pw)
	<-o.hashes
	if u == nil || err != nil {
		if u != nil {
			// Only configured users have counts: what a stranger types
			// never becomes a key of the cache.
			if f, err = o.failed(id, now); err != nil {
				return err
			}
		}
		if now.Before(f.Until) {
			return o.showLocked(x, id, f.Until)
		}
		return o.showLogin(x, wrong, id, fiber.StatusUnauthorized)
	}
	// The right password clears the count, unless wrong ones locked the
	// user while this one was being checked (attempts sent together).
	o.mu.Lock()
	f, err = o.cache.failures(id)
	if err == nil && !now.Before(f.Until) {
		err = o.cache.clearFailures(id)
	}
	o.mu.Unlock()
	if err != nil {
		return err
	}
	if now.Before(f.Until) {
		return o.showLocked(x, id, f.Until)
	}
	e, err := o.cache.epoch(id)
	if err != nil {
		return err
	}
	s := sessionData{User: id, Epoch: e, ID: randomID(), Issued: now.Unix(), Last: now.Unix()}
	o.setCookie(x, sessionCookie, webui.Seal(o.key, "session", s), time.Time{})
	o.setCookie(x, loginCookie, "", time.Unix(1, 0))
	o.log.Info("operator sign-in", "user", id, "addr", x.IP())
	return x.Redirect(safeNext(x.FormValue("next")), fiber.StatusSeeOther)
}

// failed counts a wrong password of user id at now, in the cache (a
// restart does not unlock a user): the maxFailures-th in a row locks
// the user for lockFor.
func (o *Operator) failed(id string, now time.Time) (failures, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := o.cache.failures(id)
	if err != nil {
		return f, err
	}
	f.N++
	if f.N >= maxFailures {
		f = failures{Until: now.Add(lockFor)}
	}
	return f, o.cache.putFailures(id, f)
}

func (o *Operator) logout(x *fiber.Ctx) error {
	if err := o.cache.bumpEpoch(currentUser(x).ID); err != nil {
		return err
	}
	o.setCookie(x, sessionCookie, "", time.Unix(1, 0))
	return x.Redirect("/login?why="+url.QueryEscape("You signed out."), fiber.StatusSeeOther)
}

type handler func(x *fiber.Ctx) error

func (o *Operator) handle(h handler) fiber.Handler {
	return func(x *fiber.Ctx) error {
		if err := h(x); err != nil {
			return o.renderError(x, err)
		}
		return nil
	}
}

type errorView struct {
	Status  int
	Message string
}

func (o *Operator) renderError(x *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, "Something went wrong on the server; it is in the operator's log."
	var fe *fiber.Error
	switch {
	case errors.Is(err, ErrNotFound):
		status, msg = fiber.StatusNotFound, "Not found (or not one of your clients')."
	case errors.Is(err, ErrBadRequest):
		status, msg = fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), "operator: bad request: ")
	case errors.Is(err, ErrForbidden):
		status, msg = fiber.StatusForbidden, strings.TrimPrefix(err.Error(), "operator: not allowed: ")
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	default:
		o.log.Error("operator request", "path", x.Path(), "err", err)
	}
	return o.render(x.Status(status), "error", "Problem", errorView{Status: status, Message: msg})
}
