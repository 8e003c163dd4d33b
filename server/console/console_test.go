package console_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/console"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/webui/webuitest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

const (
	gtinA = "00300010123455"
	gtinB = "00300020123452"
	xss   = `<script>alert(1)</script>`
)

// clock is a settable time for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t     *testing.T
	site  *sitetest.Site
	app   *fiber.App
	clock *clock
}

// browser keeps cookies like a browser of one person.
type browser = webuitest.Browser

func newEnv(t *testing.T) *env {
	site := sitetest.Start(t, sitetest.Options{})
	ck := &clock{t: time.Now()}
	con, err := console.New(console.Config{Node: site.Members[0].Node, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: ck.now, Idle: 10 * time.Minute, MaxAge: time.Hour, Tick: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = con.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Immutable: true}) // as the site's API serves it
	con.Mount(app)
	e := &env{t: t, site: site, app: app, clock: ck}
	// The console key is proposed at start.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _, _ := e.browser().Do("GET", "/login", nil); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console key never arrived")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.seed()
	return e
}

func (e *env) propose(typ command.Type, v any) {
	e.t.Helper()
	data, err := command.EncodeJSON(typ, v)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.site.Members[0].Node.Propose(context.Background(), data, false); err != nil {
		e.t.Fatalf("propose %d: %v", typ, err)
	}
}

func (e *env) setPassword(user, pw string) {
	e.t.Helper()
	v, err := password.New(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	e.propose(command.TypePassword, command.SetPassword{User: user, Password: v, By: "admin", At: time.Now().UTC()})
}

func (e *env) receive(dev, user, client string, seq uint64, k event.Key, lot string) {
	e.t.Helper()
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	ev := event.Event{ID: id, Device: dev, Epoch: 1, Seq: seq, HLC: hlc.FromTime(time.Now()), User: user, Site: "site", Client: client,
		Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: lot, Expiry: "301231"}, Subjects: []event.Subject{{Key: k}}}
	vs, err := e.site.Members[0].Node.SubmitEvents(context.Background(), []event.Event{ev}, false)
	if err != nil || vs[0].Status != command.StatusApplied {
		e.t.Fatalf("receive %s: %v %+v", k, err, vs)
	}
}

// seed: clients a and b, a product of a named like a script, users.
func (e *env) seed() {
	for _, c := range []string{"a", "b"} {
		e.propose(command.TypeClient, master.Client{ID: c, Name: "Client " + c})
	}
	e.propose(command.TypeProduct, master.Product{GTIN: gtinA, Client: "a", Name: xss, CompanyPrefixLen: 7})
	e.propose(command.TypeProduct, master.Product{GTIN: gtinB, Client: "b", Name: "Pill B", CompanyPrefixLen: 7})
	e.propose(command.TypeUser, master.User{ID: "lead-a", Name: "Lead A", Role: master.RoleLead, Clients: []string{"a"}})
	e.propose(command.TypeUser, master.User{ID: "lead-b", Name: "Lead B", Role: master.RoleLead, Clients: []string{"b"}})
	e.setPassword("admin", "admin password 1")
	e.setPassword("lead-a", "lead a password")
	e.setPassword("lead-b", "lead b password")
	e.receive("hh-a", "lead-a", "a", 1, event.SGTIN(gtinA, "SA1"), "LOTA")
	e.receive("hh-b", "lead-b", "b", 1, event.SGTIN(gtinB, "SB1"), "LOTB")
}

func (e *env) browser() *browser { return webuitest.New(e.t, e.app) }

// TestOutputIsEscaped: a product named like a script shows as text.
func TestOutputIsEscaped(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, loc := b.Login("admin", "admin password 1"); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("sign-in: %d %s", code, loc)
	}
	for _, path := range []string{"/trace?q=" + url.QueryEscape("(01)"+gtinA+"(21)SA1"), "/recall?gtin=" + gtinA + "&lot=LOTA", "/holds"} {
		code, _, page := b.Do("GET", path, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %.500s", path, code, page)
		}
		if strings.Contains(page, xss) {
			t.Fatalf("%s: the product name reached the page unescaped", path)
		}
	}
	_, _, page := b.Do("GET", "/trace?q="+url.QueryEscape("(01)"+gtinA+"(21)SA1"), nil)
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("the product name is not shown as text: %.2000s", page)
	}
	// A search for a script is shown back as text too.
	_, _, page = b.Do("GET", "/trace?q="+url.QueryEscape(xss), nil)
	if strings.Contains(page, xss) {
		t.Fatal("the query reached the page unescaped")
	}
}

// TestSignIn: the form's CSRF token, a session cookie with the right
// flags, CSRF on state-changing requests, sign-out, the lock after five
// wrong passwords, and a verifier no page shows.
func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _, _ := b.Do("GET", "/", nil); code != http.StatusSeeOther {
		t.Fatalf("signed out: / answered %d, want a redirect to the sign-in form", code)
	}
	_, _, page := b.Do("GET", "/login", nil)
	if code, _, _ := b.Do("POST", "/login", url.Values{"csrf": {"0000"}, "user": {"admin"}, "password": {"admin password 1"}}); code != http.StatusForbidden {
		t.Fatalf("sign-in with a wrong CSRF token: %d", code)
	}
	_, _, page = b.Do("GET", "/login", nil)
	code, h, _ := b.Do("POST", "/login", url.Values{"csrf": {webuitest.CSRF(t, page)}, "user": {"admin"}, "password": {"admin password 1"}})
	sc := h.Get("Set-Cookie")
	if code != http.StatusSeeOther || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("sign-in: %d, cookie %q", code, sc)
	}
	code, _, page = b.Do("GET", "/users", nil)
	if code != http.StatusOK || !strings.Contains(page, "lead-a") {
		t.Fatalf("users page: %d", code)
	}
	if strings.Contains(page, "argon") || strings.Contains(page, "salt") {
		t.Fatal("the users page shows a verifier")
	}
	// State-changing requests need the session's token.
	tok := webuitest.CSRF(t, page)
	if code, _, _ := b.Do("POST", "/users/lead-b", url.Values{"action": {"disable"}}); code != http.StatusForbidden {
		t.Fatalf("a POST without a CSRF token: %d", code)
	}
	if code, _, _ := b.Do("POST", "/users/lead-b", url.Values{"action": {"disable"}, "csrf": {tok + "0"}}); code != http.StatusForbidden {
		t.Fatalf("a POST with a wrong CSRF token: %d", code)
	}
	// lead-b signs in, then is disabled: the session ends.
	lb := e.browser()
	if code, _ := lb.Login("lead-b", "lead b password"); code != http.StatusSeeOther {
		t.Fatalf("lead-b sign-in: %d", code)
	}
	if code, _, _ := b.Do("POST", "/users/lead-b", url.Values{"action": {"disable"}, "csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, h, _ := lb.Do("GET", "/", nil); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "disabled") {
		t.Fatalf("a disabled user's session: %d %s", code, h.Get("Location"))
	}
	if code, body := lb.Login("lead-b", "lead b password"); code != http.StatusForbidden || !strings.Contains(body, "disabled") {
		t.Fatalf("a disabled user signs in: %d", code)
	}
	// Five wrong passwords lock lead-a; the right one is then refused.
	la := e.browser()
	for i := range command.MaxSignInFailures {
		code, body := la.Login("lead-a", "not the password")
		want := http.StatusUnauthorized
		if i == command.MaxSignInFailures-1 {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Fatalf("wrong password %d: %d %.300s", i+1, code, body)
		}
	}
	if code, body := la.Login("lead-a", "lead a password"); code != http.StatusTooManyRequests || !strings.Contains(body, "locked until") {
		t.Fatalf("right password while locked: %d", code)
	}
	e.clock.add(command.SignInLock + time.Second)
	if code, _ := la.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", code)
	}
	// Sign-out ends the session.
	if code, _ := b.Login("admin", "admin password 1"); code != http.StatusSeeOther {
		t.Fatalf("admin signs in again: %d", code)
	}
	_, _, page = b.Do("GET", "/", nil)
	if code, _, _ := b.Do("POST", "/logout", url.Values{"csrf": {webuitest.CSRF(t, page)}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	if code, _, _ := b.Do("GET", "/", nil); code != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", code)
	}
}

// TestSessionExpiry: idle and absolute limits.
func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	e.clock.add(9 * time.Minute)
	if code, _, _ := b.Do("GET", "/", nil); code != http.StatusOK {
		t.Fatalf("within the idle time: %d", code)
	}
	e.clock.add(11 * time.Minute)
	if code, h, _ := b.Do("GET", "/", nil); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "without+use") {
		t.Fatalf("idle: %d %s", code, h.Get("Location"))
	}
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	for range 6 {
		e.clock.add(9 * time.Minute)
		if code, _, _ := b.Do("GET", "/", nil); code != http.StatusOK {
			t.Fatalf("in use within the limit: %d", code)
		}
	}
	e.clock.add(9 * time.Minute)
	if code, h, _ := b.Do("GET", "/", nil); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "time+limit") {
		t.Fatalf("past the absolute limit: %d %s", code, h.Get("Location"))
	}
}

// TestClientIsolation: a user of client b finds nothing of client a.
func TestClientIsolation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _ := b.Login("lead-b", "lead b password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	ka := "(01)" + gtinA + "(21)SA1"
	tests := []struct {
		path string
		code int
	}{
		{"/trace?q=" + url.QueryEscape(ka), http.StatusNotFound},
		{"/trace/epcis?q=" + url.QueryEscape(ka), http.StatusNotFound},
		{"/recall?gtin=" + gtinA + "&lot=LOTA", http.StatusNotFound},
		{"/recall.csv?gtin=" + gtinA + "&lot=LOTA", http.StatusNotFound},
		{"/trace?q=" + url.QueryEscape("(01)"+gtinB+"(21)SB1"), http.StatusOK},
	}
	for _, tc := range tests {
		code, _, page := b.Do("GET", tc.path, nil)
		if code != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, code, tc.code)
		}
		// (The query itself is shown back; nothing the site knows of it.)
		if strings.Contains(page, "LOTA") || strings.Contains(page, "&lt;script") || strings.Contains(page, "A-01") && tc.code != http.StatusOK {
			t.Errorf("%s shows client a's data", tc.path)
		}
	}
	// The floor and its stream: b's scan, not a's.
	time.Sleep(200 * time.Millisecond)
	_, _, page := b.Do("GET", "/", nil)
	if strings.Contains(page, "SA1") || !strings.Contains(page, "SB1") {
		t.Errorf("floor of lead-b: %.3000s", page)
	}
	_, _, page = b.Do("GET", "/holds", nil)
	tok := webuitest.CSRF(t, page)
	if code, _, _ := b.Do("POST", "/holds", url.Values{"csrf": {tok}, "scope": {"lot"}, "ident": {gtinA}, "lot": {"LOTA"}, "reason": {"recall"}}); code != http.StatusBadRequest {
		t.Errorf("a hold on client a's lot: %d", code)
	}
}

// TestRecallHoldsTheLot: a lead holds a lot from its recall page; the
// unit shows the inherited hold and the CSV lists it.
func TestRecallHoldsTheLot(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	e.receive("hh-a", "lead-a", "a", 2, event.SGTIN(gtinA, "SA2"), "LOTA")
	e.receive("hh-a", "lead-a", "a", 3, event.SGTIN(gtinA, "SA3"), "LOTC")
	_, _, page := b.Do("GET", "/recall?gtin="+gtinA+"&lot=LOTA", nil)
	for _, want := range []string{"<strong>2</strong> units known", `<div class="big">2</div><div>in the building</div>`, `<div class="big">0</div><div>of those held</div>`} {
		if !strings.Contains(page, want) {
			t.Fatalf("before the hold, no %q: %.3000s", want, page)
		}
	}
	code, _, body := b.Do("POST", "/holds", url.Values{"csrf": {webuitest.CSRF(t, page)}, "scope": {"lot"}, "ident": {gtinA}, "lot": {"LOTA"}, "reason": {"recall"},
		"note": {"supplier notice"}, "back": {"/recall?gtin=" + gtinA + "&lot=LOTA"}})
	if code != http.StatusSeeOther {
		t.Fatalf("hold: %d %.500s", code, body)
	}
	// Every unit of the held lot here is held; the other lot is not.
	_, _, page = b.Do("GET", "/recall?gtin="+gtinA+"&lot=LOTA", nil)
	if !strings.Contains(page, `<div class="big">2</div><div>of those held</div>`) {
		t.Fatalf("after the hold: %.3000s", page)
	}
	_, _, page = b.Do("GET", "/recall?gtin="+gtinA, nil)
	for _, want := range []string{"<strong>3</strong> units known", `<div class="big">3</div><div>in the building</div>`, `<div class="big">2</div><div>of those held</div>`} {
		if !strings.Contains(page, want) {
			t.Fatalf("every lot, no %q: %.3000s", want, page)
		}
	}
	_, _, page = b.Do("GET", "/trace?q="+url.QueryEscape("(01)"+gtinA+"(21)SA1"), nil)
	if !strings.Contains(page, "from its lot or product: recall") {
		t.Fatalf("the unit does not show the lot's hold: %.3000s", page)
	}
	_, _, csv := b.Do("GET", "/recall.csv?gtin="+gtinA+"&lot=LOTA", nil)
	if !strings.Contains(csv, "SA1,LOTA,301231,in_stock,recall,A-01") {
		t.Fatalf("csv: %s", csv)
	}
}

// TestHoldAndReleaseAUnit: a lead holds one unit from the console (a
// hold event in the console's device sequence) and releases it with a
// reason; an operator may not release.
func TestHoldAndReleaseAUnit(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	k := "(01)" + gtinA + "(21)SA1"
	_, _, page := b.Do("GET", "/holds?scope=unit", nil)
	code, _, body := b.Do("POST", "/holds", url.Values{"csrf": {webuitest.CSRF(t, page)}, "scope": {"unit"}, "ident": {k}, "reason": {"damaged"}, "note": {"crushed corner"}})
	if code != http.StatusSeeOther {
		t.Fatalf("hold: %d %.500s", code, body)
	}
	_, _, page = b.Do("GET", "/trace?q="+url.QueryEscape(k), nil)
	if !strings.Contains(page, "own: damaged") || !strings.Contains(page, "crushed corner") {
		t.Fatalf("the unit does not show its hold: %.3000s", page)
	}
	tok := webuitest.CSRF(t, page)
	if code, _, _ := b.Do("POST", "/trace/release", url.Values{"csrf": {tok}, "ident": {k}, "reason": {"damaged"}}); code != http.StatusBadRequest {
		t.Fatalf("a release without a reason: %d", code)
	}
	if code, _, body := b.Do("POST", "/trace/release", url.Values{"csrf": {tok}, "ident": {k}, "reason": {"damaged"}, "why": {"inspected"}}); code != http.StatusSeeOther {
		t.Fatalf("release: %d %.500s", code, body)
	}
	_, _, page = b.Do("GET", "/trace?q="+url.QueryEscape(k), nil)
	if strings.Contains(page, "own: damaged") || !strings.Contains(page, "inspected") {
		t.Fatalf("after the release: %.3000s", page)
	}
}
