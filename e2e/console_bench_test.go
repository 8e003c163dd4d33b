package e2e

import (
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/shared/unit"
)

// loadTimeJS answers the page's navigation-to-load time in ms, from the
// Performance API, once the load event has ended.
const loadTimeJS = `new Promise(done => {
	const check = () => {
		const e = performance.getEntriesByType("navigation")[0];
		if (e && e.loadEventEnd > 0) done(e.loadEventEnd - e.startTime);
		else setTimeout(check, 5);
	};
	check();
})`

// BenchmarkConsoleLoad is the browser's load time of the floor, the
// exceptions list and a unit's trace: headless chromium against a real
// custody-server with the demo data and what a custody-sim fleet did in
// 20 s (units, picks, packs, conflicts and their exceptions). Each load
// is a fresh navigation; the time is the page's navigation start to
// the end of its load event (the Performance API), p50 and p99 of a
// run's loads. Run it with -benchtime 50x or so.
func BenchmarkConsoleLoad(b *testing.B) {
	ctx := newBrowser(b)
	dir := b.TempDir()
	srvBin := procs.Build(b, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	simBin := procs.Build(b, dir, "github.com/custodyhq/custody/e2e/cmd/custody-sim")
	s := procs.StartCluster(b, srvBin, 1, "--insecure-devices")[0]
	base := s.URL()
	adminPW := readPassword(b, s)
	adm := procs.Client(s, "admin")
	sim := procs.Start(b, dir, "sim", simBin, "--servers", base, "--devices", "4", "--duration", "20s", "--offline", "0.1",
		"--conflicts", "5", "--seed", "11", "--pace", "50ms", "--dir", filepath.Join(dir, "devices"))
	procs.WaitFor(b, 120*time.Second, "the fleet's run", func() bool { return !sim.Running() })

	var p struct{ Items []unit.State }
	if err := adm.Get("/api/v1/units?status=in_stock&limit=200", &p); err != nil {
		b.Fatal(err)
	}
	var traced unit.State
	for _, u := range p.Items {
		if !u.Key.IsContainer() && u.Key.GTIN() != "" && (traced.Key == "" || traced.Parent == "" && u.Parent != "") {
			traced = u
		}
	}
	if traced.Key == "" {
		b.Fatalf("no unit in stock (sim log: %s)", sim.Tail(2000))
	}
	signIn(b, ctx, base, "admin", adminPW)

	pages := []struct{ name, path, ready string }{
		{"floor", "/", "#live"},
		{"exceptions", "/exceptions", "table.list"},
		{"trace", "/trace?q=" + url.QueryEscape("https://id.gs1.org/01/"+traced.Key.GTIN()+"/21/"+url.PathEscape(traced.Key.Serial())), "#h-state"},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var times []float64
			for b.Loop() {
				run(b, ctx, "open "+pg.path, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
				times = append(times, value(b, ctx, "load time", chromedp.Evaluate[float64](loadTimeJS, chromedp.EvalAwaitPromise)))
			}
			slices.Sort(times)
			b.ReportMetric(times[len(times)/2], "p50-ms")
			b.ReportMetric(times[(len(times)*99)/100], "p99-ms")
		})
	}
}
