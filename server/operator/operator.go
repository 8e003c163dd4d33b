// Package operator is custody-operator: the console of a third-party
// logistics operator running many Custody sites. It reads every site
// through the site's HTTP API, as the operator's user there and with
// that user's client grants; it is never a member of a site's cluster
// and never a source of truth for custody. What it caches (in its own
// Badger directory) is rebuilt from the sites and shown with its age; a
// site that does not answer is shown as down with its last known state.
// Nothing at a site waits on the operator. See DESIGN.md.
package operator

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/webui"
)

// Errors returned by this package.
var (
	// ErrConfig reports a configuration the operator cannot run with.
	ErrConfig = errors.New("operator: configuration")
	// ErrUnreachable reports a site that did not answer (or answered
	// something that is not the API).
	ErrUnreachable = errors.New("operator: site unreachable")
	// ErrAnswer reports an answer of a site the operator cannot read
	// (another version of the API, or not the API).
	ErrAnswer = errors.New("operator: unexpected answer from the site")
	// ErrBadRequest reports input a person must correct.
	ErrBadRequest = errors.New("operator: bad request")
	// ErrForbidden reports an action the user's role does not allow.
	ErrForbidden = errors.New("operator: not allowed")
	// ErrNotFound reports something that does not exist or that the
	// user may not see.
	ErrNotFound = errors.New("operator: not found")
)

// Defaults.
const (
	DefaultPoll    = 10 * time.Second
	DefaultTimeout = 3 * time.Second
	// DefaultDigestEvery keeps a duplicate's detection within a minute
	// of its second receipt with the default poll.
	DefaultDigestEvery = 20 * time.Second
	DefaultIdle        = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
)

// Config configures an operator.
type Config struct {
	File
	// DataDir is the operator's Badger directory ("": in memory).
	DataDir string
	Logger  *slog.Logger
	// Secure marks cookies Secure (served over HTTPS).
	Secure bool
	// Location is the time zone pages show times in (default time.Local).
	Location *time.Location
	// Idle and MaxAge end a session after that long without a request
	// and that long after sign-in.
	Idle, MaxAge time.Duration
	// Poll, Timeout and DigestEvery (from File when zero).
	Poll, Timeout, DigestEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

//go:embed templates
var assets embed.FS

// Operator serves the operator console and polls the sites.
type Operator struct {
	cfg     Config
	log     *slog.Logger
	cache   *cache
	sites   []*siteClient
	bySite  map[string]*siteClient
	users   map[string]*User
	poller  *poller
	digests *digests
	pages   map[string]*template.Template
	times   webui.Times
	key     []byte
	// hashes bounds concurrent password checks.
	hashes chan struct{}
	// mu orders the sign-ins' updates of the wrong-password counts
	// (kept in the cache: cache.failures).
	mu sync.Mutex
}

// New checks the configuration and opens the cache.
func New(cfg Config) (*Operator, error) {
	if err := cfg.File.Check(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	poll, timeout, _ := cfg.File.Durations()
	if cfg.Poll <= 0 {
		cfg.Poll = poll
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = timeout
	}
	if cfg.DigestEvery <= 0 {
		cfg.DigestEvery, _ = cfg.File.DigestInterval()
	}
	o := &Operator{cfg: cfg, log: cfg.Logger, bySite: map[string]*siteClient{}, users: map[string]*User{},
		times: webui.Times{Loc: cfg.Location, Now: cfg.Now}, hashes: make(chan struct{}, 2)}
	for _, s := range cfg.Sites {
		c, err := newSiteClient(s)
		if err != nil {
			return nil, err
		}
		o.sites = append(o.sites, c)
		o.bySite[s.ID] = c
	}
	for i := range cfg.Users {
		o.users[cfg.Users[i].ID] = &cfg.Users[i]
	}
	var err error
	if o.pages, err = o.loadPages(); err != nil {
		return nil, err
	}
	if o.cache, err = openCache(cfg.DataDir, cfg.Logger); err != nil {
		return nil, err
	}
	if o.key, err = o.cache.sessionKey(); err != nil {
		o.cache.Close()
		return nil, err
	}
	if o.poller, err = newPoller(o); err != nil {
		o.cache.Close()
		return nil, err
	}
	if k, _ := cfg.File.Key(); k != nil {
		if o.digests, err = newDigests(o, k); err != nil {
			o.cache.Close()
			return nil, err
		}
	}
	return o, nil
}

// Serve polls the sites until ctx ends.
func (o *Operator) Serve(ctx context.Context) error {
	o.poller.run(ctx)
	return nil
}

// Close closes the cache; call it after Serve returned and the pages
// stopped being served.
func (o *Operator) Close() error { return o.cache.Close() }

// Refresh asks for a round of reads now (the overview's button).
func (o *Operator) Refresh() {
	select {
	case o.poller.kick <- struct{}{}:
	default:
	}
}

// Mount registers the console's routes on r.
func (o *Operator) Mount(r fiber.Router) {
	r.Get("/static/*", o.static)
	r.Get("/login", o.handle(o.loginForm))
	r.Post("/login", o.handle(o.login))
	get := func(path string, h handler) { r.Get(path, o.authenticate, o.handle(h)) }
	post := func(path string, h handler) { r.Post(path, o.authenticate, o.csrf, o.handle(h)) }
	post("/logout", o.logout)
	get("/", o.networkPage)
	post("/refresh", o.refresh)
	get("/exceptions", o.exceptionsPage)
	get("/search", o.searchPage)
	get("/search/records", o.recordsRequest)
	get("/recall", o.recallPage)
	get("/recall.csv", o.recallCSV)
	post("/recall/hold", o.recallHold)
	get("/duplicates", o.duplicatesPage)
	get("/exports", o.exportsPage)
	get("/exports/epcis", o.periodEPCIS)
}

func (o *Operator) static(x *fiber.Ctx) error {
	b, ok := webui.Asset(x.Params("*"))
	if !ok {
		return fiber.ErrNotFound
	}
	x.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	x.Set(fiber.HeaderCacheControl, "max-age=3600")
	x.Set("X-Content-Type-Options", "nosniff")
	return x.Send(b)
}

func (o *Operator) siteName(id string) string {
	if c := o.bySite[id]; c != nil && c.site.Name != "" {
		return c.site.Name
	}
	return id
}

// String describes the operator for logs.
func (o *Operator) String() string { return fmt.Sprintf("operator of %d sites", len(o.sites)) }

// NewApp is the Fiber app the operator console is served on. Immutable:
// the strings Fiber hands a handler are its own copies, not views of a
// request buffer the next request overwrites; a sign-in's user id kept
// as a key of the wrong-password counts otherwise turned into the next
// user's id, locking a user who never typed a wrong password.
func NewApp() *fiber.App {
	return fiber.New(fiber.Config{DisableStartupMessage: true, Immutable: true,
		ReadTimeout: 30 * time.Second, WriteTimeout: 5 * time.Minute, IdleTimeout: time.Minute})
}
