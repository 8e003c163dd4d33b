package api_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

type activityAnswer struct {
	Clients []struct {
		Client        string `json:"client"`
		Receipts      int    `json:"receipts"`
		ReceivedUnits int    `json:"receivedUnits"`
		ASNs          int    `json:"asns"`
		Shipping      int    `json:"shipping"`
		ShippedUnits  int    `json:"shippedUnits"`
		Shipments     int    `json:"shipments"`
	} `json:"clients"`
}

// The activity summary counts the receipts and shipping events of a
// window by the time the device recorded them: a receipt of yesterday
// is not today's, and a user sees only the clients granted to it.
func TestActivityCountsTheWindowOfGrantedClients(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	now := time.Now().UTC()
	at := func(ev event.Event, t time.Time) event.Event { ev.HLC = hlc.FromTime(t); return ev }
	recv := event.Context{To: "A-01", Lot: "L1", Expiry: "301231", ASN: "ASN-A"}
	ua1, ua2, ua3 := event.SGTIN(gtinA, "ACT1"), event.SGTIN(gtinA, "ACT2"), event.SGTIN(gtinA, "ACT3")
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{
		at(newEvent(t, "api:op-a", 1, "op-a", "a", event.KindReceive, recv, ua1), now.Add(-26*time.Hour)), // yesterday
		at(newEvent(t, "api:op-a", 2, "op-a", "a", event.KindReceive, recv, ua2), now.Add(-time.Hour)),
		at(newEvent(t, "api:op-a", 3, "op-a", "a", event.KindReceive, recv, ua3), now.Add(-time.Hour)),
		at(newEvent(t, "api:op-a", 4, "op-a", "a", event.KindShip, event.Context{Shipment: "SH-A"}, ua1), now.Add(-30*time.Minute)),
	}}, nil)
	recvB := event.Context{To: "A-01", Lot: "L1", Expiry: "301231", ASN: "ASN-B"}
	adm.as("op-b").ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{
		at(newEvent(t, "api:op-b", 1, "op-b", "b", event.KindReceive, recvB, event.SGTIN(gtinB, "ACT1")), now.Add(-time.Hour)),
	}}, nil)

	window := "/api/v1/activity?" + url.Values{"from": {now.Add(-2 * time.Hour).Format(time.RFC3339)},
		"to": {now.Add(time.Hour).Format(time.RFC3339)}}.Encode()
	type counts struct{ receipts, received, asns, shipping, shipped, shipments int }
	for _, tc := range []struct {
		user, path string
		want       map[string]counts
	}{
		{"op-a", window, map[string]counts{"a": {2, 2, 1, 1, 1, 1}}},
		{"op-b", window, map[string]counts{"b": {1, 1, 1, 0, 0, 0}}},
		{"admin", window, map[string]counts{"a": {2, 2, 1, 1, 1, 1}, "b": {1, 1, 1, 0, 0, 0}}},
		{"admin", window + "&client=b", map[string]counts{"b": {1, 1, 1, 0, 0, 0}}},
		{"op-a", "/api/v1/activity?" + url.Values{"from": {now.Add(-48 * time.Hour).Format(time.RFC3339)},
			"to": {now.Add(-2 * time.Hour).Format(time.RFC3339)}}.Encode(), map[string]counts{"a": {1, 1, 1, 0, 0, 0}}},
	} {
		t.Run(tc.user+tc.path, func(t *testing.T) {
			var got activityAnswer
			adm.as(tc.user).ok("GET", tc.path, nil, &got)
			if len(got.Clients) != len(tc.want) {
				t.Fatalf("clients %+v, want %v", got.Clients, tc.want)
			}
			for _, c := range got.Clients {
				w, ok := tc.want[c.Client]
				g := counts{c.Receipts, c.ReceivedUnits, c.ASNs, c.Shipping, c.ShippedUnits, c.Shipments}
				if !ok || g != w {
					t.Fatalf("client %s: %+v, want %+v", c.Client, g, w)
				}
			}
		})
	}

	for _, tc := range []struct {
		name, user, query string
		code              int
		field             string
	}{
		{"no from", "op-a", "to=2026-12-07T00:00:00Z", 400, "from"},
		{"no to", "op-a", "from=2026-12-07T00:00:00Z", 400, "to"},
		{"bad from", "op-a", "from=yesterday&to=2026-12-07T00:00:00Z", 400, "from"},
		{"bad to", "op-a", "from=2026-12-07T00:00:00Z&to=2026-12-08", 400, "to"},
		{"to before from", "op-a", "from=2026-12-07T00:00:00Z&to=2026-12-06T00:00:00Z", 400, "to"},
		{"empty window", "op-a", "from=2026-12-07T00:00:00Z&to=2026-12-07T00:00:00Z", 400, "to"},
		{"too long", "op-a", "from=2026-10-01T00:00:00Z&to=2026-12-07T00:00:00Z", 400, "to"},
		{"another client's", "op-a", "from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z&client=b", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, b := adm.as(tc.user).do("GET", "/api/v1/activity?"+tc.query, nil)
			var e struct{ Field string }
			_ = json.Unmarshal(b, &e)
			if code != tc.code || e.Field != tc.field {
				t.Fatalf("%d %s, want %d naming %q", code, b, tc.code, tc.field)
			}
		})
	}
}
