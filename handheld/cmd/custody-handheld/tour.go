package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/custodyhq/custody/handheld/ui"
	"github.com/custodyhq/custody/handheld/ui/sound"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
)

// tour opens the app in a real window over a fresh copy of the demo
// site, walks through the main screens as a person would and saves a
// PNG of each into the folder given; then it quits. The site it syncs
// with is unreachable on purpose: the pictures show the handheld
// offline, with its events waiting.
func tour(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	out := fs.String("o", "artifacts/screenshots/handheld", "folder for the PNGs")
	width := fs.Float64("width", 480, "window width")
	height := fs.Float64("height", 800, "window height")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "custody-tour-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := open(dir, "hh-tour", options{server: "http://127.0.0.1:9", devnum: 1}, log)
	if err != nil {
		return err
	}
	defer d.close()
	if err := loadDemo(d.eng); err != nil {
		return err
	}
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		return err
	}

	a := app.NewWithID("org.custody.handheld.tour")
	w := a.NewWindow("Custody handheld")
	w.Resize(fyne.NewSize(float32(*width), float32(*height)))
	u0, err := ui.New(a, w, ui.Config{Sound: sound.Silent{Why: "tour"}, Log: log,
		Enroll: func(context.Context, string, func(float64, string)) (ui.Engine, ui.Sync, error) {
			return nil, nil, errors.New("the tour does not enroll")
		}})
	if err != nil {
		return err
	}
	var tourErr error
	go func() {
		tourErr = walk(w, a, u0, d, fx, *out, log)
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	d.onState = nil
	return tourErr
}

// walk drives the screens and saves the pictures.
func walk(w fyne.Window, a fyne.App, u0 *ui.UI, d *device, fx *demo.Fixture, out string, log *slog.Logger) error {
	var u *ui.UI
	var shots []string
	snap := func(name string) error {
		if u != nil {
			u.Wait()
		}
		time.Sleep(600 * time.Millisecond) // a few frames drawn
		img, err := grabWindow(w.Title())
		if err != nil {
			log.Warn("X11 capture failed: using the canvas capture", "err", err)
			fyne.DoAndWait(func() { img = w.Canvas().Capture() })
		}
		f, err := os.Create(filepath.Join(out, name+".png"))
		if err != nil {
			return err
		}
		err = png.Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		shots = append(shots, name)
		return err
	}
	var missing []string
	do := func(f func(u *ui.UI) bool, what string) {
		ok := true
		fyne.DoAndWait(func() { ok = f(u) })
		if !ok {
			missing = append(missing, what)
		}
		u.Wait()
	}
	tap := func(label string) { do(func(u *ui.UI) bool { return u.Tap(label) }, "button "+label) }
	typeScan := func(raw []byte) {
		do(func(u *ui.UI) bool { u.Type(strings.ReplaceAll(string(raw), "\x1d", "<GS>")); return true }, "scan")
	}

	time.Sleep(time.Second) // the window is up
	fyne.DoAndWait(func() {
		// the enrollment screen with a line typed in
		u0.Fill("custody-hh enroll", "custody-hh enroll --server https://10.1.4.20:8081 --token 7Q2M-KX9F-T4WZ --ca-fingerprint 4f1c0e…")
	})
	if err := snap("01-enroll"); err != nil {
		return err
	}
	var err error
	fyne.DoAndWait(func() {
		u, err = ui.New(a, w, ui.Config{Engine: d.eng, Sync: d.link, Sound: sound.Silent{Why: "tour"}, Device: d.st.Device(), Log: log})
	})
	if err != nil {
		return err
	}
	d.onState = func() { fyne.Do(u.SyncChanged) }
	defer func() { d.onState = nil }()
	do(func(u *ui.UI) bool { return u.Fill("user", "op1") }, "user field")
	if err := snap("02-signin"); err != nil {
		return err
	}
	do(func(u *ui.UI) bool { u.SignIn("op1", fx.PIN("op1")); return true }, "sign in")
	if err := snap("03-home"); err != nil {
		return err
	}
	a1 := fx.ASN(demo.ASNUS)
	var pallet event.Key
	var cases []event.Key
	units := map[event.Key][]event.Key{}
	for _, it := range a1.Items {
		switch {
		case it.Parent == "":
			pallet = it.Key
		case it.Parent == pallet:
			cases = append(cases, it.Key)
		default:
			units[it.Parent] = append(units[it.Parent], it.Key)
		}
	}
	tap("Receive")
	tap(demo.ASNUS)
	typeScan(fx.ScanOf(cases[0]))
	if err := snap("04-receive-accepted"); err != nil {
		return err
	}
	// a pack of another client's product: refused
	eu := fx.Stock(fx.Product(3))[0]
	typeScan(demo.UnitScan(fx.Product(3), "XX0001", eu.Lot, eu.Expiry))
	if err := snap("05-receive-refused"); err != nil {
		return err
	}
	tap("Home")
	tap("Verify a case")
	typeScan(fx.ScanOf(cases[0]))
	for _, k := range units[cases[0]][1:] {
		typeScan(fx.ScanOf(k))
	}
	typeScan(fx.ScanOf(units[cases[1]][0]))
	tap("Finish")
	if err := snap("06-verify-mismatch"); err != nil {
		return err
	}
	tap("Home")
	tap("Pick")
	tap(demo.OrderUS)
	g, err := d.eng.PickGuide(demo.OrderUS)
	if err != nil {
		return err
	}
	typeScan(fx.ScanOf(g.Suggest))
	if err := snap("07-pick"); err != nil {
		return err
	}
	tap("Home")
	tap("Pack")
	tap("New container")
	typeScan(fx.ScanOf(g.Suggest))
	if err := snap("08-pack-label"); err != nil {
		return err
	}
	tap("Home")
	tap("Quarantine")
	if err := snap("09-quarantine"); err != nil {
		return err
	}
	tap("Home")
	tap("Look up")
	typeScan(fx.ScanOf(fx.Stock(fx.Product(0))[1].Units[0]))
	if err := snap("10-lookup"); err != nil {
		return err
	}
	tap("Home")
	tap("Sync")
	if err := snap("11-sync-offline"); err != nil {
		return err
	}
	// landscape: the same app on its side
	tap("Home")
	tap("Receive")
	tap(demo.ASNUS)
	fyne.DoAndWait(func() { w.Resize(fyne.NewSize(800, 480)) })
	typeScan(fx.ScanOf(cases[2]))
	if err := snap("12-receive-landscape"); err != nil {
		return err
	}
	fmt.Printf("tour: %d screens saved in %s: %s\n", len(shots), out, strings.Join(shots, ", "))
	if len(missing) > 0 {
		return fmt.Errorf("tour: could not %s", strings.Join(missing, "; "))
	}
	return nil
}
