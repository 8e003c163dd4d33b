// Package console is the site console: the web pages a shift lead uses
// to watch the floor, decide exceptions, trace what is printed on a
// pack, hold and recall, and look after devices and users. Pages are
// rendered on the server from Go templates (every output escaped), with
// a little of our own JavaScript and no asset from outside the binary.
//
// Every node serves it on its HTTP(S) port. It reads through the same
// state as the API and shows a user only the clients the user is
// granted (master.User.Sees, the API's filter); writes go through the
// log as the API's do. See DESIGN.md.
package console

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/sync/session"
)

// Errors returned by this package.
var (
	// ErrNoKey reports a console without its signing key yet (the log
	// has not carried one).
	ErrNoKey = errors.New("console: no signing key yet")
	// ErrBadRequest reports input a person must correct.
	ErrBadRequest = errors.New("console: bad request")
	// ErrForbidden reports an action the user's role does not allow.
	ErrForbidden = errors.New("console: not allowed")
	// ErrNotFound reports something that does not exist or that the
	// user may not see.
	ErrNotFound = errors.New("console: not found")
)

// Node is what the console needs from the node it runs on.
type Node interface {
	State() *state.Store
	Propose(ctx context.Context, data []byte, forwarded bool) (json.RawMessage, error)
	SubmitEvents(ctx context.Context, evs []event.Event, forwarded bool) ([]command.Verdict, error)
	IsLeader() bool
	ClusterStatus(ctx context.Context, withHash bool) (cluster.Status, error)
	SelfStatus(withHash bool) (cluster.Self, error)
}

// Config configures a console.
type Config struct {
	Node   Node
	Logger *slog.Logger
	// DataDir is where the first start of a site writes the admin's
	// one-time password (AdminPasswordFile).
	DataDir string
	// Secure marks cookies Secure (the node serves HTTPS).
	Secure bool
	// Location is the site's time zone for people (default time.Local).
	Location *time.Location
	// Idle and MaxAge end a session after that long without a request,
	// and that long after sign-in (defaults DefaultIdle, DefaultMaxAge).
	Idle, MaxAge time.Duration
	// Sessions lists the device sessions this node serves (the sync
	// hub's), for the devices' online state; nil: none.
	Sessions func() []session.Info
	// Mint, when set, mints a handheld enrollment token on behalf of an
	// admin (api.Server.MintToken): the token, when it expires and the
	// site CA's fingerprint.
	Mint func(ctx context.Context, by, label string, ttl time.Duration) (token string, expires time.Time, caFingerprint string, err error)
	// Enroll is the base URL handhelds enroll at, shown in the
	// enrollment line (default: this request's host).
	Enroll string
	// Tick is how often the floor reads what changed (default 500 ms).
	Tick time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Clock stamps holds and exception updates (nil: a new clock).
	Clock *hlc.Clock
}

// Session lengths.
const (
	DefaultIdle   = 30 * time.Minute
	DefaultMaxAge = 12 * time.Hour
)

// AdminPasswordFile is the file in the data directory the first start
// of a site writes the admin's console password into.
const AdminPasswordFile = "console-admin-password"

//go:embed templates static
var assets embed.FS

// Console serves the console's pages.
type Console struct {
	cfg   Config
	node  Node
	log   *slog.Logger
	pages *pages
	floor *floor
	clock *hlc.Clock
	dev   consoleDevice
	// hashes bounds concurrent password checks (each takes 19 MiB).
	hashes chan struct{}
	done   chan struct{}
}

// New builds a console.
func New(cfg Config) (*Console, error) {
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
	if cfg.Tick <= 0 {
		cfg.Tick = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clock == nil {
		cfg.Clock = hlc.NewClock(nil, 0)
	}
	p, err := loadPages(cfg.Location, cfg.Now)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, node: cfg.Node, log: cfg.Logger, pages: p, clock: cfg.Clock,
		hashes: make(chan struct{}, 2), done: make(chan struct{})}
	c.floor = newFloor(c)
	var e [4]byte
	if _, err := rand.Read(e[:]); err != nil {
		return nil, err
	}
	// A random epoch: two processes never share a device sequence.
	c.dev.epoch = uint32(e[0])<<24 | uint32(e[1])<<16 | uint32(e[2])<<8 | uint32(e[3])
	return c, nil
}

// Serve sets the console up on the leader (the signing key, the first
// admin password), follows the state for the floor, and ends the live
// pages when ctx ends.
func (c *Console) Serve(ctx context.Context) error {
	defer close(c.done)
	go c.floor.run(ctx)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	ready := false
	for {
		if !ready {
			ok, err := c.setUp(ctx)
			if err != nil {
				c.log.Warn("console set-up", "err", err)
			}
			ready = ok
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// setUp proposes the console key and the first admin password, on the
// leader, once each; it reports whether nothing is left to do.
func (c *Console) setUp(ctx context.Context) (bool, error) {
	if _, err := c.key(); errors.Is(err, ErrNoKey) {
		if !c.node.IsLeader() {
			return false, nil
		}
		k := make([]byte, command.ConsoleKeyLen)
		if _, err := rand.Read(k); err != nil {
			return false, err
		}
		if err := c.propose(ctx, command.TypeConsoleKey, command.ConsoleKey{Key: k}); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	if c.cfg.DataDir == "" {
		return true, nil
	}
	return c.firstAdminPassword(ctx)
}

// firstAdminPassword gives the admin user a random console password on
// a site where no user has one yet, and writes it into the data
// directory (mode 0600) for the operator to read once.
func (c *Console) firstAdminPassword(ctx context.Context) (bool, error) {
	file := filepath.Join(c.cfg.DataDir, AdminPasswordFile)
	if _, err := os.Stat(file); err == nil {
		return true, nil
	}
	var any bool
	err := c.node.State().View(func(r *state.Reader) error {
		if _, err := r.User(adminUser); err != nil {
			return err
		}
		as, err := r.Accounts()
		for _, a := range as {
			any = any || a.Password != nil
		}
		return err
	})
	if errors.Is(err, state.ErrNotFound) {
		return false, nil // the admin user is not seeded yet
	}
	if err != nil || any {
		return err == nil, err
	}
	if !c.node.IsLeader() {
		return false, nil
	}
	pw, err := password.Generate()
	if err != nil {
		return false, err
	}
	v, err := password.New(pw)
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
		return false, err
	}
	if err := c.propose(ctx, command.TypePassword, command.SetPassword{User: adminUser, Password: v, By: "site", At: c.cfg.Now().UTC()}); err != nil {
		os.Remove(file)
		return false, err
	}
	c.log.Info("console: wrote the admin user's first password; sign in and change it, then delete the file", "user", adminUser, "file", file)
	return true, nil
}

// adminUser is the user a new site starts with.
const adminUser = "admin"

func (c *Console) propose(ctx context.Context, t command.Type, v any) error {
	data, err := command.EncodeJSON(t, v)
	if err != nil {
		return err
	}
	_, err = c.node.Propose(ctx, data, false)
	return err
}

// proposeResult proposes and decodes the result into out.
func (c *Console) proposeResult(ctx context.Context, t command.Type, v, out any) error {
	data, err := command.EncodeJSON(t, v)
	if err != nil {
		return err
	}
	raw, err := c.node.Propose(ctx, data, false)
	if err != nil {
		return err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("console: result: %w", err)
		}
	}
	return nil
}

// key is the console's signing key from the replicated state.
func (c *Console) key() ([]byte, error) {
	var k []byte
	err := c.node.State().View(func(r *state.Reader) error { var err error; k, err = r.ConsoleKey(); return err })
	if errors.Is(err, state.ErrNotFound) {
		return nil, ErrNoKey
	}
	return k, err
}

// Mount registers the console's routes on r. Each route carries its own
// checks (no prefix middleware: the API shares the router).
func (c *Console) Mount(r fiber.Router) {
	r.Get("/static/*", c.static)
	r.Get("/login", c.handle(c.loginForm))
	r.Post("/login", c.handle(c.login))
	get := func(path string, h handler) { r.Get(path, c.authenticate, c.handle(h)) }
	post := func(path string, h handler) { r.Post(path, c.authenticate, c.csrf, c.handle(h)) }
	post("/logout", c.logout)
	get("/", c.floorPage)
	r.Get("/floor/stream", c.authenticate, c.floorStream)
	get("/exceptions", c.exceptionsPage)
	get("/exceptions/:id", c.exceptionPage)
	post("/exceptions/:id", c.exceptionAction)
	get("/trace", c.tracePage)
	get("/trace/epcis", c.traceEPCIS)
	post("/trace/release", c.releaseUnit)
	get("/holds", c.holdsPage)
	post("/holds", c.createHold)
	post("/holds/:id/release", c.releaseHold)
	get("/recall", c.recallPage)
	get("/recall.csv", c.recallCSV)
	get("/investigations", c.investigationsPage)
	post("/investigations", c.openInvestigation)
	get("/investigations/:id", c.investigationPage)
	post("/investigations/:id", c.investigationAction)
	get("/investigations/:id/form3911.pdf", c.investigationPDF)
	get("/inbound", c.inboundPage)
	post("/inbound", c.uploadASN)
	get("/inbound/:id", c.asnPage)
	get("/outbound", c.outboundPage)
	get("/outbound/:id", c.shipmentPage)
	get("/outbound/:id/epcis", c.shipmentEPCIS)
	get("/outbound/:id/label.png", c.shipmentLabel)
	get("/devices", c.devicesPage)
	post("/devices/enroll", c.enrollToken)
	post("/devices/:id/revoke", c.revokeDevice)
	get("/users", c.usersPage)
	post("/users/:id", c.userAction)
	get("/site", c.sitePage)
}
