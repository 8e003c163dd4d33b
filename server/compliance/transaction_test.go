package compliance

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/refdata"
	"github.com/custodyhq/custody/shared/unit"
)

// tiShipment is a shipment a 3PL site sends on behalf of its client.
func tiShipment(sendsTI bool) ShipmentInput {
	c1 := event.SSCC("003000100000000015")
	u := func(s string) event.Key { return event.SGTIN("00300010123455", s) }
	return ShipmentInput{
		Shipment: master.Shipment{ID: "SH1", Client: "acme", Destination: "0399999999991", Orders: []string{"PO-9"}, Containers: []event.Key{c1}},
		Site:     master.Site{ID: "site", GLN: "0300011111215", SSCCPrefix: "030001"},
		Owner:    master.Client{ID: "acme", Name: "Acme Pharma", GLN: "0300010000008", CompanyPrefix: "0300010", SendsTI: sendsTI},
		Products: map[string]master.Product{"00300010123455": {GTIN: "00300010123455", Client: "acme", Name: "Epcistra", NDC: "0001-0123-45",
			Form: "PILL", Strength: "100mg", PackSize: 500, CompanyPrefixLen: 7}},
		Units:     []unit.State{{Key: c1}, {Key: u("A"), Parent: c1, Lot: "A123", Expiry: "280300"}, {Key: u("B"), Parent: c1, Lot: "A123", Expiry: "280300"}},
		PrefixLen: func(string) int { return 7 }, SSCCPrefixLen: 6,
		Shipped: time.Date(2026, 4, 1, 11, 0, 0, 0, time.UTC), At: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC),
	}
}

// dscsaShape is what the GS1 US guideline puts where: the fields a
// conformance check compares between our document and the guideline's
// example.
type dscsaShape struct {
	guideline, affirmed bool
	sbdh                bool // sender, receiver, instance identifier
	classAttrs          []string
	sources, dests      []string
	bizTx               []string
	dropShipment        bool
}

func shapeOf(doc *epcis.Document) dscsaShape {
	var s dscsaShape
	if h := doc.Header; h != nil {
		_, s.guideline = epcis.LookupField(h.Extensions, epcis.NSGS1USHC, "guidelineVersion")
		if ts, ok := epcis.LookupField(h.Extensions, epcis.NSGS1USHC, "dscsaTransactionStatement"); ok {
			a, ok := ts.Value.Lookup(epcis.NSGS1USHC, "affirmTransactionStatement")
			s.affirmed = ok && a.Value.Text == "true"
		}
		for _, v := range h.MasterData {
			if v.Type != "urn:epcglobal:epcis:vtype:EPCClass" {
				continue
			}
			for _, el := range v.Elements {
				for _, a := range el.Attributes {
					if !slices.Contains(s.classAttrs, a.ID) {
						s.classAttrs = append(s.classAttrs, a.ID)
					}
				}
			}
		}
	}
	s.sbdh = doc.Sender != "" && doc.Receiver != "" && doc.InstanceIdentifier != ""
	for _, e := range doc.Events {
		if e.BizStep != "shipping" {
			continue
		}
		for _, x := range e.Sources {
			s.sources = append(s.sources, x.Type)
		}
		for _, x := range e.Destinations {
			s.dests = append(s.dests, x.Type)
		}
		for _, b := range e.BizTransactions {
			s.bizTx = append(s.bizTx, b.Type)
		}
		_, s.dropShipment = epcis.LookupField(e.Extensions, epcis.NSGS1USHC, "dropShipment")
	}
	slices.Sort(s.sources)
	slices.Sort(s.dests)
	slices.Sort(s.bizTx)
	return s
}

// The shipment's document carries the transaction information and
// statement where the GS1 US guideline's example has them, in 1.2 XML
// and 2.0 JSON-LD.
func TestTransactionInfoMatchesTheGuidelineExample(t *testing.T) {
	path := refdata.Require(t, "epcis", "epcis12-xml", "GS1_US_Pharma_Example_2_2_1_1.xml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	example, _, err := epcis.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := shapeOf(example)
	if !want.guideline || !want.affirmed || !want.sbdh || !want.dropShipment {
		t.Fatalf("the example's shape %+v", want)
	}
	doc := ShipmentDocument(tiShipment(true))
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []epcis.Format{epcis.FormatXML12, epcis.FormatJSONLD} {
		enc, err := epcis.Encode(doc, f)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := epcis.Decode(enc)
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, enc)
		}
		got := shapeOf(back)
		if got.guideline != want.guideline || got.affirmed != want.affirmed || got.sbdh != want.sbdh || got.dropShipment != want.dropShipment ||
			!slices.Equal(got.sources, want.sources) || !slices.Equal(got.dests, want.dests) || !slices.Equal(got.bizTx, want.bizTx) {
			t.Errorf("%s: shape %+v, the example's %+v", f, got, want)
		}
		for _, a := range want.classAttrs {
			if !slices.Contains(got.classAttrs, a) {
				t.Errorf("%s: master data lacks %s", f, a)
			}
		}
		if !slices.Contains(got.classAttrs, "urn:epcglobal:cbv:mda#itemExpirationDate") || !strings.Contains(string(enc), "2028-03-31") {
			t.Errorf("%s: the lot's expiry is not in the master data", f)
		}
		if !strings.Contains(string(enc), "urn:epc:id:sgln:0300010.00000.0") {
			t.Errorf("%s: the seller (the owning client) is not named", f)
		}
	}
	// A client the site does not send for: no transaction information.
	if plain := shapeOf(ShipmentDocument(tiShipment(false))); plain.guideline || plain.sbdh {
		t.Errorf("without sending on the client's behalf: %+v", plain)
	}
}

func TestExpiryDate(t *testing.T) {
	for in, want := range map[string]string{"280331": "2028-03-31", "280300": "2028-03-31", "280200": "2028-02-29", "270200": "2027-02-28", "2803": "", "28033x": ""} {
		if got := expiryDate(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
