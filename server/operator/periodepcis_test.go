package operator

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// receiveAt receives a unit with an event made at t (its id stamped
// then too), on a device of its own per client; seed fixes the id.
func (s *testSite) receiveAt(client string, k event.Key, at time.Time, seed byte) event.Event {
	s.t.Helper()
	id, err := event.NewID(at, bytes.NewReader(bytes.Repeat([]byte{seed}, 16)))
	if err != nil {
		s.t.Fatal(err)
	}
	dev := "hh-period-" + client
	s.seq[dev]++
	ev := event.Event{ID: id, Device: dev, Epoch: 1, Seq: s.seq[dev], HLC: hlc.FromTime(at), User: "admin", Site: "site", Client: client,
		Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: "L1", Expiry: "301231"}, Subjects: []event.Subject{{Key: k}}}
	vs, err := s.site.Members[0].Node.SubmitEvents(context.Background(), []event.Event{ev}, false)
	if err != nil || vs[0].Status != command.StatusApplied {
		s.t.Fatalf("receive %s: %v %+v", k, err, vs)
	}
	return ev
}

// TestPeriodEPCIS: a client's events of a period from both sites as one
// valid EPCIS document in time order, each event once; another client's
// events and events outside the period left out; refused while a site
// of the client does not answer.
func TestPeriodEPCIS(t *testing.T) {
	e := newEnv(t)
	// A real site's 404 of a route it does not have is not its 404 of a record.
	var ae *apiError
	if err := e.op.sites[0].get(context.Background(), "/api/v1/epcis/no-such-route", nil, nil); !errors.As(err, &ae) || periodAnswer(ae) != periodNoRoute {
		t.Fatalf("a route the site does not have: %v", err)
	}
	north, south := e.sites[0], e.sites[1]
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	n1 := north.receiveAt("a", event.SGTIN(gtinA, "N1"), h(1), 1)
	s1 := south.receiveAt("a", event.SGTIN(gtinA, "S1"), h(2), 2)
	n2 := north.receiveAt("a", event.SGTIN(gtinA, "N2"), h(3), 3)
	// One event both sites hold (a unit's record sent to both).
	both := north.receiveAt("a", event.SGTIN(gtinA, "BOTH"), h(4), 4)
	south.receiveAt("a", event.SGTIN(gtinA, "BOTH"), h(4), 4)
	north.receiveAt("a", event.SGTIN(gtinA, "OLD"), h(-48), 5)  // before the period
	north.receiveAt("a", event.SGTIN(gtinA, "LATER"), h(30), 6) // after it
	b1 := north.receiveAt("b", event.SGTIN(gtinB, "B1"), h(1), 7)
	south.receiveAt("b", event.SGTIN(gtinB, "B2"), h(2), 8) // b is not the operator's at south
	e.poll()

	period := func(client, from, to string) string {
		return "/exports/epcis?" + url.Values{"client": {client}, "from": {from}, "to": {to}}.Encode()
	}
	day := period("a", "2026-02-01T00:00", "2026-02-02T00:00")
	ids := func(evs ...event.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, "urn:uuid:"+ev.ID.String())
		}
		return out
	}
	document := func(b *browser, path string) []string {
		t.Helper()
		code, hdr, body := b.Do("GET", path, nil)
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/ld+json") {
			t.Fatalf("%s: %d %s %.500s", path, code, hdr.Get("Content-Type"), body)
		}
		doc, err := epcis.DecodeJSON([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := doc.Validate(); err != nil {
			t.Fatalf("%s: the document breaks the rules: %v", path, err)
		}
		var got []string
		for i, ev := range doc.Events {
			if i > 0 && ev.EventTime.Before(doc.Events[i-1].EventTime) {
				t.Fatalf("%s: event %d out of time order", path, i)
			}
			got = append(got, ev.EventID)
		}
		return got
	}

	ann := signedIn(t, e, "ann", "ann password 1")
	if p := ann.Page("/exports"); !strings.Contains(p, `action="/exports/epcis"`) || !strings.Contains(p, `<option value="a">`) {
		t.Fatalf("ann's exports page has no period form: %.3000s", p)
	}
	if got, want := document(ann, day), ids(n1, s1, n2, both); !slices.Equal(got, want) {
		t.Fatalf("ann's day of a: %v, want %v", got, want)
	}
	// RFC 3339 times work too; to is excluded.
	if got, want := document(ann, period("a", "2026-02-01T01:00:00Z", "2026-02-01T03:00:00Z")), ids(n1, s1); !slices.Equal(got, want) {
		t.Fatalf("ann's 01:00 to 03:00 of a: %v, want %v", got, want)
	}
	// The same in EPCIS 1.2 XML.
	code, hdr, body := ann.Do("GET", day+"&format=xml", nil)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/xml") {
		t.Fatalf("ann's day of a in XML: %d %.300s", code, body)
	}
	if doc, err := epcis.DecodeXML([]byte(body)); err != nil || len(doc.Events) != 4 {
		t.Fatalf("ann's day of a in XML: %v", err)
	}
	all := signedIn(t, e, "all", "all password 1")
	if got, want := document(all, period("b", "2026-02-01T00:00", "2026-02-02T00:00")), ids(b1); !slices.Equal(got, want) {
		t.Fatalf("b's day (north only): %v, want %v", got, want)
	}
	bob := signedIn(t, e, "bob", "bob password 1")
	if code, _, _ := bob.Do("GET", day, nil); code != http.StatusNotFound {
		t.Fatalf("bob asking for a's events: %d", code)
	}
	for _, c := range []struct {
		name, path, says string
	}{
		{"no client", period("", "2026-02-01T00:00", "2026-02-02T00:00"), "client: name the client"},
		{"no from", period("a", "", "2026-02-02T00:00"), "from: required"},
		{"not a time", period("a", "yesterday", "2026-02-02T00:00"), "is not a time"},
		{"to before from", period("a", "2026-02-02T00:00", "2026-02-01T00:00"), "to: must be after from"},
		{"longer than the sites take", period("a", "2026-01-01T00:00", "2026-03-01T00:00"), "North DC: to: at most 31 days"},
	} {
		code, _, body := ann.Do("GET", c.path, nil)
		if code != http.StatusBadRequest || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %.300s", c.name, code, body)
		}
	}

	// South stops: a's answer would be incomplete, b's is not (south
	// does not hold b for the operator).
	m := south.site.Members[0]
	south.site.Stop(m)
	code, _, body = ann.Do("GET", day, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "South DC") {
		t.Fatalf("a's day with south down: %d %.500s", code, body)
	}
	if got, want := document(all, period("b", "2026-02-01T00:00", "2026-02-02T00:00")), ids(b1); !slices.Equal(got, want) {
		t.Fatalf("b's day with south down: %v, want %v", got, want)
	}
}

// What a site's error answer to a period's EPCIS means: only the site's
// own "not found" is a client that is not there; a 404 of a route the
// site does not have is a site that cannot answer.
func TestPeriodAnswer(t *testing.T) {
	tests := []struct {
		name string
		ae   apiError
		want int
	}{
		{"client not here", apiError{Status: 404, Msg: "not found"}, periodNotHere},
		{"client not granted", apiError{Status: 403, Msg: "forbidden: client b is not granted to you"}, periodNotHere},
		{"a site without the route", apiError{Status: 404, Msg: "Cannot GET /api/v1/epcis/events"}, periodNoRoute},
		{"period too long", apiError{Status: 400, Msg: "to: at most 31 days after from"}, periodRefused},
		{"too many events", apiError{Status: 413, Msg: "to: more than 20000 events"}, periodRefused},
		{"site fault", apiError{Status: 500, Msg: "internal"}, periodFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := periodAnswer(&tc.ae); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}
