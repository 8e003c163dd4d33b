// Command custody-handheld is the handheld app: the Fyne screens that
// receivers, pickers and packers work with, over the handheld's engine,
// its local replica and its sync with the site.
//
//	custody-handheld --data DIR [--server URL] [--camera SPEC] [--wedge]
//	                 [--device ID] [--demo] [--idle DUR] [--ca FILE]
//	custody-handheld demo-frames -o DIR        # camera frames of the demo's inbound cases
//	custody-handheld tour -o DIR               # open the app, save a PNG of each main screen, quit
//	custody-handheld make-replica --data DIR --units N   # a large replica, for the benchmarks
//	custody-handheld probe --data DIR --t0 NS  # time to sign-in and memory, as one JSON line
//
// DIR is a handheld data directory as custody-hh makes it. An empty DIR
// starts at enrollment (the enrollment line typed, pasted or read from
// its QR code with the camera); --demo instead loads the demo site into
// an empty DIR, and --device names a device that is not enrolled (a
// site admits it only with --insecure-devices).
//
// --camera is v4l2:/dev/videoN, replay:FOLDER (image files played as
// camera frames) or none; the default is the first /dev/video* found,
// else none. --wedge takes fast keystrokes ending in Enter, typed
// anywhere, as scans from a keyboard-wedge scanner.
//
// Unless GOMEMLIMIT is set, the Go heap is softly limited to 192 MiB.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/handheld/ui"
	"github.com/custodyhq/custody/handheld/ui/sound"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/sync/client"
)

// defaultMemLimit is the soft heap limit when GOMEMLIMIT is unset.
const defaultMemLimit = 192 << 20

// defaultDevice names a device that was never enrolled (as custody-hh).
const defaultDevice = "hh-demo"

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemLimit)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "demo-frames":
		err = demoFrames(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "tour":
		err = tour(os.Args[2:], log)
	case len(os.Args) > 1 && os.Args[1] == "make-replica":
		err = makeReplica(os.Args[2:], log)
	case len(os.Args) > 1 && os.Args[1] == "probe":
		err = probe(os.Args[2:], log)
	default:
		err = run(os.Args[1:], log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "custody-handheld:", err)
		os.Exit(1)
	}
}

// options are the app's flags.
type options struct {
	data, server, camera, device, caFile string
	wedge, demo                          bool
	idle                                 time.Duration
	devnum                               int
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("custody-handheld", flag.ContinueOnError)
	fs.StringVar(&o.data, "data", "", "the handheld data directory (required)")
	fs.StringVar(&o.server, "server", "", "the site's API URL (default https://127.0.0.1:8081 when enrolled, else none: offline)")
	fs.StringVar(&o.camera, "camera", "", "v4l2:/dev/videoN, replay:FOLDER or none (default: the first camera found, else none)")
	fs.BoolVar(&o.wedge, "wedge", false, "take fast keystrokes ending in Enter as scans (keyboard-wedge scanner)")
	fs.StringVar(&o.device, "device", "", "device id of a device that is not enrolled (default "+defaultDevice+" for a loaded DIR)")
	fs.BoolVar(&o.demo, "demo", false, "load the demo site into an empty DIR instead of enrolling")
	fs.DurationVar(&o.idle, "idle", 10*time.Minute, "sign out after this long without use (0: never)")
	fs.IntVar(&o.devnum, "devnum", 0, "device number (1-999) for SSCCs, stored in DIR at first use (0: the stored one)")
	fs.StringVar(&o.caFile, "ca", "", "the site CA for an unenrolled device over https")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.data == "" || fs.NArg() != 0 {
		return o, errors.New("usage: custody-handheld --data DIR [--server URL] [--camera SPEC] [--wedge] (see -h)")
	}
	if o.idle == 0 {
		o.idle = -1
	}
	return o, nil
}

// device is an opened handheld: its store, engine and sync.
type device struct {
	st     *store.Store
	eng    *engine.Engine
	dev    *syncdev.Device
	cli    *client.Client
	link   *ui.Link
	cancel context.CancelFunc
	done   chan struct{}
	// onState is set once the UI is up; the sync client calls it.
	onState func()
}

// state says what DIR holds: "enrolled", "loaded" (a replica of an
// unenrolled device) or "empty".
func state(dir string) (string, error) {
	if _, err := syncdev.LoadIdentity(dir); err == nil {
		return "enrolled", nil
	} else if !errors.Is(err, syncdev.ErrNoIdentity) {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
		return "loaded", nil
	}
	return "empty", nil
}

// open opens the device in dir as id and, with a server, starts its
// sync client.
func open(dir, id string, o options, log *slog.Logger) (*device, error) {
	st, err := store.Open(dir, store.Options{Device: id, Logger: log})
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(st, engine.Config{DeviceNumber: o.devnum, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	dev, err := syncdev.New(eng, dir)
	if err != nil {
		st.Close()
		return nil, err
	}
	d := &device{st: st, eng: eng, dev: dev, link: &ui.Link{Dev: dev}, done: make(chan struct{})}
	enrolled, _ := state(dir)
	if o.server == "" && enrolled != "enrolled" {
		close(d.done)
		d.cancel = func() {}
		return d, nil
	}
	url, tlsCfg, err := syncdev.Target(dir, o.server, o.caFile)
	if err != nil {
		st.Close()
		return nil, err
	}
	d.cli, err = client.New(dev, client.Config{URL: url, TLSConfig: tlsCfg, Agent: "custody-handheld", Logger: log,
		MinBackoff: 500 * time.Millisecond, MaxBackoff: 15 * time.Second,
		OnState: func(client.State) {
			if f := d.onState; f != nil {
				f()
			}
		}})
	if err != nil {
		st.Close()
		return nil, err
	}
	d.link.Client = d.cli
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { defer close(d.done); _ = d.cli.Serve(ctx) }()
	return d, nil
}

func (d *device) close() {
	d.cancel()
	<-d.done
	d.st.Close()
}

func run(args []string, log *slog.Logger) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	cam, err := cameraFor(o.camera)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	what, err := state(o.data)
	if err != nil {
		return err
	}
	var d *device
	switch {
	case what == "enrolled":
		id, _ := syncdev.LoadIdentity(o.data)
		if o.device != "" && o.device != id.Device.String() {
			return fmt.Errorf("%s is enrolled as device %s, not %q", o.data, id.Device, o.device)
		}
		d, err = open(o.data, id.Device.String(), o, log)
	case what == "loaded" || o.device != "" || o.demo:
		if o.device == "" {
			o.device = defaultDevice
		}
		d, err = open(o.data, o.device, o, log)
		if err == nil && what == "empty" && o.demo {
			err = loadDemo(d.eng)
		}
	}
	if err != nil {
		return err
	}
	if d != nil {
		defer d.close()
	}

	a := app.NewWithID("org.custody.handheld")
	w := a.NewWindow("Custody handheld")
	w.Resize(fyne.NewSize(480, 800))
	cfg := ui.Config{Camera: cam, Sound: sound.Open(), IdleSignOut: o.idle, WedgeOff: !o.wedge, Log: log}
	var enrolledDev *device
	if d != nil {
		cfg.Engine, cfg.Sync, cfg.Device = d.eng, d.link, d.st.Device()
	} else {
		cfg.Enroll = func(ctx context.Context, line string, progress func(float64, string)) (ui.Engine, ui.Sync, error) {
			nd, err := enroll(ctx, o, line, progress, log)
			if err != nil {
				return nil, nil, err
			}
			enrolledDev = nd
			return nd.eng, nd.link, nil
		}
	}
	u, err := ui.New(a, w, cfg)
	if err != nil {
		return err
	}
	if d != nil {
		d.onState = func() { fyne.Do(u.SyncChanged) }
	}
	u.StartIdleWatch(5 * time.Second)
	stopTick := tick(u)
	w.SetOnClosed(func() {
		stopTick()
		u.Stop()
	})
	w.ShowAndRun()
	if enrolledDev != nil {
		enrolledDev.close()
	}
	return nil
}

// tick refreshes the header every few seconds ("last sync 2 min ago").
func tick(u *ui.UI) func() {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fyne.Do(u.SyncChanged)
			}
		}
	}()
	return func() { close(stop) }
}

// loadDemo loads the deterministic demo site into an empty replica.
func loadDemo(e *engine.Engine) error {
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		return err
	}
	_, err = e.Load(&fx.Snapshot)
	return err
}

// enroll enrolls the device in o.data from an enrollment line, opens it,
// starts its sync and waits for the first replica.
func enroll(ctx context.Context, o options, line string, progress func(float64, string), log *slog.Logger) (*device, error) {
	cfg, err := syncdev.ParseEnrollLine(line)
	if err != nil {
		return nil, err
	}
	progress(0.1, "Making this handheld's key and asking the site for its certificate…")
	id, err := syncdev.Enroll(ctx, o.data, cfg)
	if err != nil {
		return nil, err
	}
	progress(0.4, "Certificate received: this handheld is "+id.Device.Short()+". Fetching the site's data…")
	o.server = cfg.Server
	d, err := open(o.data, id.Device.String(), o, log)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		cur, err := d.dev.Cursor()
		if err == nil && !cur.IsZero() {
			progress(1, "The site's data is here.")
			return d, nil
		}
		st := d.cli.State()
		if st.Refused {
			d.close()
			return nil, errors.New("the site refused this device: " + st.LastError)
		}
		if st.Online {
			progress(0.7, "Connected: receiving the site's data…")
		}
		select {
		case <-ctx.Done():
			d.close()
			return nil, fmt.Errorf("the site's data did not arrive: %w", ctx.Err())
		case <-t.C:
		}
	}
}
