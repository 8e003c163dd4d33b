package e2e

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/operator"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// The operator console over three real one-node sites (custody-server
// processes), each with a fleet of simulated handhelds (custody-sim) at
// work on its own clients and serials, and a real custody-operator
// process, in a real browser: the network, the exception queue, a
// serial search, a network lot recall with its CSV and holds, the
// fleets' lot at two sites, a serial received at two sites flagged at
// both (and none of the fleets' serials), a site killed and shown down,
// and a user of one client who sees nothing of the other. Screenshots go to
// artifacts/screenshots/operator/.

const (
	opShotDir  = "../artifacts/screenshots/operator"
	gtinAcme   = "00300010123455"
	gtinGlobex = "00300020123452"
)

// opSite is one site of the network with the clients it serves and the
// fleet at work there.
type opSite struct {
	id, name string
	clients  []string
	sscc     string // the site's SSCC prefix: its fleet numbers containers with it
	fleet    string // the serial prefix of its fleet
	srv      *procs.Server
	adm      *procs.API
	sim      *procs.Proc
	epoch    uint32
	seq      uint64
}

// Each site's fleet: a few handhelds, online throughout, for longer
// than the test runs (the test stops them at its end).
const (
	fleetDevices  = 3
	fleetDuration = "60s"
	fleetPace     = "800ms"
)

// startFleet starts the site's fleet on its own clients and serials.
func (s *opSite) startFleet(t *testing.T, dir, bin string, seed int) {
	t.Helper()
	s.sim = procs.Start(t, dir, "fleet-"+s.id, bin, "--servers", s.srv.URL(), "--clients", strings.Join(s.clients, ","),
		"--serial-prefix", s.fleet, "--devices", fmt.Sprint(fleetDevices), "--duration", fleetDuration, "--pace", fleetPace,
		"--offline", "0", "--conflicts", "0", "--seed", fmt.Sprint(seed), "--dir", filepath.Join(dir, "fleet-"+s.id))
}

// fleetUnits counts the units the site received, per client: those of
// its fleet (serials with the fleet's prefix), and all.
func (s *opSite) fleetUnits(t *testing.T) (fleet map[string]int, all int) {
	t.Helper()
	var us struct{ Items []unit.State }
	if err := s.adm.Get("/api/v1/units?limit=100000", &us); err != nil {
		t.Fatalf("%s units: %v", s.id, err)
	}
	fleet = map[string]int{}
	for _, u := range us.Items {
		if u.Key.IsSSCC() || u.Status == unit.StatusExpected {
			continue
		}
		all++
		if strings.HasPrefix(u.Key.Serial(), s.fleet) {
			fleet[u.Client]++
		}
	}
	return fleet, all
}

func (s *opSite) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	do := func(method, path string, body any) {
		t.Helper()
		if err := s.adm.Do(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s %s: %v", s.id, method, path, err)
		}
	}
	do("PUT", "/api/v1/site", master.Site{ID: s.id, Name: s.name, SSCCPrefix: s.sscc})
	for _, c := range s.clients {
		do("PUT", "/api/v1/clients/"+c, map[string]any{"name": strings.ToUpper(c[:1]) + c[1:]})
		g := map[string]string{"acme": gtinAcme, "globex": gtinGlobex}[c]
		do("PUT", "/api/v1/products/"+g, map[string]any{"client": c, "name": "Pill of " + c, "companyPrefixLen": 7})
	}
	// The operator's user here: a lead of this site's clients.
	do("PUT", "/api/v1/users/operator", map[string]any{"name": "Network operator", "role": "lead", "clients": s.clients})
	s.epoch = uint32(time.Now().UnixNano())
}

// receive receives units through the API, as the site's admin on a
// handheld-like device of its own.
func (s *opSite) receive(t *testing.T, client, lot, asn string, serials ...string) {
	t.Helper()
	g := map[string]string{"acme": gtinAcme, "globex": gtinGlobex}[client]
	var evs []event.Event
	for _, sn := range serials {
		id, err := event.NewID(time.Now(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.seq++
		evs = append(evs, event.Event{ID: id, Device: "hh-" + s.id, Epoch: s.epoch, Seq: s.seq, HLC: hlc.FromTime(time.Now()), User: "admin",
			Site: s.id, Client: client, Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: lot, Expiry: "301231", ASN: asn},
			Subjects: []event.Subject{{Key: event.SGTIN(g, sn)}}})
	}
	var v struct {
		Verdicts []struct {
			Status string `json:"status"`
		} `json:"verdicts"`
	}
	if err := s.adm.Do(context.Background(), "POST", "/api/v1/events", map[string]any{"events": evs}, &v); err != nil {
		t.Fatalf("%s receive: %v", s.id, err)
	}
	for _, x := range v.Verdicts {
		if x.Status != "applied" {
			t.Fatalf("%s receive: %+v", s.id, v.Verdicts)
		}
	}
}

func (s *opSite) exceptions(t *testing.T, rule unit.Rule) []unit.Exception {
	t.Helper()
	var xs struct{ Items []unit.Exception }
	if err := s.adm.Get("/api/v1/exceptions?rule="+string(rule), &xs); err != nil {
		t.Fatalf("%s exceptions: %v", s.id, err)
	}
	return xs.Items
}

func opUser(t *testing.T, id string, role operator.Role, pw string, clients ...string) operator.User {
	v, err := password.New(pw)
	if err != nil {
		t.Fatal(err)
	}
	return operator.User{ID: id, Role: role, Clients: clients, Pass: v}
}

func opShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(opShotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opShotDir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signInOperator signs out whoever is signed in, then signs user in.
func signInOperator(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	run(t, ctx, "sign out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("form.who button")),
		chromedp.Click(chromedp.CSS("form.who button")), chromedp.WaitVisible(chromedp.CSS("#user")))
	signIn(t, ctx, base, user, pw)
}

func statusOf(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOperatorNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("browser and process test: not with -short")
	}
	ctx := newBrowser(t)
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	opBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-operator")
	simBin := procs.Build(t, dir, "github.com/custodyhq/custody/e2e/cmd/custody-sim")

	sites := []*opSite{
		{id: "north", name: "North DC", clients: []string{"acme", "globex"}, sscc: "0300100", fleet: "FN"},
		{id: "south", name: "South DC", clients: []string{"acme"}, sscc: "0300200", fleet: "FS"},
		{id: "east", name: "East DC", clients: []string{"globex"}, sscc: "0300300", fleet: "FE"},
	}
	for i, s := range sites {
		s.srv = procs.StartCluster(t, srvBin, 1, "--insecure-devices")[0]
		s.adm = procs.Client(s.srv, "admin")
		s.seed(t)
		s.startFleet(t, dir, simBin, 21+i)
	}
	defer func() {
		for _, s := range sites {
			if t.Failed() {
				t.Logf("%s's fleet log:\n%s", s.id, s.sim.Tail(3000))
			}
			if s.sim.Running() {
				_ = s.sim.Stop(30 * time.Second)
			}
		}
	}()
	north, south, east := sites[0], sites[1], sites[2]
	// Lot RCL-1 of acme at north and south; globex at north and east.
	north.receive(t, "acme", "RCL-1", "", "N1", "N2", "N3")
	south.receive(t, "acme", "RCL-1", "", "S1", "S2")
	north.receive(t, "globex", "G-7", "", "GN1")
	east.receive(t, "globex", "G-7", "", "GE1", "GE2")
	// A duplicate serial within north (two ASNs): a local exception.
	north.receive(t, "acme", "RCL-1", "ASN-A", "LOCALDUP")
	north.receive(t, "acme", "RCL-1", "ASN-B", "LOCALDUP")

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	file := operator.File{DigestKey: hex.EncodeToString(key), Poll: "1s", Timeout: "2s", DigestEvery: "1s",
		Users: []operator.User{
			opUser(t, "netlead", operator.RoleLead, "netlead password", "*"),
			opUser(t, "globex-viewer", operator.RoleViewer, "globex password", "globex"),
		}}
	for _, s := range sites {
		file.Sites = append(file.Sites, operator.Site{ID: s.id, Name: s.name, URL: s.srv.URL(), User: "operator", Clients: s.clients})
	}
	cfg, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "operator.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	opAddr := procs.FreeAddr(t)
	op := procs.Start(t, dir, "operator", opBin, "--config", cfgPath, "--data", filepath.Join(dir, "opdata"), "--http", opAddr)
	base := "http://" + opAddr
	procs.WaitFor(t, 60*time.Second, "the operator", func() bool {
		code, _ := statusOf(base + "/healthz")
		return code == 200
	})
	defer func() {
		if t.Failed() {
			t.Logf("operator log:\n%s", op.Tail(60))
		}
	}()

	run(t, ctx, "the sign-in form", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#user")))
	opShot(t, ctx, "login")
	signIn(t, ctx, base, "netlead", "netlead password")

	t.Run("the network: three sites up, a fleet at work at each", func(t *testing.T) {
		// A row's cells: site, state, leader, last contact, devices
		// online, open exceptions, then received and shipped today,
		// ASNs closed ("closed / all") and shipments loaded ("loaded /
		// all"), by class. Each fleet device receives its own ASN's case
		// and closes it short (the test itself receives on no ASN), and
		// ships what it picked.
		var rows map[string][]string
		procs.WaitFor(t, 90*time.Second, "three sites up with their fleets at work", func() bool {
			run(t, ctx, "network", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#sites")))
			rows = value(t, ctx, "site rows", chromedp.Evaluate[map[string][]string](`Object.fromEntries([...document.querySelectorAll('#sites tbody tr')].map(r => [r.dataset.site, [...r.cells].slice(0, 6).map(c => c.innerText.trim()).concat(['.today-received', '.today-shipped', '.asns', '.shipments'].map(q => (r.querySelector(q) || {innerText: ''}).innerText.trim()))]))`))
			for _, s := range sites {
				r := rows[s.id]
				if len(r) < 10 || !strings.Contains(r[1], "up") || atoi(r[4]) < 1 || atoi(strings.Fields(r[6] + " x")[0]) < 1 ||
					atoi(strings.Split(r[8], "/")[0]) < fleetDevices || atoi(strings.Split(r[9], "/")[0]) < 1 {
					return false
				}
			}
			return true
		})
		t.Logf("sites: %v", rows)
		c := text(t, ctx, "#clients")
		if !strings.Contains(c, "acme") || !strings.Contains(c, "globex") {
			t.Fatalf("clients across sites: %q", c)
		}
		opShot(t, ctx, "network")
		// Each fleet works its site's clients, every one of them, and
		// nothing else: its receipts are at its site.
		for _, s := range sites {
			fleet, _ := s.fleetUnits(t)
			for _, c := range s.clients {
				if fleet[c] == 0 {
					t.Fatalf("%s: no unit of %s received by the fleet: %v", s.id, c, fleet)
				}
			}
			if len(fleet) != len(s.clients) {
				t.Fatalf("%s: the fleet received units of clients %v, the site serves %v", s.id, fleet, s.clients)
			}
		}
	})

	t.Run("one exception queue across sites", func(t *testing.T) {
		q := waitText(t, ctx, base, "/exceptions", "main", "LOCALDUP", 30*time.Second)
		if !strings.Contains(q, "North DC") {
			t.Fatalf("queue: %q", q)
		}
		opShot(t, ctx, "exceptions")
	})

	t.Run("a serial across sites", func(t *testing.T) {
		run(t, ctx, "search",
			chromedp.Navigate(base+"/search"),
			chromedp.SendKeys(chromedp.CSS("#q"), "(01)"+gtinAcme+"(21)S2"),
			chromedp.Submit(chromedp.CSS("#q")),
			chromedp.WaitVisible(chromedp.CSS("#summary")))
		if s := text(t, ctx, "#summary"); !strings.Contains(s, "found at 1 of 3 sites") {
			t.Fatalf("summary: %q", s)
		}
		if s := text(t, ctx, `section[data-site="south"]`); !strings.Contains(s, "here") || !strings.Contains(s, "receive") {
			t.Fatalf("south's answer: %q", s)
		}
		opShot(t, ctx, "search")
	})

	t.Run("a network lot recall: CSV and holds at every site", func(t *testing.T) {
		start := time.Now()
		run(t, ctx, "recall", chromedp.Navigate(base+"/recall?gtin="+gtinAcme+"&lot=RCL-1"), chromedp.WaitVisible(chromedp.CSS("#summary")))
		t.Logf("network lot read over 3 sites (page load): %v", time.Since(start))
		if s := text(t, ctx, "#summary"); !strings.Contains(s, "6 units") {
			t.Fatalf("recall summary: %q", s)
		}
		code, body := fetchText(t, ctx, "GET", "/recall.csv?gtin="+gtinAcme+"&lot=RCL-1")
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if code != 200 || err != nil || len(rows) != 7 {
			t.Fatalf("recall CSV: %d %v %d rows\n%s", code, err, len(rows), body)
		}
		per := map[string]int{}
		for _, r := range rows[1:] {
			per[r[0]]++
		}
		if per["north"] != 4 || per["south"] != 2 {
			t.Fatalf("CSV per site: %v", per)
		}
		opShot(t, ctx, "recall")
		run(t, ctx, "hold everywhere", chromedp.Click(chromedp.CSS(`form[action="/recall/hold"] button`)), chromedp.WaitVisible(chromedp.CSS("#results")))
		if r := text(t, ctx, "#results"); strings.Count(r, "held (RC-") != 2 {
			t.Fatalf("hold results: %q", r)
		}
		for _, s := range []*opSite{north, south} {
			var hs struct {
				Items []struct{ Lot string }
			}
			if err := s.adm.Get("/api/v1/holds?gtin="+gtinAcme, &hs); err != nil || len(hs.Items) != 1 || hs.Items[0].Lot != "RCL-1" {
				t.Fatalf("%s holds: %v %+v", s.id, err, hs.Items)
			}
		}
		opShot(t, ctx, "recall-held")
	})

	t.Run("the fleets' lot and serials across sites", func(t *testing.T) {
		// The fleets at north and south both receive acme's lot SIMLOT1,
		// each on its own serials: the lot is at two sites (every unit of
		// it, received or still expected), a serial received at one.
		want, per := 0, map[string]int{}
		var southSerial string
		for _, st := range []*opSite{north, south} {
			var us struct{ Items []unit.State }
			if err := st.adm.Get("/api/v1/lots/"+gtinAcme+"/SIMLOT1/units", &us); err != nil || len(us.Items) == 0 {
				t.Fatalf("%s: the fleet's lot: %v %d units", st.id, err, len(us.Items))
			}
			want += len(us.Items)
			per[st.id] = len(us.Items)
			for _, u := range us.Items {
				if st == south && u.Status != unit.StatusExpected {
					southSerial = u.Key.Serial()
				}
			}
		}
		run(t, ctx, "the fleets' lot", chromedp.Navigate(base+"/recall?gtin="+gtinAcme+"&lot=SIMLOT1"), chromedp.WaitVisible(chromedp.CSS("#summary")))
		if s := text(t, ctx, "#summary"); !strings.Contains(s, fmt.Sprintf(": %d units across the network", want)) {
			t.Fatalf("the fleets' lot: %q, want %d units (%v)", s, want, per)
		}
		opShot(t, ctx, "recall-fleet-lot")
		run(t, ctx, "a fleet's serial",
			chromedp.Navigate(base+"/search?q="+url.QueryEscape("(01)"+gtinAcme+"(21)"+southSerial)),
			chromedp.WaitVisible(chromedp.CSS("#summary")))
		if s := text(t, ctx, "#summary"); !strings.Contains(s, "found at 1 of 3 sites") {
			t.Fatalf("south's fleet serial %s: %q", southSerial, s)
		}
		if s := text(t, ctx, `section[data-site="south"]`); !strings.Contains(s, "here") || !strings.Contains(s, "receive") {
			t.Fatalf("south's answer for %s: %q", southSerial, s)
		}
	})

	t.Run("a serial received at two sites is flagged at both", func(t *testing.T) {
		north.receive(t, "acme", "RCL-2", "", "CLONED-1")
		second := time.Now()
		south.receive(t, "acme", "RCL-2", "", "CLONED-1")
		procs.WaitFor(t, 60*time.Second, "the duplicate at both sites", func() bool {
			return len(north.exceptions(t, unit.RuleDuplicateInNetwork)) == 1 && len(south.exceptions(t, unit.RuleDuplicateInNetwork)) == 1
		})
		t.Logf("duplicate raised at both sites %v after the second receipt", time.Since(second).Round(10*time.Millisecond))
		for _, s := range []*opSite{north, south} {
			x := s.exceptions(t, unit.RuleDuplicateInNetwork)[0]
			if x.Severity != unit.SeverityHigh || x.Unit.Serial() != "CLONED-1" {
				t.Fatalf("%s: %+v", s.id, x)
			}
		}
		d := waitText(t, ctx, base, "/duplicates", "main", "CLONED-1", 10*time.Second)
		if strings.Count(d, "✓ exception") != 2 {
			t.Fatalf("duplicates page: %q", d)
		}
		opShot(t, ctx, "duplicates")
		code, doc := fetchText(t, ctx, "GET", "/search/records?q="+url.QueryEscape("(01)"+gtinAcme+"(21)CLONED-1"))
		if code != 200 || strings.Count(doc, `"type": "ObjectEvent"`)+strings.Count(doc, `"type":"ObjectEvent"`) < 2 {
			t.Fatalf("records request across sites: %d %.600s", code, doc)
		}
		waitText(t, ctx, base, "/exceptions?rule=DUPLICATE_IN_NETWORK", "main", "CLONED-1", 10*time.Second)
		opShot(t, ctx, "exceptions-network-duplicate")
	})

	t.Run("the fleets' serials are flagged nowhere", func(t *testing.T) {
		// The fleets received units of the same GTINs at several sites
		// (acme at north and south, globex at north and east), each on
		// serials of its own.
		total := 0
		for _, s := range sites {
			fleet, all := s.fleetUnits(t)
			total += all
			t.Logf("%s: %d units received, the fleet's per client %v", s.id, all, fleet)
		}
		// Once a match has covered every unit received so far, CLONED-1
		// is the only serial at two sites.
		var page string
		procs.WaitFor(t, 30*time.Second, "a match over every unit received", func() bool {
			run(t, ctx, "duplicates", chromedp.Navigate(base+"/duplicates"), chromedp.WaitVisible(chromedp.CSS("main")))
			page = text(t, ctx, "main")
			m := regexp.MustCompile(`against ([\d,]+) from`).FindStringSubmatch(page)
			return m != nil && atoi(strings.ReplaceAll(m[1], ",", "")) >= total
		})
		rows := value(t, ctx, "duplicate rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#dups tbody tr')].map(r => r.innerText)`))
		if len(rows) != 1 || !strings.Contains(rows[0], "CLONED-1") {
			t.Fatalf("duplicates beyond CLONED-1: %q\n%s", rows, page)
		}
		for _, s := range sites {
			want := map[string]int{"north": 1, "south": 1, "east": 0}[s.id]
			if xs := s.exceptions(t, unit.RuleDuplicateInNetwork); len(xs) != want {
				t.Fatalf("%s: %d network duplicates, want %d: %+v", s.id, len(xs), want, xs)
			}
		}
	})

	t.Run("shipments across sites link to their EPCIS", func(t *testing.T) {
		for _, st := range []*opSite{north, east} {
			client := st.clients[len(st.clients)-1]
			if err := st.adm.Do(context.Background(), "POST", "/api/v1/shipments", map[string]any{"id": "SH-" + st.id, "client": client, "destination": "0300010000015"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		x := waitText(t, ctx, base, "/exports", "main", "SH-east", 15*time.Second)
		if !strings.Contains(x, "SH-north") || !strings.Contains(x, "JSON-LD") {
			t.Fatalf("exports: %q", x)
		}
		opShot(t, ctx, "exports")
	})

	t.Run("a killed site is shown down with its last known state", func(t *testing.T) {
		east.srv.Proc.Kill()
		procs.WaitFor(t, 30*time.Second, "east shown down", func() bool {
			run(t, ctx, "network", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#sites")))
			row := value(t, ctx, "east row", chromedp.Evaluate[string](`(document.querySelector('tr[data-site="east"]') || {innerText: ""}).innerText`))
			return strings.Contains(row, "down") && strings.Contains(row, "last known state")
		})
		opShot(t, ctx, "network-east-down")
		run(t, ctx, "search with a site down",
			chromedp.Navigate(base+"/search?q="+fmt.Sprintf("%%2801%%29%s%%2821%%29GE1", gtinGlobex)),
			chromedp.WaitVisible(chromedp.CSS("#summary")))
		if s := text(t, ctx, `section[data-site="east"]`); !strings.Contains(s, "no answer") && !strings.Contains(s, "unreachable") {
			t.Fatalf("east in a search while down: %q", s)
		}
		opShot(t, ctx, "search-east-down")
	})

	t.Run("a user of globex sees nothing of acme", func(t *testing.T) {
		signInOperator(t, ctx, base, "globex-viewer", "globex password")
		run(t, ctx, "network", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#sites")))
		if s := text(t, ctx, "main"); strings.Contains(s, "South DC") || strings.Contains(s, "acme") {
			t.Fatalf("globex sees acme's site or client: %q", s)
		}
		opShot(t, ctx, "network-globex")
		// The fleets' work for acme (its ASNs' shortages, its shipments)
		// is not shown to globex either; globex's is.
		var acmeShips []string
		for _, st := range []*opSite{north, south} {
			var xs struct{ Items []master.Shipment }
			if err := st.adm.Get("/api/v1/shipments", &xs); err != nil {
				t.Fatal(err)
			}
			for _, x := range xs.Items {
				if x.Client == "acme" {
					acmeShips = append(acmeShips, x.ID)
				}
			}
		}
		for path, want := range map[string]string{"/exceptions?status=all": "was announced on ASN SIM-FE-", "/exports": "SIM-FN-"} {
			run(t, ctx, path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main")))
			s := text(t, ctx, "main")
			if strings.Contains(s, gtinAcme) || !strings.Contains(s, want) {
				t.Fatalf("%s to globex: %q", path, s)
			}
			for _, id := range acmeShips {
				if strings.Contains(s, id) {
					t.Fatalf("%s shows acme's %s to globex", path, id)
				}
			}
		}
		for _, path := range []string{"/exceptions?status=all", "/duplicates", "/exports", "/search?q=%2801%29" + gtinAcme + "%2821%29N1", "/recall?gtin=" + gtinAcme + "&lot=RCL-1"} {
			run(t, ctx, path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main")))
			s := text(t, ctx, "main")
			for _, bad := range []string{"LOCALDUP", "CLONED-1", "● here", "RCL-1 of"} {
				if strings.Contains(s, bad) && !(bad == "RCL-1 of" && strings.Contains(s, "0 units")) {
					t.Fatalf("%s shows %q to globex: %q", path, bad, s)
				}
			}
		}
		code, body := fetchText(t, ctx, "GET", "/recall.csv?gtin="+gtinAcme+"&lot=RCL-1")
		if code != 200 || strings.Contains(body, ",acme,") {
			t.Fatalf("globex's recall CSV: %d %s", code, body)
		}
		code, _ = fetchText(t, ctx, "POST", "/recall/hold")
		if code != 403 && code != 401 {
			t.Fatalf("a viewer's POST without a token: %d", code)
		}
		opShot(t, ctx, "recall-globex")
	})

	t.Run("the fleets worked on throughout", func(t *testing.T) {
		// East is down; north's and south's fleets picked, packed and
		// shipped units of each of their site's clients, and still run.
		for _, s := range []*opSite{north, south} {
			procs.WaitFor(t, 60*time.Second, s.id+"'s fleet shipping for every client", func() bool {
				var us struct{ Items []unit.State }
				if err := s.adm.Get("/api/v1/units?status=shipped&limit=100000", &us); err != nil {
					t.Fatalf("%s units: %v", s.id, err)
				}
				shipped := map[string]int{}
				for _, u := range us.Items {
					if strings.HasPrefix(u.Key.Serial(), s.fleet) {
						shipped[u.Client]++
					}
				}
				return len(shipped) == len(s.clients)
			})
			if !s.sim.Running() {
				t.Fatalf("%s's fleet ended early:\n%s", s.id, s.sim.Tail(3000))
			}
		}
	})
}

// atoi is the number a cell shows (0 for none).
func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
