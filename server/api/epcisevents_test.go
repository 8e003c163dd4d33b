package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// A client's EPCIS events of a period: the events of that client whose
// time falls in [from, to), in time order, as one valid document; never
// another client's, never outside the period; bad parameters are
// refused by name.
func TestEPCISEventsOfAPeriod(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }

	submit := func(user string, evs []event.Event) {
		t.Helper()
		var v verdicts
		adm.as(user).ok("POST", "/api/v1/events", map[string]any{"events": evs}, &v)
		for i, x := range v.Verdicts {
			if x.Status != "applied" || x.Result.Verdict == "refused" {
				t.Fatalf("event %d: %+v", i, x)
			}
		}
	}
	recv := event.Context{To: "A-01", Lot: "L1", Expiry: "301231"}
	// Client a: three events on Jan 1 from 08:00, two on Jan 5.
	g1 := workload.New(workload.Options{Seed: 1, Devices: 1, Client: "a", GTIN: gtinA, User: "op-a", Prefix: "api:op-a:d", Start: day(1, 8)})
	jan1 := []event.Event{g1.Event(event.KindReceive, recv, event.SGTIN(gtinA, "P1")),
		g1.Event(event.KindReceive, recv, event.SGTIN(gtinA, "P2")),
		g1.Event(event.KindMove, event.Context{From: "A-01", To: "B-02"}, event.SGTIN(gtinA, "P1"))}
	// One made on a device whose clock ran 30 minutes behind the time
	// it carries: its id is stamped at 09:30, its time is 10:00.
	late := g1.Event(event.KindReceive, recv, event.SGTIN(gtinA, "P3"))
	late.HLC = hlc.FromTime(day(1, 10))
	id, err := event.NewID(day(1, 10).Add(-30*time.Minute), bytes.NewReader(bytes.Repeat([]byte{7}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	late.ID = id
	jan1 = append(jan1, late)
	g5 := workload.New(workload.Options{Seed: 2, Devices: 1, Client: "a", GTIN: gtinA, User: "op-a", Prefix: "api:op-a:e", Start: day(5, 8)})
	jan5 := []event.Event{g5.Event(event.KindReceive, recv, event.SGTIN(gtinA, "Q1")), g5.Event(event.KindReceive, recv, event.SGTIN(gtinA, "Q2"))}
	submit("op-a", append(append([]event.Event(nil), jan1...), jan5...))
	// Client b, the same hours of Jan 1.
	gb := workload.New(workload.Options{Seed: 3, Devices: 1, Client: "b", GTIN: gtinB, User: "op-b", Prefix: "api:op-b:d", Start: day(1, 8)})
	jan1b := []event.Event{gb.Event(event.KindReceive, recv, event.SGTIN(gtinB, "P1")), gb.Event(event.KindReceive, recv, event.SGTIN(gtinB, "P2"))}
	submit("op-b", jan1b)

	ids := func(evs ...event.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, "urn:uuid:"+e.ID.String())
		}
		return out
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/api/v1/epcis/events?" + v.Encode() + "&consistency=leader"
	}
	first := jan1[0].HLC.Time()
	for _, c := range []struct {
		name   string
		user   string
		path   string
		status int
		field  string   // the field an error names
		want   []string // event ids, in order
	}{
		{"jan 1 of a", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 200, "", ids(jan1...)},
		{"jan 5 of a", "op-a", q("client", "a", "from", rfc(day(5, 0)), "to", rfc(day(6, 0))), 200, "", ids(jan5...)},
		{"both days", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(10, 0))), 200, "", ids(append(append([]event.Event(nil), jan1...), jan5...)...)},
		{"to excluded", "op-a", q("client", "a", "from", rfc(first), "to", rfc(jan1[1].HLC.Time())), 200, "", ids(jan1[0])},
		{"from included, before the late one", "op-a", q("client", "a", "from", rfc(first.Add(time.Millisecond)), "to", rfc(day(1, 10))), 200, "", ids(jan1[1:3]...)},
		{"a quiet day", "op-a", q("client", "a", "from", rfc(day(3, 0)), "to", rfc(day(4, 0))), 200, "", nil},
		{"b's own", "op-b", q("client", "b", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 200, "", ids(jan1b...)},
		{"the admin, b", "admin", q("client", "b", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 200, "", ids(jan1b...)},
		{"a's user asking for b", "op-a", q("client", "b", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 403, "", nil},
		{"b's user asking for a", "op-b", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 403, "", nil},
		{"a client not here", "admin", q("client", "zz", "from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 404, "", nil},
		{"no client", "op-a", q("from", rfc(day(1, 0)), "to", rfc(day(2, 0))), 400, "client", nil},
		{"no from", "op-a", q("client", "a", "to", rfc(day(2, 0))), 400, "from", nil},
		{"a date, not a time", "op-a", q("client", "a", "from", "2026-01-01", "to", rfc(day(2, 0))), 400, "from", nil},
		{"no to", "op-a", q("client", "a", "from", rfc(day(1, 0))), 400, "to", nil},
		{"to before from", "op-a", q("client", "a", "from", rfc(day(2, 0)), "to", rfc(day(1, 0))), 400, "to", nil},
		{"to equal to from", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(1, 0))), 400, "to", nil},
		{"over 31 days", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(1, 0).Add(32*24*time.Hour))), 400, "to", nil},
		{"a bad format", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0)), "format", "csv"), 400, "format", nil},
		{"a bad limit", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0)), "limit", "0"), 400, "limit", nil},
		{"over the limit", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0)), "limit", "3"), 413, "to", nil},
		{"at the limit", "op-a", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0)), "limit", "4"), 200, "", ids(jan1...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, hdr, body := adm.as(c.user).do("GET", c.path, nil)
			if code != c.status {
				t.Fatalf("%d, want %d: %s", code, c.status, body)
			}
			if code != http.StatusOK {
				var e struct{ Field string }
				if err := json.Unmarshal(body, &e); err != nil || e.Field != c.field {
					t.Fatalf("error names %q, want %q: %s", e.Field, c.field, body)
				}
				return
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/ld+json") {
				t.Fatalf("content type %s", ct)
			}
			doc, err := epcis.DecodeJSON(body)
			if err != nil {
				t.Fatalf("the document: %v", err)
			}
			if err := doc.Validate(); err != nil {
				t.Fatalf("the document breaks the rules: %v", err)
			}
			var got []string
			for _, e := range doc.Events {
				got = append(got, e.EventID)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("events %v, want %v", got, c.want)
			}
		})
	}
	// The same answer in EPCIS 1.2 XML.
	code, hdr, body := adm.as("op-a").do("GET", q("client", "a", "from", rfc(day(1, 0)), "to", rfc(day(2, 0)), "format", "xml"), nil)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/xml") {
		t.Fatalf("xml: %d %s", code, body)
	}
	doc, err := epcis.DecodeXML(body)
	if err != nil || len(doc.Events) != len(jan1) {
		t.Fatalf("xml document: %v, %d events", err, len(doc.Events))
	}
}

// An ASN's announcements have no EPCIS form: an import of many items,
// all of one time, neither fills the period's document nor counts
// against its limit.
func TestEPCISPeriodLeavesOutAnnouncements(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	before := time.Now().Add(-time.Minute)
	adm.ok("POST", "/api/v1/asns", largeASN(10), nil)
	v := url.Values{"client": {"a"}, "from": {before.Format(time.RFC3339Nano)},
		"to": {time.Now().Add(time.Minute).Format(time.RFC3339Nano)}, "limit": {"5"}, "consistency": {"leader"}}
	code, _, body := adm.as("op-a").do("GET", "/api/v1/epcis/events?"+v.Encode(), nil)
	if code != http.StatusOK {
		t.Fatalf("a period with an ASN of 10 items and no EPCIS event: %d %s", code, body)
	}
	doc, err := epcis.DecodeJSON(body)
	if err != nil || len(doc.Events) != 0 {
		t.Fatalf("document: %v, %d events", err, len(doc.Events))
	}
}
