// Package ui is the handheld's Fyne app: the screens receivers, pickers
// and packers work with all shift. It holds no workflow rules: every scan
// and every button goes to the engine, and the screens show what the
// engine decided — a verdict banner with the engine's reason, a sound per
// cue, the task's progress — with the sync state always in view.
//
// Background work (the engine's Badger transactions, the camera and its
// decoder, sync) runs off the UI goroutine and touches widgets only
// through fyne.Do; the header's state lives in data bindings.
package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/wedge"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/handheld/ui/sound"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/client"
)

// Errors returned by this package.
var (
	// ErrConfig reports a configuration the app cannot start with.
	ErrConfig = errors.New("ui: bad configuration")
)

// Engine is what the screens ask of the handheld's engine
// (*engine.Engine implements it). Every decision is the engine's.
type Engine interface {
	Login(id, pin string) (engine.Step, error)
	Logout() engine.Step
	User() *master.User
	Scan(raw []byte) (engine.Step, error)
	Close() (engine.Step, error)

	Work() (engine.Work, error)
	StartReceive(asn string) (engine.Step, error)
	ASNProgress(asn string) (engine.ASNProgress, error)
	StartVerify() engine.Step
	StartPick(order string) (engine.Step, error)
	PickGuide(order string) (engine.PickGuide, error)
	ShortPick(line, reason string) (engine.Step, error)
	NewContainer() (engine.Step, error)
	StartShip(shipment, dest string) (engine.Step, error)
	StartHold(reason, note string) engine.Step
	HoldLot(gtin, lot, reason, note string) (engine.Step, error)
	StartRelease(reason string) engine.Step
	StartRevert() engine.Step
	StartDestroy(reason string) engine.Step
	StartDecommission(reason string) engine.Step
	StartReturn() engine.Step
	StartLookup() engine.Step
	Lookup(k event.Key) (engine.Step, error)
}

var _ Engine = (*engine.Engine)(nil)

// Sync is what the screens show of sync and ask of it.
type Sync interface {
	State() client.State
	Messages() []syncdev.Message
	// Now asks for a connection attempt at once.
	Now()
}

// Enroller enrolls the device from an enrollment line and brings its
// first replica, telling progress (0–1) as it goes; it returns the
// engine and sync of the enrolled device.
type Enroller func(ctx context.Context, line string, progress func(frac float64, step string)) (Engine, Sync, error)

// Camera opens a frame source ("" for none). Opening happens when a
// screen turns the camera on and may fail (no device): the screen says so.
type Camera func() (scan.Source, error)

// Config configures the app.
type Config struct {
	// Engine and Sync of an enrolled (or loaded) device; nil Engine
	// starts at the enrollment screen, which needs Enroll.
	Engine Engine
	Sync   Sync
	Enroll Enroller
	Camera Camera       // nil: no camera
	Sound  sound.Player // nil: silent
	// IdleSignOut signs the user out after this long without a tap, a
	// key or a scan (default 10 minutes; negative: never).
	IdleSignOut time.Duration
	Wedge       wedge.Config // GS substitutes the scanner sends
	// WedgeOff ignores keystrokes typed outside a field (no
	// keyboard-wedge scanner on this device).
	WedgeOff bool
	// WedgeGap is the longest pause between keystrokes of one wedge
	// scan (default 60 ms): slower typing is a person, not a scanner.
	WedgeGap time.Duration
	Device   string // shown on the sync screen
	Now      func() time.Time
	Log      *slog.Logger
}

// UI is the running app in one window.
type UI struct {
	cfg  Config
	win  fyne.Window
	eng  Engine
	sync Sync

	wg sync.WaitGroup // background jobs in flight

	// frame
	root    *fyne.Container
	header  *header
	banner  *banner
	title   *widget.Label
	back    *widget.Button
	backBox fyne.CanvasObject
	body    *fyne.Container
	scanBar *fyne.Container
	entry   *widget.Entry
	camBox  *fyne.Container
	busy    *widget.Activity
	busyN   int

	cur      *screen
	cam      *cameraView
	keys     *keystrokes
	lastUse  time.Time
	idleStop chan struct{}
	done     map[[2]uint64]bool // site messages marked done
	signIn   *signInForm
	// verdictAt is when the last verdict was put on screen.
	verdictAt time.Time
	selfTest  func(line string) // the scanner self-test, while it listens
}

// screen is one task's page.
type screen struct {
	name  string // stable name, for tests and screenshots
	title string
	body  fyne.CanvasObject
	// hint is the scan entry's placeholder; "" hides the scan bar.
	hint string
	// scan handles a scan on this screen; nil sends it to the engine.
	scan func(s scan.Scan)
	// refresh runs off the UI goroutine when the screen shows and after
	// each scan the engine judged; the func it returns updates the
	// widgets on the UI goroutine.
	refresh func() func()
	// after runs on the UI goroutine with each step a scan got, right
	// after the banner shows it.
	after func(engine.Step)
	// refreshing and again coalesce refreshes: while one runs, scans only
	// ask for one more.
	refreshing, again bool
	// qr makes the camera read QR codes (enrollment) instead of
	// DataMatrix.
	qr   bool
	home bool // the back button leads home (else: none)
	// leave runs when another screen replaces this one.
	leave func()
}

// New builds the app's window content in win and shows the first
// screen: enrollment without an engine, else sign-in.
func New(a fyne.App, win fyne.Window, cfg Config) (*UI, error) {
	if cfg.Engine == nil && cfg.Enroll == nil {
		return nil, ErrConfig
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Sound == nil {
		cfg.Sound = sound.Silent{Why: "no player"}
	}
	if cfg.IdleSignOut == 0 {
		cfg.IdleSignOut = 10 * time.Minute
	}
	if cfg.WedgeGap <= 0 {
		cfg.WedgeGap = 60 * time.Millisecond
	}
	if len(cfg.Wedge.GS) == 0 {
		cfg.Wedge = wedge.DefaultConfig()
	}
	a.Settings().SetTheme(handheldTheme{})
	u := &UI{cfg: cfg, win: win, eng: cfg.Engine, sync: cfg.Sync, done: map[[2]uint64]bool{}}
	u.keys = &keystrokes{gap: cfg.WedgeGap}
	u.build()
	win.SetContent(u.root)
	win.Canvas().SetOnTypedRune(u.typedRune)
	win.Canvas().SetOnTypedKey(u.typedKey)
	u.touch()
	if u.eng == nil {
		u.showEnroll()
	} else {
		u.showSignIn()
	}
	return u, nil
}

// Wait blocks until the background work started so far (and what it
// started in turn) has finished and its results are on screen.
func (u *UI) Wait() { u.wg.Wait() }

// Screen names the screen on show.
func (u *UI) Screen() string {
	if u.cur == nil {
		return ""
	}
	return u.cur.name
}

// Window is the app's window.
func (u *UI) Window() fyne.Window { return u.win }

func (u *UI) build() {
	u.header = newHeader()
	u.banner = newBanner()
	u.title = widget.NewLabel("")
	u.title.SizeName = theme.SizeNameHeadingText
	u.title.TextStyle.Bold = true
	u.title.Wrapping = fyne.TextWrapWord
	u.back = bigButtonIcon("Home", homeIcon(), func() { u.touch(); u.showHome() })
	u.busy = widget.NewActivity()
	u.busy.Hide()
	u.backBox = tall(u.back, targetHeight)
	titleRow := container.NewBorder(nil, nil, nil, container.NewHBox(u.busy, u.backBox), u.title)
	u.body = container.NewStack()
	u.entry = widget.NewEntry()
	u.entry.OnSubmitted = func(s string) {
		u.touch()
		u.entry.SetText("")
		u.typed(s)
	}
	scanBtn := bigButton("Enter", func() {
		u.touch()
		s := u.entry.Text
		u.entry.SetText("")
		u.typed(s)
	})
	camBtn := bigButtonIcon("Camera", cameraIcon(), func() { u.touch(); u.toggleCamera() })
	u.camBox = container.NewStack()
	u.camBox.Hide()
	u.scanBar = container.NewVBox(u.camBox, container.NewBorder(nil, nil, nil,
		container.NewHBox(tall(scanBtn, targetHeight), tall(camBtn, targetHeight)), tall(u.entry, targetHeight)))
	top := container.NewVBox(u.header.obj, u.banner.obj, titleRow)
	u.root = container.NewBorder(top, u.scanBar, nil, nil, container.NewVScroll(container.NewPadded(u.body)))
}

// show replaces the screen.
func (u *UI) show(s *screen) {
	if u.cur != nil && u.cur.leave != nil {
		u.cur.leave()
	}
	u.cur = s
	u.title.SetText(s.title)
	if s.home {
		u.backBox.Show()
	} else {
		u.backBox.Hide()
	}
	u.body.Objects = []fyne.CanvasObject{s.body}
	u.body.Refresh()
	if s.hint == "" {
		u.scanBar.Hide()
		u.stopCamera()
	} else {
		u.entry.SetPlaceHolder(s.hint)
		u.scanBar.Show()
		if u.cam != nil {
			u.cam.setQR(s.qr)
		}
	}
	u.banner.clear()
	u.refreshHeader()
	u.refreshScreen(s)
}

// refreshScreen runs the screen's refresh; while one is running, further
// calls make it run once more when it is done, so a fast run of scans
// costs one query at a time.
func (u *UI) refreshScreen(s *screen) {
	if s == nil || s.refresh == nil {
		return
	}
	if s.refreshing {
		s.again = true
		return
	}
	s.refreshing = true
	u.run(func() func() {
		then := s.refresh()
		return func() {
			s.refreshing = false
			if u.cur == s && then != nil {
				then()
			}
			if s.again {
				s.again = false
				u.refreshScreen(s)
			}
		}
	})
}

// run does work off the UI goroutine; the func it returns, if any, runs
// on the UI goroutine (fyne.Do). The busy spinner shows meanwhile.
func (u *UI) run(work func() func()) {
	u.wg.Add(1)
	u.busyN++
	u.busy.Show()
	u.busy.Start()
	go func() {
		defer u.wg.Done()
		then := work()
		// and wait: what the closure starts is counted before this job
		// is done, so Wait sees it
		fyne.DoAndWait(func() {
			u.busyN--
			if u.busyN == 0 {
				u.busy.Stop()
				u.busy.Hide()
			}
			if then != nil {
				then()
			}
		})
	}()
}

// step runs an engine call in the background and shows its verdict; ok,
// if set, runs on the UI goroutine after a step that was not refused.
func (u *UI) step(call func() (engine.Step, error), ok func(engine.Step)) {
	u.run(func() func() {
		s, err := call()
		return func() {
			u.verdict(s, err)
			if ok != nil && s.Verdict != engine.Refused && err == nil {
				ok(s)
			}
		}
	})
}

// verdict shows a step in the banner and sounds its cue.
func (u *UI) verdict(s engine.Step, err error) {
	if err != nil {
		u.cfg.Log.Error("engine step failed", "action", s.Action, "err", err)
	}
	u.banner.set(s)
	u.verdictAt = time.Now()
	u.cfg.Sound.Play(s.Cue)
	if u.sync != nil && err == nil && s.Verdict != engine.Refused {
		u.sync.Now()
	}
}

// scanned handles one scan from the wedge, the entry or the camera.
func (u *UI) scanned(s scan.Scan) {
	u.touch()
	if u.cur == nil || u.cur.hint == "" {
		return
	}
	if u.cur.scan != nil {
		u.cur.scan(s)
		return
	}
	raw := []byte(s.Symbology + s.Text)
	cur := u.cur
	u.run(func() func() {
		st, err := u.eng.Scan(raw)
		return func() {
			u.verdict(st, err)
			u.refreshHeader()
			if u.cur == cur {
				if cur.after != nil {
					cur.after(st)
				}
				// after the step: the engine sees the scan's effect
				u.refreshScreen(cur)
			}
		}
	})
}

// typed handles a line typed or pasted into the scan entry.
func (u *UI) typed(line string) {
	if line == "" {
		return
	}
	res, err := wedge.Parse(line, u.cfg.Wedge)
	if err != nil {
		u.banner.set(engine.Step{Verdict: engine.Refused, Cue: engine.CueRefuse, Reason: "that entry cannot be read: " + err.Error()})
		return
	}
	res.Scan.Origin = "typed"
	u.scanned(res.Scan)
}

// touch notes activity for the idle sign-out.
func (u *UI) touch() { u.lastUse = u.cfg.Now() }

// CheckIdle signs the user out when idle for longer than configured;
// the app calls it every few seconds.
func (u *UI) CheckIdle() {
	if u.cfg.IdleSignOut < 0 || u.eng == nil || u.eng.User() == nil {
		return
	}
	idle := u.cfg.Now().Sub(u.lastUse)
	if idle < u.cfg.IdleSignOut {
		return
	}
	s := u.eng.Logout()
	u.showSignIn()
	s.Reason = fmt.Sprintf("signed out after %d min without use", int(idle.Minutes()))
	u.banner.set(s)
}

// StartIdleWatch checks for idleness every interval until Stop.
func (u *UI) StartIdleWatch(interval time.Duration) {
	u.idleStop = make(chan struct{})
	stop := u.idleStop
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fyne.Do(u.CheckIdle)
			}
		}
	}()
}

// Stop ends the app's background goroutines (camera, idle watch).
func (u *UI) Stop() {
	if u.idleStop != nil {
		close(u.idleStop)
		u.idleStop = nil
	}
	u.stopCamera()
}

// spacer is an empty object of a minimum height.
func spacer(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(1, h))
	return r
}
