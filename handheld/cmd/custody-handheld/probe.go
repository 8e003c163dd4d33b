package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/ui"
	"github.com/custodyhq/custody/handheld/ui/sound"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/master"
)

// makeReplica writes a replica of n expected units (the demo site, its
// US ASN grown to n units) into an empty data dir, streamed through the
// bulk loader: the benchmarks' large handhelds.
func makeReplica(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("make-replica", flag.ContinueOnError)
	data := fs.String("data", "", "empty data directory")
	n := fs.Int("units", 100_000, "units in the replica")
	if err := fs.Parse(args); err != nil || *data == "" {
		return errors.New("usage: custody-handheld make-replica --data DIR --units N")
	}
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 20, 50
	p.Pallets = max(1, *n/(p.CasesPerPallet*p.UnitsPerCase))
	small := p
	small.Pallets = 0
	fx, err := demo.Build(small)
	if err != nil {
		return err
	}
	st, err := store.Open(*data, store.Options{Device: defaultDevice, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	l, err := st.NewLoader()
	if err != nil {
		return err
	}
	if err := l.Master(&fx.Snapshot); err != nil {
		return err
	}
	hdr := store.ASN{ID: demo.ASNUS, Client: demo.ClientUS, Supplier: "SUP-1"}
	err = demo.EachExpected(p, func(a *master.ASN, it master.ASNItem) error {
		if it.Parent == "" {
			hdr.Roots = append(hdr.Roots, it.Key)
		}
		hdr.Items++
		return l.Unit(store.ExpectedState(a, it))
	})
	if err == nil {
		err = l.ASN(hdr)
	}
	if err != nil {
		l.Cancel()
		return err
	}
	if err := l.Finish(); err != nil {
		return err
	}
	fmt.Printf("{\"units\":%d,\"data\":%q}\n", l.Units(), *data)
	return nil
}

// probe opens the app in a real window over --data and reports, as one
// JSON line, the time from --t0 (the caller's clock, Unix ns, just
// before it started this process) to the sign-in screen on show, then
// the resident memory after signing in, the home screen's work and a
// look-up; then it quits.
func probe(args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	data := fs.String("data", "", "data directory")
	t0 := fs.Int64("t0", 0, "Unix ns when the process was started (date +%s%N)")
	if err := fs.Parse(args); err != nil || *data == "" {
		return errors.New("usage: custody-handheld probe --data DIR --t0 NS")
	}
	start := time.Now()
	if *t0 > 0 {
		start = time.Unix(0, *t0)
	}
	out := map[string]any{"process_ms": float64(time.Since(start).Microseconds()) / 1000}
	d, err := open(*data, defaultDevice, options{}, log)
	if err != nil {
		return err
	}
	defer d.close()
	out["opened_ms"] = float64(time.Since(start).Microseconds()) / 1000
	a := app.NewWithID("org.custody.handheld.probe")
	w := a.NewWindow("Custody handheld")
	w.Resize(fyne.NewSize(480, 800))
	u, err := ui.New(a, w, ui.Config{Engine: d.eng, Sync: d.link, Sound: sound.Silent{Why: "probe"}, Log: log})
	if err != nil {
		return err
	}
	out["ui_ms"] = float64(time.Since(start).Microseconds()) / 1000
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() {
		out["signin_ms"] = float64(time.Since(start).Microseconds()) / 1000
		out["screen"] = u.Screen()
		close(started)
	})
	var perr error
	go func() {
		defer fyne.Do(a.Quit)
		<-started
		time.Sleep(300 * time.Millisecond)
		fyne.DoAndWait(func() { u.SignIn("op1", "1111") })
		u.Wait()
		fyne.DoAndWait(func() { out["home"] = u.Screen() })
		u.Wait()
		fyne.DoAndWait(func() { u.Tap("Look up") })
		u.Wait()
		var a1 store.ASN
		if perr = d.st.View(func(tx *store.Tx) (err error) { a1, err = tx.ASN(demo.ASNUS); return }); perr != nil || len(a1.Roots) == 0 {
			return
		}
		fyne.DoAndWait(func() { u.Type("]C100" + a1.Roots[len(a1.Roots)/2].SSCCValue()) })
		u.Wait()
		fyne.DoAndWait(func() { out["lookup"] = u.Kind() })
		rss, hwm := memKB()
		out["rss_mb"], out["peak_rss_mb"] = float64(rss)/1024, float64(hwm)/1024
		out["asn_items"] = a1.Items
	}()
	w.ShowAndRun()
	if perr != nil {
		return perr
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// memKB is the process's resident set and its peak, from /proc.
func memKB() (rss, hwm int) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}
