package operator

import (
	"context"
	"crypto/rand"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// scanAt submits one event of kind k on key as a handheld of client
// recorded it at time at.
func (s *testSite) scanAt(client string, k event.Kind, ctx event.Context, key event.Key, at time.Time) {
	s.t.Helper()
	dev := "hh-" + client
	s.seq[dev]++
	id, err := event.NewID(at, rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	ev := event.Event{ID: id, Device: dev, Epoch: 1, Seq: s.seq[dev], HLC: hlc.FromTime(at), User: "admin", Site: "site", Client: client,
		Kind: k, Ctx: ctx, Subjects: []event.Subject{{Key: key}}}
	vs, err := s.site.Members[0].Node.SubmitEvents(context.Background(), []event.Event{ev}, false)
	if err != nil || vs[0].Status != command.StatusApplied {
		s.t.Fatalf("%s %s: %v %+v", k, key, err, vs)
	}
}

// unitsIn reads the units of a "today" cell (class today-received or
// today-shipped) of the row that starts at the match of row in page.
func unitsIn(t *testing.T, page, row, class string) string {
	t.Helper()
	i := strings.Index(page, row)
	if i < 0 {
		return "none"
	}
	tr := page[i:]
	if j := strings.Index(tr, "</tr>"); j >= 0 {
		tr = tr[:j]
	}
	m := regexp.MustCompile(`class="` + class + `">([0-9,]+) units`).FindStringSubmatch(tr)
	if m == nil {
		return "none"
	}
	return m[1]
}

// TestReceivedAndShippedToday: a receipt of today counts, one of
// yesterday (before the operator's midnight) does not; each user counts
// only the clients granted to them, and a client the operator is not
// granted at a site counts for nobody.
func TestReceivedAndShippedToday(t *testing.T) {
	e := newEnv(t)
	zone := time.FixedZone("UTC+3", 3*3600)
	now := time.Now().In(zone)
	e.op.cfg.Location, e.op.cfg.Now = zone, func() time.Time { return now }
	midnight, _ := e.op.day(now)
	yesterday := midnight.Add(-time.Minute)
	north, south := e.sites[0], e.sites[1]
	recv := func(asn string) event.Context {
		return event.Context{To: "A-01", Lot: "L1", Expiry: "301231", ASN: asn}
	}
	north.scanAt("a", event.KindReceive, recv("ASN-N1"), event.SGTIN(gtinA, "T1"), now)
	north.scanAt("a", event.KindReceive, recv("ASN-N1"), event.SGTIN(gtinA, "T2"), now)
	north.scanAt("a", event.KindReceive, recv("ASN-N0"), event.SGTIN(gtinA, "Y1"), yesterday)
	north.scanAt("a", event.KindShip, event.Context{Shipment: "SH-N1"}, event.SGTIN(gtinA, "T1"), now)
	north.scanAt("a", event.KindShip, event.Context{Shipment: "SH-N0"}, event.SGTIN(gtinA, "Y1"), yesterday)
	north.scanAt("b", event.KindReceive, recv("ASN-NB"), event.SGTIN(gtinB, "T1"), now)
	south.scanAt("a", event.KindReceive, recv("ASN-S1"), event.SGTIN(gtinA, "T3"), now)
	south.scanAt("b", event.KindReceive, recv("ASN-SB"), event.SGTIN(gtinB, "T2"), now) // b at south: not granted to the operator
	e.poll()

	snaps := map[string]Snapshot{}
	for _, s := range e.op.poller.snapshots() {
		snaps[s.Site] = s
	}
	for _, tc := range []struct {
		site, client string
		want         Activity
	}{
		{"north", "a", Activity{Receipts: 2, ReceivedUnits: 2, ASNs: 1, Shipping: 1, ShippedUnits: 1, Shipments: 1}},
		{"north", "b", Activity{Receipts: 1, ReceivedUnits: 1, ASNs: 1}},
		{"south", "a", Activity{Receipts: 1, ReceivedUnits: 1, ASNs: 1}},
		{"south", "b", Activity{}},
	} {
		if got := snaps[tc.site].Clients[tc.client].Today; got != tc.want {
			t.Errorf("%s, client %s: today %+v, want %+v", tc.site, tc.client, got, tc.want)
		}
	}
	if _, ok := snaps["south"].Clients["b"]; ok {
		t.Error("south keeps counts of b, a client the operator is not granted there")
	}
	if d := midnight.Format(time.DateOnly); snaps["north"].Day != d {
		t.Errorf("north's figures are of %q, want %q", snaps["north"].Day, d)
	}

	for _, tc := range []struct {
		user, pw                      string
		north, south                  string // received units in the site rows ("none": no row)
		northShipped                  string
		clientA, clientB, clientAShip string // received units in the client rows
	}{
		{"ann", "ann password 1", "2", "1", "1", "3", "none", "1"},
		{"bob", "bob password 1", "1", "none", "0", "none", "1", "none"},
		{"all", "all password 1", "3", "1", "1", "3", "1", "1"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			p := signedIn(t, e, tc.user, tc.pw).Page("/")
			for _, c := range []struct{ name, row, class, want string }{
				{"north received", `data-site="north"`, "today-received", tc.north},
				{"north shipped", `data-site="north"`, "today-shipped", tc.northShipped},
				{"south received", `data-site="south"`, "today-received", tc.south},
				{"client a received", `<strong>a</strong>`, "today-received", tc.clientA},
				{"client a shipped", `<strong>a</strong>`, "today-shipped", tc.clientAShip},
				{"client b received", `<strong>b</strong>`, "today-received", tc.clientB},
			} {
				if got := unitsIn(t, p, c.row, c.class); got != c.want {
					t.Errorf("%s: %s units, want %s", c.name, got, c.want)
				}
			}
			if !strings.Contains(html.UnescapeString(p), "are of "+midnight.Format("Monday 2 January 2006")+" (UTC+3), from midnight to midnight") {
				t.Error("the page does not say which day and time zone the figures are of")
			}
		})
	}

	// The next day the figures read yesterday are not shown as today's.
	now = now.Add(24 * time.Hour)
	p := signedIn(t, e, "all", "all password 1").Page("/")
	if got := unitsIn(t, p, `data-site="north"`, "today-received"); got != "none" {
		t.Errorf("a day later, before a read: north shows %s units received today", got)
	}
}

func TestOperatorDay(t *testing.T) {
	for _, tc := range []struct {
		zone     *time.Location
		now      string
		from, to string
	}{
		{time.UTC, "2026-12-07T15:04:05Z", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z"},
		{time.FixedZone("", 3600), "2026-12-06T23:30:00Z", "2026-12-07T00:00:00+01:00", "2026-12-08T00:00:00+01:00"},
		{time.FixedZone("", -5*3600), "2026-12-07T03:00:00Z", "2026-12-06T00:00:00-05:00", "2026-12-07T00:00:00-05:00"},
	} {
		o := &Operator{cfg: Config{Location: tc.zone}}
		now, _ := time.Parse(time.RFC3339, tc.now)
		from, to := o.day(now)
		if f, g := from.Format(time.RFC3339), to.Format(time.RFC3339); f != tc.from || g != tc.to {
			t.Errorf("%s in %v: [%s, %s), want [%s, %s)", tc.now, tc.zone, f, g, tc.from, tc.to)
		}
	}
}
