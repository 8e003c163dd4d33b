package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
)

func TestEPCISImportAndShipmentExport(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	adm.ok("PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme"}, nil)
	adm.ok("PUT", "/api/v1/site", map[string]any{"id": "site", "gln": "0300011111215", "ssccPrefix": "030001"}, nil)
	adm.ok("PUT", "/api/v1/products/00300010123455", map[string]any{"client": "acme", "name": "Pill", "companyPrefixLen": 6}, nil)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	doc := &epcis.Document{CreationDate: at, Events: []epcis.Event{
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd, BizStep: "commissioning", Disposition: "active",
			EPCList: []string{"urn:epc:id:sgtin:030001.0012345.U1", "urn:epc:id:sgtin:030001.0012345.U2"},
			ILMD:    []epcis.Field{{Space: epcis.NSCBVMDA, Prefix: "cbvmda", Local: "lotNumber", Value: epcis.String("LOT7")}}},
		{Type: epcis.AggregationEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd, BizStep: "packing",
			ParentID: "urn:epc:id:sscc:030001.00000000001", ChildEPCs: []string{"urn:epc:id:sgtin:030001.0012345.U1", "urn:epc:id:sgtin:030001.0012345.U2"}},
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionObserve, BizStep: "shipping", Disposition: "in_transit",
			EPCList:         []string{"urn:epc:id:sscc:030001.00000000001"},
			BizTransactions: []epcis.BizTransaction{{Type: "desadv", Value: "urn:epcglobal:cbv:bt:0300011111215:DEL100"}}},
	}}
	for _, f := range []epcis.Format{epcis.FormatXML12, epcis.FormatJSONLD} {
		b, err := epcis.Encode(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			ASN   string `json:"asn"`
			Items int    `json:"items"`
		}
		adm.ok("POST", "/api/v1/asns/epcis?client=acme", b, &res)
		if res.ASN != "DEL100" || res.Items != 3 {
			t.Fatalf("%s: import %+v", f, res)
		}
	}
	var view struct {
		Unit struct{ Status, Lot, Parent, ASN string } `json:"unit"`
	}
	adm.ok("GET", "/api/v1/units/010030001012345521U1", nil, &view)
	if view.Unit.Status != "expected" || view.Unit.Lot != "LOT7" || view.Unit.Parent != "00003000100000000015" || view.Unit.ASN != "DEL100" {
		t.Fatalf("expected unit %+v", view.Unit)
	}
	if code, _, _ := adm.do("POST", "/api/v1/asns/epcis?client=acme", "<nonsense"); code != http.StatusBadRequest {
		t.Fatalf("bad document: %d", code)
	}
	if code, _, _ := adm.do("POST", "/api/v1/asns/epcis", "{}"); code != http.StatusBadRequest {
		t.Fatalf("no client: %d", code)
	}

	adm.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH1", "client": "acme", "destination": "0399999999991",
		"containers": []string{"00003000100000000015"}}, nil)
	for _, f := range []string{"xml", "jsonld"} {
		code, h, b := adm.do("GET", "/api/v1/shipments/SH1/epcis?format="+f, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", f, code, b)
		}
		out, _, err := epcis.Decode(b)
		if err != nil {
			t.Fatalf("%s (%s): %v", f, h.Get("Content-Type"), err)
		}
		if len(out.Events) != 2 || out.Events[0].ParentID != "urn:epc:id:sscc:030001.00000000001" || len(out.Events[0].ChildEPCs) != 2 ||
			out.Events[1].BizStep != "shipping" || out.Events[1].EPCList[0] != "urn:epc:id:sscc:030001.00000000001" {
			t.Fatalf("%s: document %+v", f, out.Events)
		}
	}
}

// What a device ships makes the shipment's outbound document whole with
// no other call, with the events' own times, the same on every request;
// the new SSCC's history starts with its packing.
func TestShipmentShippedByADevice(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	adm.ok("PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme"}, nil)
	adm.ok("PUT", "/api/v1/site", map[string]any{"id": "site", "gln": "0300011111215", "ssccPrefix": "030001"}, nil)
	adm.ok("PUT", "/api/v1/products/00300010123455", map[string]any{"client": "acme", "name": "Pill", "companyPrefixLen": 6}, nil)
	adm.ok("POST", "/api/v1/orders", map[string]any{"id": "SO-1", "client": "acme", "customer": "0399999999991",
		"lines": []map[string]any{{"id": "1", "gtin": "00300010123455", "qty": 2}}}, nil)
	g := workload.New(workload.Options{Seed: 5, Devices: 1})
	evs := g.Receive(2)
	sscc := event.SSCC("003000100000000015")
	pick := g.Event(event.KindPick, event.Context{Order: "SO-1", Line: "1"}, g.Units()...)
	pack := g.Event(event.KindPack, event.Context{Parent: sscc}, g.Units()...)
	ship := g.Event(event.KindShip, event.Context{Shipment: "SHP-1"}, sscc)
	evs = append(evs, pick, pack, ship)
	var v verdicts
	adm.ok("POST", "/api/v1/events", map[string]any{"events": evs}, &v)
	for i, x := range v.Verdicts {
		if x.Status != "applied" || x.Result.Verdict == "refused" {
			t.Fatalf("event %d: %+v", i, x)
		}
	}
	var first []byte
	for range 2 {
		code, _, b := adm.do("GET", "/api/v1/shipments/SHP-1/epcis", nil)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, b)
		}
		out, _, err := epcis.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) != 2 || len(out.Events[0].ChildEPCs) != 2 || !out.Events[0].EventTime.Equal(pack.HLC.Time()) ||
			!out.Events[1].EventTime.Equal(ship.HLC.Time()) || !out.CreationDate.Equal(ship.HLC.Time()) {
			t.Fatalf("document %+v", out)
		}
		if first == nil {
			first = b
		} else if string(first) != string(b) {
			t.Fatal("the document changed between two requests")
		}
	}
	// The site sends on the client's behalf: the transaction information
	// and statement name the client as seller.
	adm.ok("PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme", "gln": "0300010000008", "companyPrefix": "030001", "sendsTransactionInfo": true}, nil)
	if code, _, _ := adm.do("PUT", "/api/v1/clients/other", map[string]any{"name": "Other", "sendsTransactionInfo": true}); code != http.StatusBadRequest {
		t.Fatalf("sending on behalf of a client without a GLN: %d", code)
	}
	code, _, xml := adm.do("GET", "/api/v1/shipments/SHP-1/epcis?format=xml&consistency=leader", nil)
	if code != http.StatusOK || !strings.Contains(string(xml), "dscsaTransactionStatement") || !strings.Contains(string(xml), "urn:epc:id:sgln:030001.000000.0") {
		t.Fatalf("document with TI/TS: %d %s", code, xml)
	}
	var view struct {
		History []struct {
			Event struct {
				Kind string `json:"kind"`
			} `json:"event"`
		} `json:"history"`
	}
	adm.ok("GET", "/api/v1/units/"+string(sscc), nil, &view)
	if len(view.History) != 2 || view.History[0].Event.Kind != "pack" || view.History[1].Event.Kind != "ship" {
		t.Fatalf("history of the SSCC: %+v", view.History)
	}
}
