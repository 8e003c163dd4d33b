package operator

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/webui/webuitest"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

const (
	gtinA = "00300010123455" // client a
	gtinB = "00300020123452" // client b
)

// testSite is a real one-node site with clients a and b.
type testSite struct {
	t    *testing.T
	site *sitetest.Site
	seq  map[string]uint64
}

func startSite(t *testing.T) *testSite {
	s := &testSite{t: t, site: sitetest.Start(t, sitetest.Options{}), seq: map[string]uint64{}}
	for _, c := range []string{"a", "b"} {
		s.propose(command.TypeClient, master.Client{ID: c, Name: "Client " + c})
	}
	s.propose(command.TypeProduct, master.Product{GTIN: gtinA, Client: "a", Name: "<b>Pill A</b>", CompanyPrefixLen: 7})
	s.propose(command.TypeProduct, master.Product{GTIN: gtinB, Client: "b", Name: "Pill B", CompanyPrefixLen: 7})
	return s
}

func (s *testSite) url() string { return s.site.Members[0].URL() }

func (s *testSite) propose(typ command.Type, v any) {
	s.t.Helper()
	data, err := command.EncodeJSON(typ, v)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.site.Members[0].Node.Propose(context.Background(), data, false); err != nil {
		s.t.Fatalf("propose %d: %v", typ, err)
	}
}

func (s *testSite) receive(client string, k event.Key, lot string) { s.receiveOn(client, k, lot, "") }

// receiveOn receives a unit on an ASN.
func (s *testSite) receiveOn(client string, k event.Key, lot, asn string) {
	s.t.Helper()
	dev := "hh-" + client
	s.seq[dev]++
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	ev := event.Event{ID: id, Device: dev, Epoch: 1, Seq: s.seq[dev], HLC: hlc.FromTime(time.Now()), User: "admin", Site: "site", Client: client,
		Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: lot, Expiry: "301231", ASN: asn}, Subjects: []event.Subject{{Key: k}}}
	vs, err := s.site.Members[0].Node.SubmitEvents(context.Background(), []event.Event{ev}, false)
	if err != nil || vs[0].Status != command.StatusApplied {
		s.t.Fatalf("receive %s: %v %+v", k, err, vs)
	}
}

type env struct {
	t     *testing.T
	sites []*testSite
	op    *Operator
	app   *fiber.App
}

func verifier(t *testing.T, pw string) User {
	v, err := password.New(pw)
	if err != nil {
		t.Fatal(err)
	}
	return User{Pass: v}
}

// newEnv: two sites (north, south), both with clients a and b; the
// operator sees a and b at north, only a at south. Users: ann (lead of
// a), bob (viewer of b), all (viewer of every client).
func newEnv(t *testing.T) *env {
	e := &env{t: t, sites: []*testSite{startSite(t), startSite(t)}}
	users := []User{verifier(t, "ann password 1"), verifier(t, "bob password 1"), verifier(t, "all password 1")}
	users[0].ID, users[0].Role, users[0].Clients = "ann", RoleLead, []string{"a"}
	users[1].ID, users[1].Role, users[1].Clients = "bob", RoleViewer, []string{"b"}
	users[2].ID, users[2].Role, users[2].Clients = "all", RoleViewer, []string{"*"}
	f := File{Users: users, DigestKey: strings.Repeat("ab", 32), Sites: []Site{
		{ID: "north", Name: "North DC", URL: e.sites[0].url(), User: "admin", Clients: []string{"a", "b"}},
		{ID: "south", Name: "South DC", URL: e.sites[1].url(), User: "admin", Clients: []string{"a"}},
	}}
	var err error
	e.op, err = New(Config{File: f, DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: 2 * time.Second,
		DigestEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.op.cache.Close() })
	e.app = NewApp()
	e.op.Mount(e.app)
	return e
}

func (e *env) poll() { e.op.poller.round(context.Background()) }

type browser = webuitest.Browser

func (e *env) browser() *browser { return webuitest.New(e.t, e.app) }

func signedIn(t *testing.T, e *env, user, pw string) *browser {
	b := e.browser()
	if code, loc := b.Login(user, pw); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("%s signs in: %d %s", user, code, loc)
	}
	return b
}

// TestNetworkQueueAndDown: the overview and the queue from real sites;
// a user sees only the clients granted both to the user and, per site,
// to the operator; a stopped site is down with its last known state.
func TestNetworkQueueAndDown(t *testing.T) {
	e := newEnv(t)
	north, south := e.sites[0], e.sites[1]
	// A unit received twice raises a duplicate serial exception.
	twice := func(s *testSite, client, gtin, serial string) {
		s.receiveOn(client, event.SGTIN(gtin, serial), "L1", "ASN-1")
		s.receiveOn(client, event.SGTIN(gtin, serial), "L1", "ASN-2")
	}
	twice(north, "a", gtinA, "XA1")
	twice(north, "b", gtinB, "XB1")
	twice(south, "b", gtinB, "XB2") // b at south: not granted to the operator
	twice(south, "a", gtinA, "XA2")
	e.poll()

	all := signedIn(t, e, "all", "all password 1")
	p := all.Page("/")
	if strings.Count(p, "● up") != 2 || !strings.Contains(p, "North DC") || !strings.Contains(p, "South DC") {
		t.Fatalf("overview: both sites up expected: %.3000s", p)
	}
	q := all.Page("/exceptions")
	for _, want := range []string{"XA1", "XB1", "XA2"} {
		if !strings.Contains(q, want) {
			t.Errorf("queue lacks %s", want)
		}
	}
	if strings.Contains(q, "XB2") {
		t.Error("queue shows b's exception at south, a client the operator is not granted there")
	}
	if !strings.Contains(q, e.sites[0].url()+"/exceptions/") {
		t.Error("queue rows do not open at their site's console")
	}

	bob := signedIn(t, e, "bob", "bob password 1")
	q = bob.Page("/exceptions")
	if !strings.Contains(q, "XB1") || strings.Contains(q, "XA1") || strings.Contains(q, "XA2") {
		t.Fatalf("bob (client b) sees: %.3000s", q)
	}
	if p := bob.Page("/"); strings.Contains(p, "South DC") {
		t.Error("bob sees south, where the operator sees no client of his")
	}
	q = all.Page("/exceptions?site=south")
	if strings.Contains(q, "XA1") || !strings.Contains(q, "XA2") {
		t.Error("the site filter does not filter")
	}

	// South stops: it is shown down, with its last known exceptions.
	south.site.StopAll()
	e.poll()
	p = all.Page("/")
	if !strings.Contains(p, "▼ down") || !strings.Contains(p, "showing its last known state") {
		t.Fatalf("a stopped site is not shown down: %.4000s", p)
	}
	if q := all.Page("/exceptions?site=south"); !strings.Contains(q, "XA2") || !strings.Contains(q, "Not answering now") {
		t.Fatalf("the down site's last known exceptions: %.3000s", q)
	}
	// A new operator on the same cache shows the last known state
	// before it reads again.
	snap, ok, err := e.op.cache.snapshot("south")
	if err != nil || !ok || len(snap.Exceptions) == 0 || snap.Contact.IsZero() {
		t.Fatalf("cached south: %v %v %+v", ok, err, snap)
	}
}

// TestSearchAndRecall: a serial is found at the site that has it, a lot
// across both sites, the recall CSV has every unit, a lead's hold
// reaches both sites, and a user of b finds nothing of a.
func TestSearchAndRecall(t *testing.T) {
	e := newEnv(t)
	north, south := e.sites[0], e.sites[1]
	north.receive("a", event.SGTIN(gtinA, "S1"), "LOT7")
	north.receive("a", event.SGTIN(gtinA, "S2"), "LOT7")
	south.receive("a", event.SGTIN(gtinA, "S3"), "LOT7")
	north.receive("b", event.SGTIN(gtinB, "S9"), "LOTB")
	e.poll()

	ann := signedIn(t, e, "ann", "ann password 1")
	p := ann.Page("/search?q=" + url.QueryEscape("(01)"+gtinA+"(21)S3"))
	if !strings.Contains(p, "found at <strong>1</strong> of 2 sites") {
		t.Fatalf("serial search: %.3000s", p)
	}
	if strings.Contains(p, "<b>Pill A</b>") {
		t.Fatal("unescaped output")
	}
	code, h, _ := ann.Do("GET", "/search?q="+url.QueryEscape("(01)"+gtinA+"(10)LOT7"), nil)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/recall?") {
		t.Fatalf("a lot search goes to the recall: %d %s", code, h.Get("Location"))
	}
	p = ann.Page("/recall?gtin=" + gtinA + "&lot=LOT7")
	if !strings.Contains(p, "<strong>3</strong> units across the network") {
		t.Fatalf("recall: %.3000s", p)
	}
	code, hdr, body := ann.Do("GET", "/recall.csv?gtin="+gtinA+"&lot=LOT7", nil)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", code, hdr.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("csv rows: %v %d\n%s", err, len(rows), body)
	}
	sites := map[string]int{}
	for _, r := range rows[1:] {
		sites[r[0]]++
		if r[1] != "a" || r[2] != gtinA || r[5] != "LOT7" {
			t.Errorf("csv row %v", r)
		}
	}
	if sites["north"] != 2 || sites["south"] != 1 {
		t.Fatalf("csv per site: %v", sites)
	}
	// The lead holds the lot at both sites.
	tok := webuitest.CSRF(t, p)
	if code, _, _ := ann.Do("POST", "/recall/hold", url.Values{"gtin": {gtinA}, "lot": {"LOT7"}}); code != http.StatusForbidden {
		t.Fatalf("a hold without the CSRF token: %d", code)
	}
	code, h, _ = ann.Do("POST", "/recall/hold", url.Values{"gtin": {gtinA}, "lot": {"LOT7"}, "csrf": {tok}, "note": {"recall R-1"}})
	if code != http.StatusSeeOther {
		t.Fatalf("hold: %d", code)
	}
	p = ann.Page(h.Get("Location"))
	if strings.Count(p, "held (RC-") != 2 || !strings.Contains(p, "3 held") {
		t.Fatalf("recall holds: %.4000s", p)
	}

	bob := signedIn(t, e, "bob", "bob password 1")
	if p := bob.Page("/search?q=" + url.QueryEscape("(01)"+gtinA+"(21)S1")); !strings.Contains(p, "found at <strong>0</strong>") {
		t.Fatalf("bob finds a's unit: %.2000s", p)
	}
	if _, _, body := bob.Do("GET", "/recall.csv?gtin="+gtinA+"&lot=LOT7", nil); strings.Count(body, "\n") != 1 {
		t.Fatalf("bob's recall CSV has a's units: %s", body)
	}
	if code, _, _ := bob.Do("POST", "/recall/hold", url.Values{"gtin": {gtinA}, "lot": {"LOT7"}, "csrf": {webuitest.CSRF(t, bob.Page("/recall"))}}); code != http.StatusForbidden {
		t.Fatalf("a viewer places a hold: %d", code)
	}
}

// TestSignIn: wrong password, unknown user, the lock, CSRF, sign-out
// ending every session of the user.
func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if code, _, _ := b.Do("GET", "/", nil); code != http.StatusSeeOther {
		t.Fatalf("signed out: / answered %d", code)
	}
	if code, _, _ := b.Do("POST", "/login", url.Values{"csrf": {"00"}, "user": {"ann"}, "password": {"ann password 1"}}); code != http.StatusForbidden {
		t.Fatalf("sign-in without the form's token: %d", code)
	}
	if code, _ := b.Login("nobody", "whatever pw"); code != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", code)
	}
	other := signedIn(t, e, "ann", "ann password 1")
	for i := 0; i < maxFailures-1; i++ {
		if code, _ := b.Login("ann", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, code)
		}
	}
	if code, body := b.Login("ann", "wrong password"); code != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
		t.Fatalf("the fifth wrong password: %d", code)
	}
	if code, _ := b.Login("ann", "ann password 1"); code != http.StatusTooManyRequests {
		t.Fatalf("a locked user signs in: %d", code)
	}
	// Sign-out ends the user's other sessions too.
	second := signedIn(t, e, "bob", "bob password 1")
	third := signedIn(t, e, "bob", "bob password 1")
	tok := webuitest.CSRF(t, second.Page("/"))
	if code, _, _ := second.Do("POST", "/logout", url.Values{}); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("sign-out without a token: %d", code)
	}
	if code, _, _ := second.Do("POST", "/logout", url.Values{"csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	if code, _, _ := third.Do("GET", "/", nil); code != http.StatusSeeOther {
		t.Fatalf("another session of a signed-out user: %d", code)
	}
	if code, _, _ := other.Do("GET", "/", nil); code != http.StatusOK {
		t.Fatalf("ann's session ended with bob's: %d", code)
	}
}

func TestConfigCheck(t *testing.T) {
	u := verifier(t, "ann password 1")
	u.ID, u.Role, u.Clients = "ann", RoleViewer, []string{"a"}
	good := func() File {
		return File{Users: []User{u}, Sites: []Site{{ID: "n", URL: "http://127.0.0.1:1", User: "op", Clients: []string{"a"}}}}
	}
	tests := []struct {
		name string
		edit func(f *File)
		ok   bool
	}{
		{"good", func(f *File) {}, true},
		{"no sites", func(f *File) { f.Sites = nil }, false},
		{"bad url", func(f *File) { f.Sites[0].URL = "ftp://x" }, false},
		{"https without certs", func(f *File) { f.Sites[0].URL = "https://x:1" }, false},
		{"no clients", func(f *File) { f.Sites[0].Clients = nil }, false},
		{"same site twice", func(f *File) { f.Sites = append(f.Sites, f.Sites[0]) }, false},
		{"bad role", func(f *File) { f.Users[0].Role = "admin" }, false},
		{"no password", func(f *File) { f.Users[0].Pass.Hash = nil }, false},
		{"short key", func(f *File) { f.DigestKey = "abcd" }, false},
		{"bad poll", func(f *File) { f.Poll = "1ms" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			f.Users = []User{u}
			tc.edit(&f)
			err := f.Check()
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestCrossSiteDuplicate: a serial received at both sites is raised as
// a high-severity exception at both, once; a serial at one site only,
// and another client's units, raise nothing.
func TestCrossSiteDuplicate(t *testing.T) {
	e := newEnv(t)
	north, south := e.sites[0], e.sites[1]
	dup := event.SGTIN(gtinA, "CLONE1")
	north.receive("a", dup, "L1")
	north.receive("a", event.SGTIN(gtinA, "ONLY-N"), "L1")
	south.receive("a", event.SGTIN(gtinA, "ONLY-S"), "L1")
	north.receive("b", event.SGTIN(gtinB, "B1"), "L1")
	south.receive("b", event.SGTIN(gtinB, "B1"), "L1") // b is not the operator's at south
	e.poll()
	south.receive("a", dup, "L1")
	e.poll()
	e.poll() // a second round raises nothing more
	// Nothing changed at the sites since: their lists are not read again.
	reads := e.op.digests.reads
	e.poll()
	if e.op.digests.reads != reads {
		t.Errorf("lists read again with nothing changed: %d reads, were %d", e.op.digests.reads, reads)
	}
	// Each site was read whole once; after that, by its change feed.
	if e.op.digests.fullReads != len(e.sites) {
		t.Errorf("%d whole reads over %d sites", e.op.digests.fullReads, len(e.sites))
	}

	for i, s := range e.sites {
		var xs struct {
			Items []unit.Exception `json:"items"`
		}
		c := e.op.sites[i]
		if err := c.get(context.Background(), "/api/v1/exceptions", url.Values{"rule": {string(unit.RuleDuplicateInNetwork)}}, &xs); err != nil {
			t.Fatal(err)
		}
		if len(xs.Items) != 1 || xs.Items[0].Unit != dup || xs.Items[0].Severity != unit.SeverityHigh {
			t.Fatalf("site %d: network duplicates %+v", i, xs.Items)
		}
		other := "South DC"
		if i == 1 {
			other = "North DC"
		}
		if !strings.Contains(xs.Items[0].Detail, other) {
			t.Errorf("site %d: the exception does not name %s: %s", i, other, xs.Items[0].Detail)
		}
		_ = s
	}
	all := signedIn(t, e, "all", "all password 1")
	if p := all.Page("/duplicates"); !strings.Contains(p, "CLONE1") || strings.Contains(p, ">B1<") || strings.Count(p, "✓ <a href=") != 2 {
		t.Fatalf("duplicates page: %.4000s", p)
	}
	// A records request answers both sites' histories as one document.
	code, hdr, body := all.Do("GET", "/search/records?q="+url.QueryEscape(string(dup)), nil)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/ld+json") {
		t.Fatalf("records request: %d %s %.300s", code, hdr.Get("Content-Type"), body)
	}
	doc, err := epcis.DecodeJSON([]byte(body))
	if err != nil || len(doc.Events) != 2 {
		t.Fatalf("records document: %v, %d events", err, len(doc.Events))
	}
	bob := signedIn(t, e, "bob", "bob password 1")
	if p := bob.Page("/duplicates"); strings.Contains(p, "CLONE1") {
		t.Fatal("bob (client b) sees a's duplicate")
	}
	if code, _, _ := bob.Do("GET", "/search/records?q="+url.QueryEscape(string(dup)), nil); code != http.StatusNotFound {
		t.Fatalf("bob's records request for a's unit: %d", code)
	}
}

// TestDuplicateWithASiteDown: a site that stops keeps its last digest
// list; a duplicate with it is raised at the answering site now and at
// the stopped one once it answers again.
func TestDuplicateWithASiteDown(t *testing.T) {
	e := newEnv(t)
	north, south := e.sites[0], e.sites[1]
	dup := event.SGTIN(gtinA, "CLONE2")
	north.receive("a", dup, "L1")
	e.poll() // north's list has it
	m := north.site.Members[0]
	north.site.Stop(m)
	south.receive("a", dup, "L1")
	e.poll()
	row := e.op.digests.rows[hexDigest(t, e, dup)]
	if row == nil || len(row.Flagged) != 2 {
		t.Fatalf("row %+v", row)
	}
	for _, f := range row.Flagged {
		if f.Site == "north" && f.OK || f.Site == "south" && !f.OK {
			t.Fatalf("with north down: %+v", row.Flagged)
		}
	}
	north.site.Restart(m)
	north.site.WaitLeader(30 * time.Second)
	e.poll()
	for _, f := range e.op.digests.rows[hexDigest(t, e, dup)].Flagged {
		if !f.OK {
			t.Fatalf("after north is back: %+v", e.op.digests.rows[hexDigest(t, e, dup)].Flagged)
		}
	}
	var xs struct {
		Items []unit.Exception `json:"items"`
	}
	if err := e.op.sites[0].get(context.Background(), "/api/v1/exceptions", url.Values{"rule": {string(unit.RuleDuplicateInNetwork)}}, &xs); err != nil || len(xs.Items) != 1 {
		t.Fatalf("north's network duplicates: %v %+v", err, xs.Items)
	}
}

func hexDigest(t *testing.T, e *env, k event.Key) string {
	d, ok := serialdigest.Of(e.op.digests.key, k)
	if !ok {
		t.Fatal("no digest")
	}
	return hex.EncodeToString(serialdigest.Encode([]uint64{d}))
}

// TestExports: each user sees the shipments of the clients granted,
// linked to their EPCIS at their site's console.
func TestExports(t *testing.T) {
	e := newEnv(t)
	north := e.sites[0]
	north.propose(command.TypeShipment, master.Shipment{ID: "SH-A", Client: "a", Destination: "0300010000015"})
	north.propose(command.TypeShipment, master.Shipment{ID: "SH-B", Client: "b", Destination: "0300010000015"})
	e.poll()
	ann := signedIn(t, e, "ann", "ann password 1")
	p := ann.Page("/exports")
	if !strings.Contains(p, "SH-A") || strings.Contains(p, "SH-B") || !strings.Contains(p, north.url()+"/outbound/SH-A/epcis") {
		t.Fatalf("ann's exports: %.3000s", p)
	}
	bob := signedIn(t, e, "bob", "bob password 1")
	if p := bob.Page("/exports"); strings.Contains(p, "SH-A") || !strings.Contains(p, "SH-B") {
		t.Fatalf("bob's exports: %.3000s", p)
	}
}
