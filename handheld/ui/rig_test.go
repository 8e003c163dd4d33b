package ui

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/replay"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// rig is the app in a headless test window over a real engine on a real
// Badger store in a temp dir, loaded with the demo site.
type rig struct {
	t     testing.TB
	fx    *demo.Fixture
	st    *store.Store
	eng   *engine.Engine
	dev   *syncdev.Device
	u     *UI
	clock time.Time // the app's clock (idle sign-out, wedge timing)
	cues  *cueLog
	frame string // folder of camera frames the replay camera plays
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// cueLog records the sounds played.
type cueLog struct{ cues []engine.Cue }

func (c *cueLog) Play(q engine.Cue) { c.cues = append(c.cues, q) }
func (c *cueLog) Name() string      { return "test log" }

func newRig(t testing.TB) *rig { return newRigWith(t, demo.DefaultParams()) }

func newRigWith(t testing.TB, p demo.Params) *rig {
	t.Helper()
	a := test.NewTempApp(t)
	fx, err := demo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, fx: fx, clock: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), cues: &cueLog{}}
	if r.st, err = store.Open(t.TempDir(), store.Options{Device: "hh-1", Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	engNow := func() time.Time { return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC) }
	if r.eng, err = engine.New(r.st, engine.Config{DeviceNumber: 5, Now: engNow, Logger: quiet()}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Load(&fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	if r.dev, err = syncdev.New(r.eng, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	w := a.NewWindow("custody")
	w.Resize(fyne.NewSize(480, 800))
	r.u, err = New(a, w, Config{Engine: r.eng, Sync: &Link{Dev: r.dev}, Sound: r.cues, Now: func() time.Time { return r.clock },
		Camera: func() (scan.Source, error) { return source.Folder(r.frame, 0) }, Device: "hh-1", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.u.Stop)
	return r
}

// tap taps a button by its words and waits for what it started.
func (r *rig) tap(label string) {
	r.t.Helper()
	if !r.u.Tap(label) {
		r.t.Fatalf("no button %q on %s; texts: %q", label, r.u.Screen(), r.u.Texts())
	}
	r.u.Wait()
}

// scan types a scan into the scan field and waits for the verdict.
func (r *rig) scan(raw []byte) {
	r.t.Helper()
	r.u.Type(strings.ReplaceAll(string(raw), "\x1d", "<GS>"))
	r.u.Wait()
}

// want checks the banner's verdict and that its reason has each of the
// words.
func (r *rig) want(kind string, words ...string) {
	r.t.Helper()
	if r.u.Kind() != kind {
		r.t.Fatalf("banner %s (%q), want %s", r.u.Kind(), r.u.Reason(), kind)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(r.u.Reason()), strings.ToLower(w)) {
			r.t.Fatalf("banner %q lacks %q", r.u.Reason(), w)
		}
	}
}

func (r *rig) screen(name string) {
	r.t.Helper()
	if r.u.Screen() != name {
		r.t.Fatalf("screen %s, want %s (banner %s %q)", r.u.Screen(), name, r.u.Kind(), r.u.Reason())
	}
}

// shows checks that some text on the screen contains s.
func (r *rig) shows(s string) {
	r.t.Helper()
	if !slices.ContainsFunc(r.u.Texts(), func(t string) bool { return strings.Contains(t, s) }) {
		r.t.Fatalf("%s does not show %q: %q", r.u.Screen(), s, r.u.Texts())
	}
}

func (r *rig) signIn(user string) {
	r.t.Helper()
	r.u.SignIn(user, r.fx.PIN(user))
	r.u.Wait()
	r.screen("home")
}

// pending is how many events wait in the outbox.
func (r *rig) pending() uint64 {
	r.t.Helper()
	first, last, err := r.dev.Outbox()
	if err != nil {
		r.t.Fatal(err)
	}
	return last + 1 - first
}

// asn1 returns the US ASN's cases and each case's items.
func (r *rig) asn1() (pallet event.Key, cases []event.Key, units map[event.Key][]master.ASNItem) {
	a := r.fx.ASN(demo.ASNUS)
	units = map[event.Key][]master.ASNItem{}
	for _, it := range a.Items {
		switch {
		case it.Parent == "":
			pallet = it.Key
		case it.Parent == pallet:
			cases = append(cases, it.Key)
		default:
			units[it.Parent] = append(units[it.Parent], it)
		}
	}
	return
}

// frames writes camera frames of the scans for the replay camera.
func (r *rig) frames(scans ...[]byte) {
	r.t.Helper()
	r.frame = r.t.TempDir()
	if _, err := replay.WriteFolder(r.frame, scans, replay.Options{Seed: 3}); err != nil {
		r.t.Fatal(err)
	}
}
