package console

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/webui"
	"github.com/custodyhq/custody/shared/master"
)

// Sessions are signed cookies: the user, the account's session epoch, a
// random session id, when it was issued and last used, and an HMAC with
// the console key from the replicated state, so every node checks a
// session alike without a session table. A session ends when it has
// been idle for Config.Idle, at Config.MaxAge after sign-in, and when
// the account's epoch moves (sign-out, disable, a new password): every
// session of that user then ends on every node. The cookie is renewed
// (a new last-use time) at most once a minute.

const (
	sessionCookie = "custody_session"
	loginCookie   = "custody_login"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

type sessionData = webui.Session

func (c *Console) encodeSession(key []byte, s sessionData) string {
	return webui.Seal(key, "session", s)
}

func (c *Console) decodeSession(key []byte, v string) (sessionData, bool) {
	var s sessionData
	ok := webui.Open(key, "session", v, &s)
	return s, ok
}

func randomID() string { return webui.RandomID() }

func (c *Console) setCookie(x *fiber.Ctx, name, value string, expires time.Time) {
	webui.SetCookie(x, name, value, expires, c.cfg.Secure)
}

// authenticate admits a request with a live session: the user is in
// x.Locals("user"), the session in x.Locals("session"). A page request
// without one goes to the sign-in form; anything else gets 401.
func (c *Console) authenticate(x *fiber.Ctx) error {
	u, s, why := c.session(x)
	if u == nil {
		c.setCookie(x, sessionCookie, "", time.Unix(1, 0))
		if x.Method() == fiber.MethodGet && !strings.HasPrefix(x.Path(), "/floor/stream") {
			q := url.Values{"next": {x.OriginalURL()}}
			if why != "" {
				q.Set("why", why)
			}
			return x.Redirect("/login?"+q.Encode(), fiber.StatusSeeOther)
		}
		return x.Status(fiber.StatusUnauthorized).SendString("sign in again: " + why)
	}
	now := c.cfg.Now()
	if now.Unix()-s.Last >= 60 {
		key, err := c.key()
		if err == nil {
			s.Last = now.Unix()
			c.setCookie(x, sessionCookie, c.encodeSession(key, *s), time.Time{})
		}
	}
	x.Locals("user", u)
	x.Locals("session", s)
	return x.Next()
}

// stillValid reports whether a session's user is still enabled and its
// epoch current (an open live page checks this now and then).
func (c *Console) stillValid(s *sessionData) bool {
	var a state.Account
	err := c.node.State().View(func(r *state.Reader) error { var err error; a, err = r.Account(s.User); return err })
	return err == nil && !a.Disabled && a.Epoch == s.Epoch && c.cfg.Now().Sub(time.Unix(s.Issued, 0)) < c.cfg.MaxAge
}

// session checks the request's session cookie; why says, for people,
// why a cookie that was sent is no good.
func (c *Console) session(x *fiber.Ctx) (*master.User, *sessionData, string) {
	v := x.Cookies(sessionCookie)
	if v == "" {
		return nil, nil, ""
	}
	key, err := c.key()
	if err != nil {
		return nil, nil, "the console is starting"
	}
	s, ok := c.decodeSession(key, v)
	if !ok {
		return nil, nil, "your session is not valid here"
	}
	now := c.cfg.Now()
	switch {
	case now.Sub(time.Unix(s.Issued, 0)) >= c.cfg.MaxAge:
		return nil, nil, "your session reached its time limit"
	case now.Sub(time.Unix(s.Last, 0)) >= c.cfg.Idle:
		return nil, nil, "your session ended after a while without use"
	}
	var u master.User
	var a state.Account
	err = c.node.State().View(func(r *state.Reader) error {
		var err error
		if u, err = r.User(s.User); err != nil {
			return err
		}
		a, err = r.Account(s.User)
		return err
	})
	switch {
	case err != nil:
		return nil, nil, "your session ended"
	case a.Disabled:
		return nil, nil, "your user is disabled"
	case a.Epoch != s.Epoch:
		return nil, nil, "your session ended (signed out, or the password changed)"
	}
	u.PIN = nil
	return &u, &s, ""
}

func currentUser(x *fiber.Ctx) *master.User {
	u, _ := x.Locals("user").(*master.User)
	if u == nil {
		return &master.User{}
	}
	return u
}

// csrfToken is the token a session's forms carry.
func (c *Console) csrfToken(x *fiber.Ctx) string {
	s, _ := x.Locals("session").(*sessionData)
	key, err := c.key()
	if s == nil || err != nil {
		return ""
	}
	return webui.Token(key, "csrf", s.ID)
}

// csrf refuses a state-changing request without the session's token
// (form field csrf, or header X-CSRF-Token).
func (c *Console) csrf(x *fiber.Ctx) error {
	want := c.csrfToken(x)
	got := x.FormValue(csrfField)
	if got == "" {
		got = x.Get(csrfHeader)
	}
	if !webui.TokenOK(got, want) {
		return c.renderError(x, fmt.Errorf("%w: this form is out of date or did not come from the console: reload the page and try again", ErrForbidden))
	}
	return x.Next()
}

// loginToken is the CSRF token of the sign-in form, tied to a random
// cookie of the browser's.
func loginToken(key []byte, nonce string) string {
	return webui.Token(key, "login", nonce)
}

type loginView struct {
	CSRF, Next, User, Message string
}

func (c *Console) loginForm(x *fiber.Ctx) error {
	return c.showLogin(x, x.Query("why"), "", fiber.StatusOK)
}

func (c *Console) showLogin(x *fiber.Ctx, msg, user string, status int) error {
	key, err := c.key()
	if err != nil {
		return err
	}
	nonce := x.Cookies(loginCookie)
	if len(nonce) != 32 {
		nonce = randomID()
		c.setCookie(x, loginCookie, nonce, time.Time{})
	}
	next := x.Query("next", x.FormValue("next"))
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	return c.render(x.Status(status), "login", "Sign in", loginView{CSRF: loginToken(key, nonce), Next: next, User: user, Message: msg})
}

// login checks a user id and password. Every outcome on a known user
// goes through the log (command.SignIn), so the lock after
// command.MaxSignInFailures wrong passwords holds on every node.
func (c *Console) login(x *fiber.Ctx) error {
	key, err := c.key()
	if err != nil {
		return err
	}
	nonce := x.Cookies(loginCookie)
	if nonce == "" || !webui.TokenOK(x.FormValue(csrfField), loginToken(key, nonce)) {
		return c.showLogin(x, "The sign-in form was out of date: try again.", "", fiber.StatusForbidden)
	}
	id := strings.TrimSpace(x.FormValue("user"))
	pw := x.FormValue("password")
	const wrong = "Wrong user or password."
	if id == "" || pw == "" {
		return c.showLogin(x, "Give your user id and password.", id, fiber.StatusBadRequest)
	}
	var a state.Account
	var u master.User
	err = c.node.State().View(func(r *state.Reader) error {
		var err error
		if u, err = r.User(id); err != nil {
			return err
		}
		a, err = r.Account(id)
		if errors.Is(err, state.ErrNotFound) {
			a, err = state.Account{User: id}, nil
		}
		return err
	})
	if errors.Is(err, state.ErrNotFound) {
		// The same answer and about the same work as a wrong password.
		_ = password.Verify(password.Dummy(), pw)
		return c.showLogin(x, wrong, id, fiber.StatusUnauthorized)
	}
	if err != nil {
		return err
	}
	now := c.cfg.Now().UTC()
	if a.Locked(now) {
		return c.showLogin(x, fmt.Sprintf("Too many wrong passwords: %s is locked until %s.", id, c.pages.clock(a.LockedUntil)), id, fiber.StatusTooManyRequests)
	}
	if a.Disabled {
		return c.showLogin(x, "This user is disabled: ask an admin.", id, fiber.StatusForbidden)
	}
	c.hashes <- struct{}{}
	err = password.Verify(a.Password, pw)
	<-c.hashes
	var res command.SignInResult
	if perr := c.proposeResult(x.UserContext(), command.TypeSignIn, command.SignIn{User: id, OK: err == nil, At: now}, &res); perr != nil {
		return perr
	}
	if err != nil {
		if !res.LockedUntil.IsZero() && res.LockedUntil.After(now) {
			return c.showLogin(x, fmt.Sprintf("Too many wrong passwords: %s is locked until %s.", id, c.pages.clock(res.LockedUntil)), id, fiber.StatusTooManyRequests)
		}
		return c.showLogin(x, wrong, id, fiber.StatusUnauthorized)
	}
	s := sessionData{User: u.ID, Epoch: a.Epoch, ID: randomID(), Issued: now.Unix(), Last: now.Unix()}
	c.setCookie(x, sessionCookie, c.encodeSession(key, s), time.Time{})
	c.setCookie(x, loginCookie, "", time.Unix(1, 0))
	c.log.Info("console sign-in", "user", u.ID, "addr", x.IP())
	next := x.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	return x.Redirect(next, fiber.StatusSeeOther)
}

// logout ends every session of the user (the account's epoch moves).
func (c *Console) logout(x *fiber.Ctx) error {
	u := currentUser(x)
	if err := c.propose(x.UserContext(), command.TypeAccount, command.AccountChange{User: u.ID, Action: command.AccountSignOut, By: u.ID, At: c.cfg.Now().UTC()}); err != nil {
		return err
	}
	c.setCookie(x, sessionCookie, "", time.Unix(1, 0))
	return x.Redirect("/login?why="+url.QueryEscape("You signed out."), fiber.StatusSeeOther)
}

// handler is a console route; its error becomes an error page.
type handler func(x *fiber.Ctx) error

func (c *Console) handle(h handler) fiber.Handler {
	return func(x *fiber.Ctx) error {
		if err := h(x); err != nil {
			return c.renderError(x, err)
		}
		return nil
	}
}

func (c *Console) renderError(x *fiber.Ctx, err error) error {
	status, msg := fiber.StatusInternalServerError, "Something went wrong on the server; it is in the server's log."
	var fe *fiber.Error
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, state.ErrNotFound), errors.Is(err, command.ErrNotFound):
		status, msg = fiber.StatusNotFound, "Not found (or not one of your clients')."
	case errors.Is(err, ErrBadRequest), errors.Is(err, command.ErrRejected):
		status, msg = fiber.StatusBadRequest, strings.TrimPrefix(strings.TrimPrefix(err.Error(), "console: bad request: "), "command: rejected: ")
	case errors.Is(err, ErrForbidden):
		status, msg = fiber.StatusForbidden, strings.TrimPrefix(err.Error(), "console: not allowed: ")
	case errors.Is(err, ErrNoKey), errors.Is(err, cluster.ErrNoLeader), errors.Is(err, cluster.ErrBusy), errors.Is(err, cluster.ErrNotLeader):
		status, msg = fiber.StatusServiceUnavailable, "The site is busy or choosing a leader: try again in a moment."
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	default:
		c.log.Error("console request", "path", x.Path(), "err", err)
	}
	return c.render(x.Status(status), "error", "Problem", errorView{Status: status, Message: msg})
}

type errorView struct {
	Status  int
	Message string
}
