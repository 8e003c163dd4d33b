package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/console"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// The console in a real browser: Debian's chromium, headless, driven
// by chromedp against custody-server processes with the demo data and
// a custody-sim fleet. Screenshots of each page go to
// artifacts/screenshots/console/ at the repository's root.

const shotDir = "../artifacts/screenshots/console"

func chromiumPath(t testing.TB) string {
	for _, p := range []string{os.Getenv("CUSTODY_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("no chromium: install it (scripts/deps.sh) to run the browser tests")
	return ""
}

// newBrowser starts a headless chromium of its own.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func run(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that answers a value.
func value[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// shot saves a full-page screenshot as PNG.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// waitText reloads path until the text of sel contains want.
func waitText(t *testing.T, ctx context.Context, base, path, sel, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		run(t, ctx, "open "+path, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("body")))
		s := value(t, ctx, "text of "+sel, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)))
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q never showed %q (last: %.300s)", path, sel, want, s)
		}
		time.Sleep(time.Second)
	}
}

func signIn(t testing.TB, ctx context.Context, base, user, pw string) {
	t.Helper()
	run(t, ctx, "sign in as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#user")),
		chromedp.SendKeys(chromedp.CSS("#user"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("header.top")))
}

// fetchText runs fetch in the page (with its cookies) and returns the
// status and body.
func fetchText(t *testing.T, ctx context.Context, method, path string) (int, string) {
	t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	js := fmt.Sprintf(`fetch(%q, {method: %q, credentials: "same-origin"}).then(async r => ({status: r.status, body: await r.text()}))`, path, method)
	res := value(t, ctx, method+" "+path, chromedp.Evaluate[answer](js, chromedp.EvalAwaitPromise))
	return res.Status, res.Body
}

// fetchBase64 fetches a binary answer in the page and returns it as base64.
func fetchBase64(t *testing.T, ctx context.Context, path string) (int, string) {
	t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	js := fmt.Sprintf(`fetch(%q, {credentials: "same-origin"}).then(async r => {
		const b = new Uint8Array(await r.arrayBuffer()); let s = "";
		for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
		return {status: r.status, body: btoa(s)};
	})`, path)
	res := value(t, ctx, "GET "+path, chromedp.Evaluate[answer](js, chromedp.EvalAwaitPromise))
	return res.Status, res.Body
}

func readPassword(t testing.TB, s *procs.Server) string {
	t.Helper()
	file := filepath.Join(s.Data, console.AdminPasswordFile)
	var b []byte
	procs.WaitFor(t, 30*time.Second, "the first admin password file", func() bool {
		var err error
		b, err = os.ReadFile(file)
		return err == nil && len(bytes.TrimSpace(b)) > 0
	})
	return string(bytes.TrimSpace(b))
}

// TestConsoleBrowser walks the console as a shift lead would, on a site
// with the demo data and a simulated fleet at work.
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not with -short")
	}
	ctx := newBrowser(t)
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	simBin := procs.Build(t, dir, "github.com/custodyhq/custody/e2e/cmd/custody-sim")
	nodes := procs.StartCluster(t, srvBin, 1, "--insecure-devices")
	s := nodes[0]
	base := s.URL()
	adminPW := readPassword(t, s)
	adm := procs.Client(s, "admin")

	sim := procs.Start(t, dir, "sim", simBin, "--servers", base, "--devices", "4", "--duration", "100s", "--offline", "0.1",
		"--conflicts", "3", "--seed", "11", "--pace", "300ms", "--dir", filepath.Join(dir, "devices"))
	procs.WaitFor(t, 60*time.Second, "the demo data", func() bool {
		var p struct{ Items []master.Product }
		return adm.Get("/api/v1/products", &p) == nil && len(p.Items) > 0
	})
	// A lead of the EU client only, for isolation.
	if err := adm.Do(context.Background(), "PUT", "/api/v1/users/lead-eu", map[string]any{"name": "Lea EU", "role": "lead", "clients": []string{"eurofarm"}}, nil); err != nil {
		t.Fatal(err)
	}
	// And one of the US client only: the fleet works for the EU client,
	// so this lead's floor shows the test's own scans, which a burst of
	// the fleet's cannot push off the page.
	if err := adm.Do(context.Background(), "PUT", "/api/v1/users/lead-us", map[string]any{"name": "Lee US", "role": "lead", "clients": []string{"acme"}}, nil); err != nil {
		t.Fatal(err)
	}
	for u, pw := range map[string]string{"lead1": "lead1 console password", "lead-eu": "lead-eu console password", "lead-us": "lead-us console password"} {
		if err := adm.Do(context.Background(), "PUT", "/api/v1/users/"+u+"/password", map[string]string{"password": pw}, nil); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in: the form, then the floor.
	run(t, ctx, "the sign-in form", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#user")))
	shot(t, ctx, "login")
	signIn(t, ctx, base, "admin", adminPW)

	t.Run("a scan arrives on the floor without a reload", func(t *testing.T) {
		us := newBrowser(t)
		signIn(t, us, base, "lead-us", "lead-us console password")
		run(t, us, "floor", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#live")))
		value(t, us, "mark the page", chromedp.Evaluate[string](`window.__sameLoad = "yes"`))
		run(t, us, "live", chromedp.WaitVisible(chromedp.CSS("#livestate.on")))
		serial := "FLOOR" + fmt.Sprint(time.Now().UnixNano()%100000)
		receiveViaAPI(t, adm, serial)
		c, cancel := context.WithTimeout(us, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(c, chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//div[@id="live"]//code[text()=%q]`, serial)))); err != nil {
			t.Fatalf("the scan on the floor: %v\nthe page's live part: %.3000s\nserver log:\n%s", err, text(t, us, "#live"), s.Proc.Tail(4000))
		}
		same := value(t, us, "same page", chromedp.Evaluate[string](`window.__sameLoad || "reloaded"`))
		if same != "yes" {
			t.Fatal("the page was reloaded")
		}
		// The whole site's floor, as the admin sees it.
		run(t, ctx, "floor", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#livestate.on")))
		shot(t, ctx, "floor")
	})

	t.Run("open and resolve a double pick", func(t *testing.T) {
		waitText(t, ctx, base, "/exceptions?status=open&rule=DOUBLE_PICK", "table.list tbody", "Double pick", 90*time.Second)
		shot(t, ctx, "exceptions")
		run(t, ctx, "open it", chromedp.Click(chromedp.CSS(`table.list tbody tr a`)), chromedp.WaitVisible(chromedp.CSS("h1.xhead")))
		if h := text(t, ctx, "h1.xhead"); !strings.Contains(h, "Double pick") {
			t.Fatalf("exception page: %q", h)
		}
		if ev := text(t, ctx, "table.list tbody"); !strings.Contains(ev, "pick") {
			t.Fatalf("no pick events: %q", ev)
		}
		shot(t, ctx, "exception")
		run(t, ctx, "resolve",
			chromedp.Click(chromedp.CSS(`input[name=outcome][value="Re-picked"]`)),
			chromedp.SendKeys(chromedp.CSS("#res-note"), "second picker took another unit"),
			chromedp.Submit(chromedp.CSS("#res-note")),
			chromedp.WaitVisible(chromedp.CSS("p.flash")))
		if f := text(t, ctx, "dl.facts"); !strings.Contains(f, "resolved by admin") || !strings.Contains(f, "Re-picked: second picker") {
			t.Fatalf("after resolving: %q", f)
		}
	})

	var shipped unit.State
	t.Run("recall a lot: units held, shipped units listed", func(t *testing.T) {
		procs.WaitFor(t, 120*time.Second, "a shipped unit with a lot", func() bool {
			var p struct{ Items []unit.State }
			if adm.Get("/api/v1/units?status=shipped&limit=200", &p) != nil {
				return false
			}
			for _, u := range p.Items {
				// In a container: the shipment step below labels its SSCC.
				if u.Lot != "" && u.Key.GTIN() != "" && !u.Key.IsContainer() && u.Parent != "" {
					shipped = u
					return true
				}
			}
			return false
		})
		path := "/recall?" + url.Values{"gtin": {shipped.Key.GTIN()}, "lot": {shipped.Lot}}.Encode()
		run(t, ctx, "recall page", chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		run(t, ctx, "hold the lot",
			chromedp.SendKeys(chromedp.CSS("#note"), "recall notice R-1"),
			chromedp.Click(chromedp.CSS(`button.alarmbtn`)),
			chromedp.WaitVisible(chromedp.CSS("p.flash")))
		body := text(t, ctx, "main")
		if !strings.Contains(body, "recall (lot) active") {
			t.Fatalf("no active lot hold: %.2000s", body)
		}
		// Shipped units are listed per ship-to (the CSV names every shipment).
		ships := text(t, ctx, `table[aria-labelledby="shipped"]`)
		if !strings.Contains(ships, "CUST-") {
			t.Fatalf("no ship-to listed: %q", ships)
		}
		shot(t, ctx, "recall")
		// The units still here show the hold.
		code, csv := fetchText(t, ctx, "GET", "/recall.csv?"+url.Values{"gtin": {shipped.Key.GTIN()}, "lot": {shipped.Lot}}.Encode())
		if code != 200 || !strings.Contains(csv, shipped.Key.Serial()+","+shipped.Lot) || !strings.Contains(csv, ",shipped,recall") || !strings.Contains(csv, shipped.Shipment) {
			t.Fatalf("recall CSV: %d %.500s", code, csv)
		}
		run(t, ctx, "holds", chromedp.Navigate(base+"/holds"), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(t, ctx, "holds")
	})

	var traced unit.State
	t.Run("trace a serial from a pasted Digital Link", func(t *testing.T) {
		var p struct{ Items []unit.State }
		if err := adm.Get("/api/v1/units?status=in_stock&limit=500", &p); err != nil {
			t.Fatal(err)
		}
		// A unit in a case or on a pallet, when there is one: more to see.
		for _, u := range p.Items {
			if !u.Key.IsContainer() && u.Key.GTIN() != "" && (traced.Key == "" || traced.Parent == "" && u.Parent != "") {
				traced = u
			}
		}
		if traced.Key == "" {
			t.Fatal("no unit in stock")
		}
		dl := "https://id.gs1.org/01/" + traced.Key.GTIN() + "/21/" + url.PathEscape(traced.Key.Serial())
		run(t, ctx, "trace", chromedp.Navigate(base+"/trace"), chromedp.WaitVisible(chromedp.CSS("#q")),
			chromedp.SendKeys(chromedp.CSS("#q"), dl), chromedp.Submit(chromedp.CSS("#q")),
			chromedp.WaitVisible(chromedp.CSS("#h-state")))
		h := text(t, ctx, "#h-state")
		if !strings.Contains(h, traced.Key.GTIN()) || !strings.Contains(h, traced.Key.Serial()) {
			t.Fatalf("traced %q", h)
		}
		if hist := text(t, ctx, "#h-hist + table"); !strings.Contains(hist, "receive") {
			t.Fatalf("history: %q", hist)
		}
		shot(t, ctx, "trace")
		code, doc := fetchText(t, ctx, "GET", "/trace/epcis?q="+url.QueryEscape(dl))
		if code != 200 {
			t.Fatalf("the unit's EPCIS: %d %s", code, doc)
		}
		if _, _, err := epcis.Decode([]byte(doc)); err != nil {
			t.Fatalf("the unit's EPCIS does not decode: %v", err)
		}
	})

	t.Run("download a shipment's EPCIS and validate it", func(t *testing.T) {
		// The fleet ships by events naming a shipment; the record of the
		// shipment lists its containers when a system sends it them. Here
		// the test does, for the container of a unit that shipped.
		if shipped.Key == "" {
			t.Skip("no shipped unit (the recall step failed)")
		}
		top := shipped
		for top.Parent != "" {
			var v struct{ Unit unit.State }
			if err := adm.Get("/api/v1/units/"+url.PathEscape(string(top.Parent)), &v); err != nil || !v.Unit.Known() {
				break
			}
			top = v.Unit
		}
		sh := master.Shipment{ID: "SH-CONSOLE", Client: shipped.Client, Destination: "CUST-1", Containers: []event.Key{top.Key}}
		if err := adm.Do(context.Background(), "POST", "/api/v1/shipments", sh, nil); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "outbound", chromedp.Navigate(base+"/outbound"), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(t, ctx, "outbound")
		run(t, ctx, "shipment", chromedp.Navigate(base+"/outbound/"+url.PathEscape(sh.ID)), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(t, ctx, "shipment")
		for _, f := range []string{"jsonld", "xml"} {
			code, body := fetchText(t, ctx, "GET", "/outbound/"+url.PathEscape(sh.ID)+"/epcis?format="+f)
			if code != 200 {
				t.Fatalf("%s: %d %s", f, code, body)
			}
			doc, _, err := epcis.Decode([]byte(body))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := doc.Validate(); err != nil || len(doc.Events) == 0 {
				t.Fatalf("%s: %d events, %v", f, len(doc.Events), err)
			}
		}
		// The SSCC label: a PNG whose GS1-128 barcode reads (00) and the SSCC.
		code, b64 := fetchBase64(t, ctx, "/outbound/"+url.PathEscape(sh.ID)+"/label.png")
		if code != 200 {
			t.Fatalf("label: %d", code)
		}
		png, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shotDir, "sscc-label.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		res, err := oned.NewCode128Reader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("read the label's barcode: %v", err)
		}
		if got := res.GetText(); !strings.HasSuffix(got, "00"+top.Key.SSCCValue()) {
			t.Fatalf("label barcode %q, want (00)%s", got, top.Key.SSCCValue())
		}
		run(t, ctx, "inbound", chromedp.Navigate(base+"/inbound"), chromedp.WaitVisible(chromedp.CSS("h1")))
		shot(t, ctx, "inbound")
		run(t, ctx, "an ASN", chromedp.Click(chromedp.CSS(`table.list tbody tr a`)), chromedp.WaitVisible(chromedp.CSS(".tiles")))
		shot(t, ctx, "asn")
	})

	t.Run("pages for admins", func(t *testing.T) {
		for _, p := range []string{"devices", "users", "site"} {
			run(t, ctx, p, chromedp.Navigate(base+"/"+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
			shot(t, ctx, p)
		}
		if s := text(t, ctx, "main"); !strings.Contains(s, "leader") {
			t.Fatalf("site page: %q", s)
		}
	})

	t.Run("CSRF: a state-changing request without the token is refused", func(t *testing.T) {
		code, _ := fetchText(t, ctx, "POST", "/holds")
		if code != 403 {
			t.Fatalf("POST without a token: %d", code)
		}
	})

	t.Run("a user of one client finds nothing of another", func(t *testing.T) {
		var acme unit.State
		var p struct{ Items []unit.State }
		if err := adm.Get("/api/v1/units?status=in_stock&limit=500", &p); err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Items {
			if u.Client == "acme" && u.Lot != "" {
				acme = u
				break
			}
		}
		if acme.Key == "" {
			t.Fatal("no acme unit in stock")
		}
		other := newBrowser(t)
		signIn(t, other, base, "lead-eu", "lead-eu console password")
		run(t, other, "trace an acme unit", chromedp.Navigate(base+"/trace?q="+url.QueryEscape(acme.Key.String())), chromedp.WaitVisible(chromedp.CSS("main")))
		if s := text(t, other, "main"); !strings.Contains(s, "Nothing known here") || strings.Contains(s, acme.Lot) {
			t.Fatalf("lead-eu traced an acme unit: %.500s", s)
		}
		run(t, other, "exceptions", chromedp.Navigate(base+"/exceptions?status=any"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if s := text(t, other, "main"); strings.Contains(s, "acme") {
			t.Fatalf("lead-eu sees acme exceptions: %.500s", s)
		}
		run(t, other, "floor", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#live")))
		time.Sleep(1500 * time.Millisecond) // a pushed update or two
		html := value(t, other, "floor html", chromedp.OuterHTML(chromedp.CSS("#live")))
		for _, g := range acmeGTINs(t, adm) {
			if strings.Contains(html, g) {
				t.Fatalf("lead-eu's floor shows acme's GTIN %s", g)
			}
		}
		if code, _ := fetchText(t, other, "GET", "/recall.csv?gtin="+acme.Key.GTIN()+"&lot="+url.QueryEscape(acme.Lot)); code != 404 {
			t.Fatalf("lead-eu downloads an acme recall: %d", code)
		}
	})

	if err := sim.Stop(30 * time.Second); err != nil {
		t.Logf("sim: %v", err)
	}
}

func acmeGTINs(t *testing.T, adm *procs.API) []string {
	var p struct{ Items []master.Product }
	if err := adm.Get("/api/v1/products", &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range p.Items {
		if x.Client == "acme" {
			out = append(out, x.GTIN)
		}
	}
	return out
}

// receiveViaAPI receives a new unit of an acme product through the API.
func receiveViaAPI(t *testing.T, adm *procs.API, serial string) {
	t.Helper()
	var p struct{ Items []master.Product }
	if err := adm.Get("/api/v1/products", &p); err != nil {
		t.Fatal(err)
	}
	var gtin string
	for _, x := range p.Items {
		if x.Client == "acme" && x.UnitsPerCase == 0 {
			gtin = x.GTIN
			break
		}
	}
	var site master.Site
	if err := adm.Get("/api/v1/site", &site); err != nil {
		t.Fatal(err)
	}
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{ID: id, Device: "api:admin:floor", Epoch: uint32(time.Now().Unix()), Seq: 1, HLC: hlc.FromTime(time.Now()), User: "admin",
		Site: site.ID, Client: "acme", Kind: event.KindReceive, Ctx: event.Context{Lot: "FLOORLOT", Expiry: "301231"},
		Subjects: []event.Subject{{Key: event.SGTIN(gtin, serial)}}}
	var ans struct {
		Verdicts []struct {
			Status string          `json:"status"`
			Result json.RawMessage `json:"result"`
		} `json:"verdicts"`
	}
	if err := adm.Do(context.Background(), "POST", "/api/v1/events", map[string]any{"events": []event.Event{ev}}, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Verdicts) != 1 || ans.Verdicts[0].Status != "applied" || !strings.Contains(string(ans.Verdicts[0].Result), `"verdict":"applied"`) {
		t.Fatalf("the test's receipt of %s: %+v", serial, ans)
	}
}

// TestConsoleEnrollAndExpiry: on a node serving HTTPS, an admin signs in
// with the password the first start wrote, mints an enrollment token
// whose QR code decodes to the line shown, and an idle session ends.
func TestConsoleEnrollAndExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not with -short")
	}
	ctx := newBrowser(t)
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	s := procs.StartTLSNode(t, srvBin, "--console-idle", "6s")
	base := s.TLSURL()
	signIn(t, ctx, base, "admin", readPassword(t, s))
	run(t, ctx, "mint a token",
		chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.CSS("#label")),
		chromedp.SendKeys(chromedp.CSS("#label"), "cold room scanner 3"),
		chromedp.Submit(chromedp.CSS("#label")),
		chromedp.WaitVisible(chromedp.CSS("#qr")))
	qr := value(t, ctx, "QR", chromedp.AttributeValue(chromedp.CSS("#qr"), "src")).Value
	line := text(t, ctx, "#enroll-line")
	shot(t, ctx, "devices-enroll")
	if !strings.HasPrefix(line, "custody-hh enroll -server "+base+" -token ") || !strings.Contains(line, "-ca-fingerprint ") {
		t.Fatalf("enrollment line %q", line)
	}
	b64, ok := strings.CutPrefix(qr, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR src %.60s", qr)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}) // as the handheld reads it
	if err != nil {
		t.Fatalf("decode the QR code: %v", err)
	}
	if res.GetText() != line {
		t.Fatalf("QR says %q, the page %q", res.GetText(), line)
	}
	// Idle past --console-idle: the next page is the sign-in form.
	time.Sleep(7 * time.Second)
	run(t, ctx, "after idling", chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.CSS("#user")))
	loc := value(t, ctx, "location", chromedp.Location())
	if !strings.Contains(loc, "/login") || !strings.Contains(text(t, ctx, "main"), "without use") {
		t.Fatalf("after idling: %s %q", loc, text(t, ctx, "main"))
	}
}
