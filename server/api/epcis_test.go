package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/shared/epcis"
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
