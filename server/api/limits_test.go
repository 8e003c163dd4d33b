package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
)

// One event over a limit, or with an identifier or date a scan would
// refuse, sent to the leader or to a follower, is refused with 400
// naming the field and nothing is proposed: the nodes stay up, agree,
// and the device's sequence is untouched. (Sent to the leader, an event
// of 1,001 subjects or a 1,100-byte lot used to be proposed, and every
// replica panicked in apply, again at each restart.)
func TestEventsOverTheLimitsAreRefusedAtEveryNode(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(20 * time.Second)
	site.WaitMembers(3, 30*time.Second)
	adm := client{t: t, base: leader.URL(), user: "admin"}
	setupTenants(t, adm)
	tests := []struct {
		name  string
		mod   func(*event.Event)
		field string
	}{
		{"1001 subjects", func(e *event.Event) {
			e.Subjects = make([]event.Subject, event.MaxSubjects+1)
			for i := range e.Subjects {
				e.Subjects[i].Key = event.SGTIN(gtinA, fmt.Sprintf("N%d", i))
			}
		}, "subjects"},
		{"lot of 1100 bytes", func(e *event.Event) { e.Ctx.Lot = strings.Repeat("L", 1100) }, "ctx.lot"},
		{"device of 1100 bytes", func(e *event.Event) { e.Device = "api:admin:" + strings.Repeat("d", 1100) }, "device"},
		{"subject key of 1100 bytes", func(e *event.Event) { e.Subjects[0].Key = event.Key("01" + strings.Repeat("0", 1100)) }, "subjects[0].key"},
		{"reason of 300 bytes", func(e *event.Event) { e.Ctx.Reason = strings.Repeat("r", 300) }, "ctx.reason"},
		// The checks a scan gets.
		{"gtin check digit", func(e *event.Event) { e.Subjects[0].Key = event.SGTIN("00300010123454", "SN1") }, "subjects[0].key"},
		{"sscc check digit", func(e *event.Event) { e.Subjects[0].Key = event.SSCC("003000101234567897") }, "subjects[0].key"},
		{"expiry 281301", func(e *event.Event) { e.Ctx.Expiry = "281301" }, "ctx.expiry"},
		{"expiry ABCDEF", func(e *event.Event) { e.Ctx.Expiry = "ABCDEF" }, "ctx.expiry"},
		{"expiry 999999", func(e *event.Event) { e.Ctx.Expiry = "999999" }, "ctx.expiry"},
		{"lot with GS", func(e *event.Event) { e.Ctx.Lot = "L1\x1d21SN9" }, "ctx.lot"},
		{"destination script", func(e *event.Event) { e.Ctx.Destination = "javascript:alert(1)" }, "ctx.destination"},
	}
	g := workload.New(workload.Options{Seed: 11, Client: "a", Prefix: "api:admin:d", GTIN: gtinA, User: "admin"})
	good := g.Receive(1)
	for _, m := range site.Members {
		c := client{t: t, base: m.URL(), user: "admin"}
		for _, tc := range tests {
			ev := good[0]
			ev.Subjects = append([]event.Subject(nil), ev.Subjects...)
			tc.mod(&ev)
			code, _, b := c.do("POST", "/api/v1/events", map[string]any{"events": []event.Event{good[0], ev}})
			var eb struct{ Code, Field string }
			json.Unmarshal(b, &eb)
			if code != http.StatusBadRequest || eb.Field != "events[1]."+tc.field {
				t.Errorf("%s to %s: %d %s, want 400 naming events[1].%s", tc.name, m.ID, code, b, tc.field)
			}
		}
	}
	// Nothing was proposed: the first event of the device is still the
	// next in its sequence, and applies.
	var v verdicts
	client{t: t, base: site.Members[1].URL(), user: "admin"}.ok("POST", "/api/v1/events", map[string]any{"events": good}, &v)
	if len(v.Verdicts) != 1 || v.Verdicts[0].Status != "applied" {
		t.Fatalf("control write: %+v", v)
	}
	for _, m := range site.Members {
		if m.Node == nil {
			t.Fatalf("%s stopped", m.ID)
		}
	}
	site.WaitConverged(30 * time.Second)
}

// Master data and plans with identifiers a scan would refuse, or naming
// what does not exist, are refused with 400.
func TestMasterDataGetsTheChecksAScanGets(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	adm.ok("PUT", "/api/v1/partners/CUST-1", map[string]any{"name": "Pharmacy", "gln": "0614141000005"}, nil)
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"product gtin check digit", "PUT", "/api/v1/products/00300010123454", map[string]any{"client": "a", "name": "P"}, ""},
		{"product of no client", "PUT", "/api/v1/products/00300030123459", map[string]any{"client": "nobody", "name": "P"}, ""},
		{"partner gln check digit", "PUT", "/api/v1/partners/P2", map[string]any{"name": "P", "gln": "0614141000006"}, ""},
		{"partner id script", "PUT", "/api/v1/partners/javascript:alert(1)", map[string]any{"name": "P"}, ""},
		{"shipment destination script", "POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a", "destination": "javascript:alert(1)"}, "destination"},
		{"shipment destination unknown", "POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a", "destination": "CUST-9"}, "destination"},
		{"shipment destination gln check digit", "POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a", "destination": "0614141000006"}, "destination"},
		{"shipment container check digit", "POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a", "containers": []string{"00003000101234567897"}}, "containers[0]"},
		{"order line gtin check digit", "POST", "/api/v1/orders", map[string]any{"id": "SO-1", "client": "a", "lines": []map[string]any{{"id": "1", "gtin": "00300010123454", "qty": 1}}}, ""},
		{"asn expiry 281301", "POST", "/api/v1/asns", map[string]any{"id": "A1", "client": "a", "items": []map[string]any{{"key": string(event.SGTIN(gtinA, "X1")), "expiry": "281301"}}}, ""},
		{"asn lot with GS", "POST", "/api/v1/asns", map[string]any{"id": "A1", "client": "a", "items": []map[string]any{{"key": string(event.SGTIN(gtinA, "X1")), "lot": "L\x1d1"}}}, ""},
		{"asn sscc check digit", "POST", "/api/v1/asns", map[string]any{"id": "A1", "client": "a", "items": []map[string]any{{"key": "00003000101234567897"}}}, ""},
		{"hold gtin check digit", "POST", "/api/v1/holds", map[string]any{"client": "a", "scope": "product", "gtin": "00300010123454", "reason": "recall"}, ""},
	}
	for _, tc := range tests {
		code, _, b := adm.do(tc.method, tc.path, tc.body)
		var eb struct{ Field string }
		json.Unmarshal(b, &eb)
		if code != http.StatusBadRequest || (tc.field != "" && eb.Field != tc.field) {
			t.Errorf("%s: %d %s, want 400 field %q", tc.name, code, b, tc.field)
		}
	}
	// What is right still goes in.
	adm.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a", "destination": "CUST-1"}, nil)
	adm.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH-2", "client": "a", "destination": "0614141000005"}, nil)
}

// An EPCIS import gets the same checks: a lot a scan would refuse (here
// with a space and '#', outside GS1 character set 82) refuses the
// import with 400, in either format.
func TestEPCISImportGetsTheChecksAScanGets(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	adm.ok("PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme"}, nil)
	adm.ok("PUT", "/api/v1/products/00300010123455", map[string]any{"client": "acme", "name": "Pill", "companyPrefixLen": 6}, nil)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	doc := &epcis.Document{CreationDate: at, Events: []epcis.Event{
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd, BizStep: "commissioning", Disposition: "active",
			EPCList: []string{"urn:epc:id:sgtin:030001.0012345.U1"},
			ILMD:    []epcis.Field{{Space: epcis.NSCBVMDA, Prefix: "cbvmda", Local: "lotNumber", Value: epcis.String("LOT #7")}}},
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionObserve, BizStep: "shipping", Disposition: "in_transit",
			EPCList:         []string{"urn:epc:id:sgtin:030001.0012345.U1"},
			BizTransactions: []epcis.BizTransaction{{Type: "desadv", Value: "urn:epcglobal:cbv:bt:0300011111215:DEL100"}}},
	}}
	for _, f := range []epcis.Format{epcis.FormatXML12, epcis.FormatJSONLD} {
		b, err := epcis.Encode(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, body := adm.do("POST", "/api/v1/asns/epcis?client=acme", b); code != http.StatusBadRequest || !strings.Contains(string(body), "lot") {
			t.Errorf("%s: %d %s, want 400 about the lot", f, code, body)
		}
	}
	if code, _, _ := adm.do("GET", "/api/v1/units/010030001012345521U1", nil); code != http.StatusNotFound {
		t.Fatalf("a unit of the refused import: %d", code)
	}
}
