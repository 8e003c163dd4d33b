package epcis

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeJSONFixture(t *testing.T) {
	doc, err := DecodeJSON(readFixture(t, "valid/dscsa-all-types.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) != 7 {
		t.Fatalf("%d events, want 7", len(doc.Events))
	}
	wantTypes := []EventType{ObjectEvent, AggregationEvent, ObjectEvent, TransactionEvent, TransformationEvent, AssociationEvent, ObjectEvent}
	for i, e := range doc.Events {
		if e.Type != wantTypes[i] {
			t.Errorf("event %d type %v, want %v", i, e.Type, wantTypes[i])
		}
	}
	e0 := doc.Events[0]
	// CBV values in URN and Web URI form are normalised to the bare word.
	if e0.BizStep != "commissioning" || e0.Disposition != "active" {
		t.Errorf("bizStep/disposition = %q/%q, want commissioning/active", e0.BizStep, e0.Disposition)
	}
	if want := time.Date(2026, 3, 27, 6, 45, 16, 250e6, time.UTC); !e0.EventTime.Equal(want) {
		t.Errorf("eventTime %v, want %v", e0.EventTime, want)
	}
	if got := e0.EPCList; len(got) != 2 || got[0] != "urn:epc:id:sgtin:030001.0012345.SN%2F1" || got[1] != "https://id.gs1.org/01/00300010123455/21/SN2" {
		t.Errorf("epcList %q", got)
	}
	lot, ok := LookupField(e0.ILMD, NSCBVMDA, "lotNumber")
	if !ok || lot.Value.Text != "A123" || lot.Prefix != "cbvmda" {
		t.Errorf("ILMD lotNumber = %+v, %v", lot, ok)
	}
	exp, ok := LookupField(e0.ILMD, NSCBVMDA, "itemExpirationDate")
	if !ok || exp.Value.Text != "2028-03-31" {
		t.Errorf("ILMD itemExpirationDate = %+v", exp)
	}
	ship := doc.Events[2]
	if len(ship.BizTransactions) != 2 || ship.BizTransactions[1].Type != "desadv" {
		t.Errorf("bizTransactions %+v", ship.BizTransactions)
	}
	if len(ship.Sources) != 2 || ship.Sources[1] != (SourceDest{Type: "location", ID: "urn:epc:id:sgln:030001.111121.0"}) {
		t.Errorf("sources %+v", ship.Sources)
	}
	drop, ok := LookupField(ship.Extensions, NSGS1USHC, "dropShipment")
	if !ok || drop.Value.Text != "false" {
		t.Errorf("gs1ushc:dropShipment lost: %+v", ship.Extensions)
	}
	h, ok := LookupField(ship.Extensions, "https://acme.example/epcis/", "handling")
	if !ok || h.Value.Kind != KindObject || len(h.Value.Fields) != 2 || h.Value.Fields[1].Value.Kind != KindArray {
		t.Errorf("nested extension lost: %+v", h)
	}
	tr := doc.Events[4]
	if tr.PersistentDisposition == nil || tr.PersistentDisposition.Set[0] != "completeness_verified" || tr.PersistentDisposition.Unset[0] != "completeness_inferred" {
		t.Errorf("persistentDisposition %+v", tr.PersistentDisposition)
	}
	if tr.InputQuantityList[0].Quantity != "2.5" || tr.InputQuantityList[0].UOM != "KGM" {
		t.Errorf("quantity %+v", tr.InputQuantityList[0])
	}
	as := doc.Events[5]
	if as.ErrorDeclaration == nil || as.ErrorDeclaration.Reason != "incorrect_data" || len(as.ErrorDeclaration.CorrectiveEventIDs) != 1 {
		t.Errorf("errorDeclaration %+v", as.ErrorDeclaration)
	}
	if doc.Sender != "urn:epc:id:sgln:030001.111111.0" || doc.InstanceIdentifier != "CUST-0001" {
		t.Errorf("pseudo SBDH %q %q", doc.Sender, doc.InstanceIdentifier)
	}
	if doc.Header == nil || len(doc.Header.MasterData) != 1 || len(doc.Header.MasterData[0].Elements[0].Attributes) != 3 {
		t.Fatalf("master data %+v", doc.Header)
	}
	if v, ok := LookupField(doc.Header.Extensions, NSGS1USHC, "guidelineVersion"); !ok || v.Value.Text != "GS1 US DSCSA R1.3" {
		t.Errorf("header extension lost: %+v", doc.Header.Extensions)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, name := range []string{"valid/dscsa-all-types.jsonld", "valid/query.jsonld"} {
		t.Run(name, func(t *testing.T) {
			doc, err := DecodeJSON(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			out, err := EncodeJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			doc2, err := DecodeJSON(out)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, out)
			}
			sameEvents(t, "json round trip", doc.Events, doc2.Events)
			if !reflect.DeepEqual(doc.Header, doc2.Header) {
				t.Errorf("header differs:\n%+v\n%+v", doc.Header, doc2.Header)
			}
			if doc2.Type != doc.Type || doc2.QueryName != doc.QueryName || doc2.SubscriptionID != doc.SubscriptionID {
				t.Errorf("document fields differ: %+v vs %+v", doc2, doc)
			}
			out2, err := EncodeJSON(doc2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, out2) {
				t.Errorf("encoding not stable:\n%s\n%s", out, out2)
			}
		})
	}
}

func TestEncodeJSONRendersBareVocabulary(t *testing.T) {
	doc, err := DecodeXML(readFixture(t, "valid/dscsa-shipment.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`"bizStep":"commissioning"`, `"disposition":"in_transit"`, `"type":"po"`, `"type":"owning_party"`, `"cbvmda:lotNumber":"A123"`, `"gs1ushc":"http://epcis.gs1us.org/hc/ns#"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON-LD lacks %s", want)
		}
	}
	if strings.Contains(s, "urn:epcglobal:cbv:bizstep") || strings.Contains(s, "urn:epcglobal:cbv:disp") {
		t.Errorf("JSON-LD carries CBV URNs:\n%s", s)
	}
}

func TestDecodeJSONSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{"type":"EPCISDocument",}`,
		`{"type":"EPCISDocument"`,
		`{"type":"EPCISDocument"} x`,
		`{"type":"EPCIS\qDocument"}`,
		`{"epcisBody":{"eventList":[{"quantityList":[{"quantity":01}]}]}}`,
	} {
		_, err := DecodeJSON([]byte(in))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("DecodeJSON(%q) = %v, want ErrSyntax", in, err)
		}
	}
}

func TestEncodeJSONRefusesInvalid(t *testing.T) {
	doc := dscsaDocument(2)
	doc.Events[1].Action = "MOVE"
	_, err := EncodeJSON(doc)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != "epcisBody.eventList[1].action" {
		t.Fatalf("EncodeJSON = %v, want one problem at epcisBody.eventList[1].action", err)
	}
}

func TestJSONStringEscaping(t *testing.T) {
	doc := dscsaDocument(1)
	weird := "quote\" back\\ nl\n tab\t ctl\x01 uni é \u2028 end"
	doc.Events[0].Extensions = []Field{{Space: "https://acme.example/", Prefix: "acme", Local: "note", Value: String(weird)}}
	out, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Events[0].Extensions[0].Value.Text; got != weird {
		t.Errorf("string round trip: %q, want %q", got, weird)
	}
}
