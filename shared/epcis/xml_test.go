package epcis

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeXMLFixture(t *testing.T) {
	doc, err := DecodeXML(readFixture(t, "valid/dscsa-shipment.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Sender != "urn:epc:id:sgln:030001.111111.0" || doc.Receiver != "urn:epc:id:sgln:039999.999999.0" || doc.InstanceIdentifier != "CUST-0002" {
		t.Errorf("SBDH fields: %q %q %q", doc.Sender, doc.Receiver, doc.InstanceIdentifier)
	}
	if _, ok := LookupField(doc.Header.Extensions, NSSBDH, "StandardBusinessDocumentHeader"); !ok {
		t.Error("SBDH not kept in the header")
	}
	if len(doc.Header.MasterData) != 2 {
		t.Fatalf("master data: %+v", doc.Header.MasterData)
	}
	prod := doc.Header.MasterData[0].Elements[0]
	if prod.ID != "urn:epc:idpat:sgtin:030001.0012345.*" || len(prod.Attributes) != 5 ||
		prod.Attributes[0].ID != "urn:epcglobal:cbv:mda#additionalTradeItemIdentification" || prod.Attributes[0].Value.Text != "0001-0123-45" {
		t.Errorf("product master data: %+v", prod)
	}
	ts, ok := LookupField(doc.Header.Extensions, NSGS1USHC, "dscsaTransactionStatement")
	if !ok {
		t.Fatal("transaction statement lost")
	}
	if a, ok := ts.Value.Lookup(NSGS1USHC, "affirmTransactionStatement"); !ok || a.Value.Text != "true" {
		t.Errorf("affirmTransactionStatement: %+v", ts)
	}
	if len(doc.Events) != 5 {
		t.Fatalf("%d events, want 5", len(doc.Events))
	}
	e0 := doc.Events[0]
	if e0.BizStep != "commissioning" || e0.Disposition != "active" || e0.Action != ActionAdd {
		t.Errorf("event 0: %q %q %q", e0.BizStep, e0.Disposition, e0.Action)
	}
	if lot, ok := LookupField(e0.ILMD, NSCBVMDA, "lotNumber"); !ok || lot.Value.Text != "A123" {
		t.Errorf("ILMD: %+v", e0.ILMD)
	}
	ship := doc.Events[2]
	if ship.EventID != "urn:uuid:4b7a3d22-1c55-4c1e-9d0a-0a5f6e2b0003" {
		t.Errorf("eventID from baseExtension: %q", ship.EventID)
	}
	if len(ship.Sources) != 1 || ship.Sources[0].Type != "owning_party" || len(ship.Destinations) != 1 {
		t.Errorf("source/destination: %+v %+v", ship.Sources, ship.Destinations)
	}
	if d, ok := LookupField(ship.Extensions, NSGS1USHC, "dropShipment"); !ok || d.Value.Text != "false" {
		t.Errorf("dropShipment: %+v", ship.Extensions)
	}
	if doc.Events[4].Type != TransformationEvent || doc.Events[4].InputEPCList[0] != "urn:epc:id:sgtin:030001.0012345.77" {
		t.Errorf("transformation: %+v", doc.Events[4])
	}
}

func TestXMLRoundTrip(t *testing.T) {
	in := readFixture(t, "valid/dscsa-shipment.xml")
	doc, err := DecodeXML(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := EncodeXML(doc)
	if err != nil {
		t.Fatal(err)
	}
	doc2, err := DecodeXML(out)
	if err != nil {
		t.Fatalf("re-decode: %v\n%s", err, out)
	}
	sameEvents(t, "xml round trip", doc.Events, doc2.Events)
	if !reflect.DeepEqual(doc.Header, doc2.Header) {
		t.Errorf("header differs:\n%+v\n%+v", doc.Header, doc2.Header)
	}
	s := string(out)
	for _, want := range []string{
		"<bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>",
		`<bizTransaction type="urn:epcglobal:cbv:btt:po">`,
		`<source type="urn:epcglobal:cbv:sdt:owning_party">`,
		"<cbvmda:lotNumber>A123</cbvmda:lotNumber>",
		`<sbdh:Identifier Authority="GS1">urn:epc:id:sgln:030001.111111.0</sbdh:Identifier>`,
		`<attribute id="urn:epcglobal:cbv:mda#dosageFormType">TABLET</attribute>`,
		"<gs1ushc:affirmTransactionStatement>true</gs1ushc:affirmTransactionStatement>",
		"<gs1ushc:dropShipment>false</gs1ushc:dropShipment>",
		`xmlns:cbvmda="urn:epcglobal:cbv:mda"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("XML lacks %s", want)
		}
	}
	out2, err := EncodeXML(doc2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Errorf("encoding not stable")
	}
}

// TestConvertXMLToJSONToXML converts 1.2 → 2.0 → 1.2 and compares the
// event models and the header at each step.
func TestConvertXMLToJSONToXML(t *testing.T) {
	doc, err := DecodeXML(readFixture(t, "valid/dscsa-shipment.xml"))
	if err != nil {
		t.Fatal(err)
	}
	checkConversion(t, doc)
}

func checkConversion(t *testing.T, doc *Document) {
	t.Helper()
	j, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	viaJSON, err := DecodeJSON(j)
	if err != nil {
		t.Fatalf("decode 2.0: %v\n%s", err, j)
	}
	sameEvents(t, "1.2 -> 2.0", doc.Events, viaJSON.Events)
	if !reflect.DeepEqual(doc.Header, viaJSON.Header) {
		t.Errorf("1.2 -> 2.0 header differs:\n%+v\n%+v", doc.Header, viaJSON.Header)
	}
	x, err := EncodeXML(viaJSON)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeXML(x)
	if err != nil {
		t.Fatalf("decode 1.2: %v\n%s", err, x)
	}
	sameEvents(t, "1.2 -> 2.0 -> 1.2", doc.Events, back.Events)
	if !reflect.DeepEqual(doc.Header, back.Header) {
		t.Errorf("1.2 -> 2.0 -> 1.2 header differs:\n%+v\n%+v", doc.Header, back.Header)
	}
	if back.Sender != doc.Sender || back.Receiver != doc.Receiver || back.InstanceIdentifier != doc.InstanceIdentifier || !back.CreationDate.Equal(doc.CreationDate) {
		t.Errorf("document fields differ after conversion")
	}
}

func TestEncodeXMLSynthesisesSBDH(t *testing.T) {
	doc, err := DecodeJSON(readFixture(t, "valid/dscsa-all-types.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := EncodeXML(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeXML(x)
	if err != nil {
		t.Fatalf("%v\n%s", err, x)
	}
	if back.Sender != doc.Sender || back.Receiver != doc.Receiver || back.InstanceIdentifier != doc.InstanceIdentifier {
		t.Errorf("pseudo-SBDH lost: %q %q %q", back.Sender, back.Receiver, back.InstanceIdentifier)
	}
	// Event fields survive 2.0 → 1.2 → 2.0, except that XML has no
	// number or boolean kinds: sensor values keep theirs, others become
	// strings.
	sameEvents(t, "2.0 -> 1.2", doc.Events, back.Events)
}

func TestDecodeXMLErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{``, ErrSyntax},
		{`<a>`, ErrSyntax},
		{`<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1"></epcis:EPCISDoc>`, ErrSyntax},
		{`<x:EPCISDocument></x:EPCISDocument>`, ErrSyntax},
		{`<Other/>`, ErrSyntax},
		{`<EPCISDocument/><EPCISDocument/>`, ErrSyntax},
		{`<EPCISDocument creationDate="2020-01-01T00:00:00Z"><EPCISBody><EventList><ObjectEvent><eventTime>x</eventTime></ObjectEvent></EventList></EPCISBody></EPCISDocument>`, ErrInvalid},
	} {
		_, err := DecodeXML([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodeXML(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestDeepExtensions(t *testing.T) {
	// 100 levels of repeated elements: XML accepts it, JSON-LD carries it.
	var open, close strings.Builder
	for i := 0; i < 100; i++ {
		open.WriteString(`<x:a><x:b>1</x:b><x:b>2</x:b>`)
		close.WriteString(`</x:a>`)
	}
	in := `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:x="urn:x" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList><ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:030001.0012345.1</epc></epcList><action>OBSERVE</action>` +
		open.String() + close.String() + `</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>`
	doc, err := DecodeXML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	j, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "deep 1.2 -> 2.0", doc.Events, back.Events)
	if _, err := EncodeXML(back); err != nil {
		t.Fatal(err)
	}
	// Deeper than XML can hold: refused with ErrUnsupported, not cut.
	deep := strings.Repeat(`{"x:a":`, 150) + `"v"` + strings.Repeat(`}`, 150)
	d2, err := DecodeJSON(docWith(`{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","acme:deep":` + deep + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeXML(d2); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("EncodeXML of 150 levels = %v, want ErrUnsupported", err)
	}
}
