package compliance

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func TestEPCRoundTrip(t *testing.T) {
	cases := []struct {
		key event.Key
		n   int
		urn string
	}{
		{event.SGTIN("00300010123455", "SN1"), 6, "urn:epc:id:sgtin:030001.0012345.SN1"},
		{event.SGTIN("10300010123452", "A/B%1"), 7, "urn:epc:id:sgtin:0300010.112345.A%2FB%251"},
		{event.SSCC("003000100000000015"), 6, "urn:epc:id:sscc:030001.00000000001"},
	}
	for _, c := range cases {
		if got := EPC(c.key, c.n); got != c.urn {
			t.Errorf("EPC(%s) = %s, want %s", c.key, got, c.urn)
		}
		k, err := KeyFromEPC(c.urn)
		if err != nil || k != c.key {
			t.Errorf("KeyFromEPC(%s) = %s, %v", c.urn, k, err)
		}
	}
	k, err := KeyFromEPC("https://id.gs1.org/01/00300010123455/21/SN1")
	if err != nil || k != event.SGTIN("00300010123455", "SN1") {
		t.Fatalf("digital link: %s %v", k, err)
	}
	for _, bad := range []string{"", "urn:epc:id:sgtin:030001.0012345", "urn:epc:id:sgln:030001.111121.0", "urn:epc:id:sscc:03x001.0000000001",
		"https://id.gs1.org/01/00300010123455/10/LOT"} {
		if _, err := KeyFromEPC(bad); !errors.Is(err, ErrEPC) {
			t.Errorf("KeyFromEPC(%q): %v", bad, err)
		}
	}
}

func supplierDoc() *epcis.Document {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ilmd := []epcis.Field{
		{Space: epcis.NSCBVMDA, Prefix: "cbvmda", Local: "lotNumber", Value: epcis.String("LOT7")},
		{Space: epcis.NSCBVMDA, Prefix: "cbvmda", Local: "itemExpirationDate", Value: epcis.String("2028-03-31")},
	}
	return &epcis.Document{Type: epcis.TypeDocument, CreationDate: at, Events: []epcis.Event{
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd, BizStep: "commissioning", Disposition: "active",
			EPCList: []string{"urn:epc:id:sgtin:030001.0012345.U1", "urn:epc:id:sgtin:030001.0012345.U2"}, ILMD: ilmd},
		{Type: epcis.AggregationEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd, BizStep: "packing", Disposition: "in_progress",
			ParentID: "urn:epc:id:sscc:030001.00000000001", ChildEPCs: []string{"urn:epc:id:sgtin:030001.0012345.U2", "urn:epc:id:sgtin:030001.0012345.U1"}},
		{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionObserve, BizStep: "shipping", Disposition: "in_transit",
			EPCList:         []string{"urn:epc:id:sscc:030001.00000000001"},
			BizTransactions: []epcis.BizTransaction{{Type: "desadv", Value: "urn:epcglobal:cbv:bt:0300011111215:DEL100"}},
			Sources:         []epcis.SourceDest{{Type: "owning_party", ID: "urn:epc:id:sgln:030001.111111.0"}}},
	}}
}

func TestASNFromEPCISBothFormats(t *testing.T) {
	pallet := event.SSCC("003000100000000015")
	want := master.ASN{ID: "DEL100", Client: "acme", Supplier: "urn:epc:id:sgln:030001.111111.0", Items: []master.ASNItem{
		{Key: pallet},
		{Key: event.SGTIN("00300010123455", "U1"), Parent: pallet, Lot: "LOT7", Expiry: "280331"},
		{Key: event.SGTIN("00300010123455", "U2"), Parent: pallet, Lot: "LOT7", Expiry: "280331"},
	}}
	for _, f := range []epcis.Format{epcis.FormatJSONLD, epcis.FormatXML12} {
		b, err := epcis.Encode(supplierDoc(), f)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := epcis.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got, err := ASNFromEPCIS(doc, "acme", "")
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %+v\nwant %+v", f, got, want)
		}
	}
	doc := supplierDoc()
	doc.Events = doc.Events[:2]
	if _, err := ASNFromEPCIS(doc, "acme", "X"); !errors.Is(err, ErrNoShipment) {
		t.Fatalf("no shipping event: %v", err)
	}
}

// The outbound document of a shipment reads back as the same tree.
func TestShipmentDocumentRoundTrip(t *testing.T) {
	c1, c2 := event.SSCC("003000100000000015"), event.SSCC("003000100000000022")
	u := func(s string) event.Key { return event.SGTIN("00300010123455", s) }
	in := ShipmentInput{
		Shipment:  master.Shipment{ID: "SH1", Client: "acme", Destination: "0399999999991", Containers: []event.Key{c2, c1}},
		Site:      master.Site{ID: "site", GLN: "0300011111215"},
		Units:     []unit.State{{Key: c1}, {Key: c2}, {Key: u("A"), Parent: c1}, {Key: u("B"), Parent: c1}, {Key: u("C"), Parent: c2}},
		PrefixLen: func(string) int { return 6 }, SSCCPrefixLen: 6, At: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC),
	}
	doc := ShipmentDocument(in)
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []epcis.Format{epcis.FormatJSONLD, epcis.FormatXML12} {
		b, err := epcis.Encode(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := epcis.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
		a, err := ASNFromEPCIS(back, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		want := []master.ASNItem{{Key: c1}, {Key: u("A"), Parent: c1}, {Key: u("B"), Parent: c1}, {Key: c2}, {Key: u("C"), Parent: c2}}
		if a.ID != "SH1" || !reflect.DeepEqual(a.Items, want) {
			t.Fatalf("%s: read back %+v", f, a)
		}
	}
}

func FuzzKeyFromEPC(f *testing.F) {
	for _, s := range []string{"urn:epc:id:sgtin:030001.0012345.SN1", "urn:epc:id:sscc:030001.00000000001",
		"https://id.gs1.org/01/00300010123455/21/SN1", "urn:epc:id:sgtin:0300010.112345.A%2FB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := KeyFromEPC(s)
		if err != nil {
			return
		}
		if err := k.Validate(); err != nil {
			t.Fatalf("KeyFromEPC(%q) gave invalid key %q: %v", s, k, err)
		}
		// A key renders and reads back to itself.
		for n := 6; n <= 12; n++ {
			if back, err := KeyFromEPC(EPC(k, n)); err != nil || back != k {
				t.Fatalf("%q → %q → %s → %q, %v", s, k, EPC(k, n), back, err)
			}
		}
	})
}

// The document says when packing and shipping happened, from the
// events' own times, and is the same whenever it is asked for.
func TestShipmentDocumentCarriesTheEventTimes(t *testing.T) {
	c1 := event.SSCC("003000100000000015")
	packed := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	shipped := time.Date(2026, 4, 1, 11, 5, 0, 0, time.UTC)
	in := ShipmentInput{
		Shipment:  master.Shipment{ID: "SH1", Client: "acme", Containers: []event.Key{c1}},
		Site:      master.Site{ID: "site", GLN: "0300011111215"},
		Units:     []unit.State{{Key: c1}, {Key: event.SGTIN("00300010123455", "A"), Parent: c1}},
		PrefixLen: func(string) int { return 6 }, SSCCPrefixLen: 6,
		Packed: map[event.Key]time.Time{c1: packed}, Shipped: shipped,
	}
	var docs [][]byte
	for _, asked := range []time.Time{time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC), time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)} {
		in.At = asked
		doc := ShipmentDocument(in)
		if !doc.Events[0].EventTime.Equal(packed) || !doc.Events[1].EventTime.Equal(shipped) || !doc.CreationDate.Equal(shipped) {
			t.Fatalf("times: packing %v, shipping %v, created %v", doc.Events[0].EventTime, doc.Events[1].EventTime, doc.CreationDate)
		}
		b, err := epcis.Encode(doc, epcis.FormatJSONLD)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	if string(docs[0]) != string(docs[1]) {
		t.Fatal("the document changed between two requests")
	}
}
