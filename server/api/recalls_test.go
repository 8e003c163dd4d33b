package api_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
)

// A lot recall holds what is here at once and lists what left per
// ship-to with the serials, as JSON and CSV; asking again answers the
// same recall.
func TestLotRecall(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	adm.ok("POST", "/api/v1/orders", map[string]any{"id": "SO-1", "client": "a", "customer": "0399999999991",
		"lines": []map[string]any{{"id": "1", "gtin": gtinA, "qty": 1}}}, nil)
	g := workload.New(workload.Options{Seed: 5, Devices: 1, Client: "a", GTIN: gtinA, User: "op-a", Prefix: "api:op-a:d"})
	keys := []event.Key{event.SGTIN(gtinA, "R1"), event.SGTIN(gtinA, "R2"), event.SGTIN(gtinA, "R3"), event.SGTIN(gtinA, "R4")}
	var evs []event.Event
	for i, k := range keys {
		lot := "LOT7"
		if i == 3 {
			lot = "LOT8"
		}
		evs = append(evs, g.Event(event.KindReceive, event.Context{To: "A-01", Lot: lot, Expiry: "301231"}, k))
	}
	sscc := event.SSCC("003000100000000015")
	evs = append(evs, g.Event(event.KindPick, event.Context{Order: "SO-1", Line: "1"}, keys[0]),
		g.Event(event.KindPack, event.Context{Parent: sscc}, keys[0]),
		g.Event(event.KindShip, event.Context{Shipment: "SHP-1"}, sscc))
	var v verdicts
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": evs}, &v)
	for i, x := range v.Verdicts {
		if x.Status != "applied" || x.Result.Verdict == "refused" {
			t.Fatalf("event %d: %+v", i, x)
		}
	}
	adm.ok("POST", "/api/v1/shipments", map[string]any{"id": "SHP-1", "client": "a", "destination": "0399999999991",
		"containers": []string{string(sscc)}}, nil)

	if code, _, _ := adm.as("op-a").do("POST", "/api/v1/recalls", map[string]any{"gtin": gtinA, "lot": "LOT7"}); code != http.StatusForbidden {
		t.Fatalf("an operator opening a recall: %d", code)
	}
	if code, _, _ := adm.as("lead-a").do("POST", "/api/v1/recalls", map[string]any{"gtin": gtinB, "lot": "LOT7"}); code != http.StatusBadRequest {
		t.Fatalf("a recall of another client's product: %d", code)
	}
	var rc struct{ ID, Client, By string }
	adm.as("lead-a").ok("POST", "/api/v1/recalls", map[string]any{"gtin": gtinA, "lot": "LOT7", "note": "class II"}, &rc)
	if rc.Client != "a" || rc.By != "lead-a" {
		t.Fatalf("recall %+v", rc)
	}
	var again struct{ ID, By string }
	adm.ok("POST", "/api/v1/recalls", map[string]any{"gtin": gtinA, "lot": "LOT7"}, &again)
	if again.ID != rc.ID || again.By != "lead-a" {
		t.Fatalf("asked again: %+v", again)
	}
	if code, _, _ := adm.as("op-b").do("GET", "/api/v1/recalls/"+rc.ID, nil); code != http.StatusNotFound {
		t.Fatalf("another client's user reading the recall: %d", code)
	}
	var rep struct {
		Found, Here, Held, Shipped int
		ByStatus                   map[string]int
		ShipTo                     []struct {
			Destination string
			Shipments   []struct {
				ID      string
				Serials []string
			}
		}
	}
	adm.as("op-a").ok("GET", "/api/v1/recalls/"+rc.ID+"?consistency=leader", nil, &rep)
	if rep.Found != 3 || rep.Here != 2 || rep.Held != 2 || rep.Shipped != 1 || rep.ByStatus["shipped"] != 1 || rep.ByStatus["in_stock"] != 2 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.ShipTo) != 1 || rep.ShipTo[0].Destination != "0399999999991" || len(rep.ShipTo[0].Shipments) != 1 ||
		rep.ShipTo[0].Shipments[0].ID != "SHP-1" || len(rep.ShipTo[0].Shipments[0].Serials) != 1 || rep.ShipTo[0].Shipments[0].Serials[0] != string(keys[0]) {
		t.Fatalf("left %+v", rep.ShipTo)
	}
	code, h, b := adm.as("op-a").do("GET", "/api/v1/recalls/"+rc.ID+"?format=csv", nil)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", code, h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "key" {
		t.Fatalf("csv rows %v %v", rows, err)
	}
	for _, row := range rows[1:] {
		if row[8] != "recall" {
			t.Fatalf("csv row holds %q: %v", row[8], row)
		}
	}
	var list struct{ Items []struct{ ID string } }
	adm.as("op-b").ok("GET", "/api/v1/recalls", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another client's user lists %v", list.Items)
	}

	// A records request: the shipped unit's whole history as one EPCIS
	// document, the same for the same question.
	var docs []string
	for range 2 {
		code, _, b := adm.as("op-a").do("POST", "/api/v1/records-requests?consistency=leader", map[string]any{"serials": []string{string(keys[0]), string(keys[1])}})
		if code != http.StatusOK {
			t.Fatalf("records request: %d %s", code, b)
		}
		docs = append(docs, string(b))
	}
	if docs[0] != docs[1] {
		t.Fatal("the same records request answered two documents")
	}
	doc, _, err := epcis.Decode([]byte(docs[0]))
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range doc.Events {
		steps = append(steps, e.BizStep)
	}
	// Two receipts, the pick, the pack, the ship (and the recall's lot
	// hold is no event of the units).
	if len(doc.Events) != 5 {
		t.Fatalf("records request events %v", steps)
	}
	for _, tc := range []struct {
		user string
		body any
		code int
	}{
		{"op-a", map[string]any{"serials": []string{string(event.SGTIN(gtinA, "NOPE"))}}, http.StatusBadRequest},
		{"op-b", map[string]any{"serials": []string{string(keys[0])}}, http.StatusBadRequest},
		{"op-a", map[string]any{"serials": []string{}}, http.StatusBadRequest},
		{"op-a", map[string]any{"serials": []string{"bad"}}, http.StatusBadRequest},
	} {
		if code, _, b := adm.as(tc.user).do("POST", "/api/v1/records-requests", tc.body); code != tc.code {
			t.Errorf("%s %v: %d %s", tc.user, tc.body, code, b)
		}
	}
}
