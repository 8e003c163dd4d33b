package epcis

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// docWith wraps events (JSON text) in a minimal valid EPCISDocument.
func docWith(events ...string) []byte {
	return []byte(`{"@context":["` + StandardContext + `",{"acme":"https://acme.example/"}],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[` + strings.Join(events, ",") + `]}}`)
}

const okObject = `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","bizStep":"shipping","disposition":"in_transit"}`

func TestValidateJSONProblems(t *testing.T) {
	type want struct{ path, reason string }
	cases := []struct {
		name  string
		event string
		want  []want
	}{
		{"wrong action", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"MOVE"}`,
			[]want{{"epcisBody.eventList[1].action", "not ADD, OBSERVE or DELETE"}}},
		{"missing action", `{"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","parentID":"urn:epc:id:sscc:030001.41234567890","childEPCs":["urn:epc:id:sgtin:030001.0012345.1"]}`,
			[]want{{"epcisBody.eventList[1].action", "missing action"}}},
		{"unknown bare bizStep", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","bizStep":"teleporting"}`,
			[]want{{"epcisBody.eventList[1].bizStep", `unknown bizStep "teleporting"`}}},
		{"unknown CBV URN disposition", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","disposition":"urn:epcglobal:cbv:disp:vaporised"}`,
			[]want{{"epcisBody.eventList[1].disposition", `unknown CBV disposition "vaporised"`}}},
		{"unknown CBV web disposition", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","disposition":"https://ref.gs1.org/cbv/Disp-vaporised"}`,
			[]want{{"epcisBody.eventList[1].disposition", `unknown CBV disposition "vaporised"`}}},
		{"bad offset", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+1:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTimeZoneOffset", "not ±hh:mm"}}},
		{"offset out of range", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+14:30","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTimeZoneOffset", "not ±hh:mm"}}},
		{"missing offset and time", `{"type":"ObjectEvent","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTime", "missing eventTime"}, {"epcisBody.eventList[1].eventTimeZoneOffset", "missing eventTimeZoneOffset"}}},
		{"unparsable time", `{"type":"ObjectEvent","eventTime":"2026-02-30T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTime", "not an RFC 3339 date-time"}}},
		{"time without zone", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTime", "not an RFC 3339 date-time"}}},
		{"ObjectEvent ADD without EPCs", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","action":"ADD","bizStep":"commissioning"}`,
			[]want{{"epcisBody.eventList[1].epcList", "ObjectEvent ADD needs an epcList or quantityList"}}},
		{"ObjectEvent ILMD with OBSERVE", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","ilmd":{"cbvmda:lotNumber":"A1"}}`,
			[]want{{"epcisBody.eventList[1].ilmd", "only allowed with action ADD"}}},
		{"AggregationEvent ADD without parentID", `{"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","childEPCs":["urn:epc:id:sgtin:030001.0012345.1"],"action":"ADD"}`,
			[]want{{"epcisBody.eventList[1].parentID", "AggregationEvent ADD needs a parentID"}}},
		{"AggregationEvent without children", `{"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","parentID":"urn:epc:id:sscc:030001.41234567890","action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].childEPCs", "needs childEPCs or childQuantityList"}}},
		{"TransactionEvent without bizTransaction", `{"type":"TransactionEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"ADD"}`,
			[]want{{"epcisBody.eventList[1].bizTransactionList", "at least one bizTransaction"}}},
		{"TransformationEvent with action", `{"type":"TransformationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","inputEPCList":["urn:epc:id:sgtin:030001.0012345.1"],"outputEPCList":["urn:epc:id:sgtin:030001.0012345.2"],"action":"ADD"}`,
			[]want{{"epcisBody.eventList[1].action", "TransformationEvent has no action"}}},
		{"TransformationEvent without outputs", `{"type":"TransformationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","inputEPCList":["urn:epc:id:sgtin:030001.0012345.1"]}`,
			[]want{{"epcisBody.eventList[1].inputEPCList", "needs inputs and outputs"}}},
		{"AssociationEvent without parent", `{"type":"AssociationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","childEPCs":["urn:epc:id:giai:030001.T1"],"action":"ADD"}`,
			[]want{{"epcisBody.eventList[1].parentID", "AssociationEvent needs a parentID"}}},
		{"field of another type", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"parentID":"urn:epc:id:sscc:030001.41234567890","action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].parentID", "ObjectEvent has no parentID"}}},
		{"bad sgtin", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.12345.1","urn:epc:id:sgtin:030001.0012345.a b"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[0]", "13 digits together"}, {"epcisBody.eventList[1].epcList[1]", "outside the GS1 character set"}}},
		{"bad digital link check digit", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["https://id.gs1.org/01/00300010123454/21/1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[0]", "wrong check digit"}}},
		{"class digital link in epcList", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["https://id.gs1.org/01/00300010123455/10/LOT1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[0]", "names a class"}}},
		{"qualifiers out of order", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["https://id.gs1.org/01/00300010123455/21/S1/10/L1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[0]", "out of order"}}},
		{"not a URI", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["SN12345"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[0]", "not a URI"}}},
		{"duplicate EPC", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1","urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].epcList[1]", "duplicate EPC"}}},
		{"bad quantity element", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","quantityList":[{"epcClass":"urn:epc:id:sgtin:030001.0012345.1","quantity":1,"uom":"kilo"}],"action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].quantityList[0].epcClass", "where a class is expected"}, {"epcisBody.eventList[1].quantityList[0].uom", "UN/CEFACT"}}},
		{"source without type", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","sourceList":[{"source":"urn:epc:id:sgln:030001.111111.0"}],"destinationList":[{"type":"buyer","destination":"urn:epc:id:sgln:030001.111111.0"}]}`,
			[]want{{"epcisBody.eventList[1].sourceList[0].type", "missing source type"}, {"epcisBody.eventList[1].destinationList[0].type", `unknown source/destination type "buyer"`}}},
		{"unknown btt", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","bizTransactionList":[{"type":"urn:epcglobal:cbv:btt:receipt","bizTransaction":"urn:epcglobal:cbv:bt:0300011111215:1"}]}`,
			[]want{{"epcisBody.eventList[1].bizTransactionList[0].type", "unknown CBV bizTransaction type"}}},
		{"error declaration without time", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","errorDeclaration":{"reason":"typo"}}`,
			[]want{{"epcisBody.eventList[1].errorDeclaration.declarationTime", "missing declarationTime"}, {"epcisBody.eventList[1].errorDeclaration.reason", `unknown error reason "typo"`}}},
		{"persistent disposition unknown", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","persistentDisposition":{"set":["glowing"]}}`,
			[]want{{"epcisBody.eventList[1].persistentDisposition.set[0]", `unknown disposition "glowing"`}}},
		{"empty persistent set", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","persistentDisposition":{"set":[],"unset":["completeness_inferred"]}}`,
			[]want{{"epcisBody.eventList[1].persistentDisposition.set", "empty set list"}}},
		{"empty ilmd with OBSERVE", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","ilmd":{}}`,
			[]want{{"epcisBody.eventList[1].ilmd", "only allowed with action ADD"}}},
		{"empty list of another type", `{"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","parentID":"urn:epc:id:sscc:030001.41234567890","epcList":[],"action":"DELETE"}`,
			[]want{{"epcisBody.eventList[1].epcList", "AggregationEvent has no epcList"}}},
		{"unknown field in readPoint", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","readPoint":{"id":"urn:epc:id:sgln:030001.111111.0","floor":"2","acme:dock":"7"}}`,
			[]want{{"epcisBody.eventList[1].readPoint.floor", "unknown field"}}},
		{"unprefixed extension", `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":["urn:epc:id:sgtin:030001.0012345.1"],"action":"OBSERVE","colour":"red"}`,
			[]want{{"epcisBody.eventList[1].colour", "unknown field"}}},
		{"unknown event type", `{"type":"QuantityEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00"}`,
			[]want{{"epcisBody.eventList[1].type", "unsupported event type"}}},
		{"wrong JSON types", `{"type":"ObjectEvent","eventTime":12,"eventTimeZoneOffset":"+01:00","epcList":"urn:epc:id:sgtin:030001.0012345.1","action":"OBSERVE"}`,
			[]want{{"epcisBody.eventList[1].eventTime", "want a date-time string"}, {"epcisBody.eventList[1].epcList", "want an array"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := DecodeJSON(docWith(okObject, tc.event))
			if doc == nil {
				t.Fatalf("no document returned with the error %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err is %T, want *ValidationError", err)
			}
			if len(ve.Problems) != len(tc.want) {
				t.Errorf("problems = %v, want %d", ve.Problems, len(tc.want))
			}
			for i, w := range tc.want {
				if i >= len(ve.Problems) {
					break
				}
				p := ve.Problems[i]
				if p.Path != w.path || !strings.Contains(p.Reason, w.reason) {
					t.Errorf("problem %d = %q: %q, want %q: …%s…", i, p.Path, p.Reason, w.path, w.reason)
				}
			}
		})
	}
}

func TestValidAlternatives(t *testing.T) {
	// Extension URIs of other namespaces are accepted for vocabularies.
	for _, ev := range []string{
		okObject,
		`{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00.123456789+05:30","eventTimeZoneOffset":"+05:30","epcList":[],"quantityList":[{"epcClass":"urn:epc:idpat:sgtin:030001.0012345.*","quantity":3}],"action":"OBSERVE","bizStep":"https://acme.example/bizstep/weighing","disposition":"urn:acme:disp:quarantined"}`,
		`{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"-13:59","epcList":["urn:uuid:7e1c0c6a-4f2b-4d8e-9f00-1a2b3c4d5e6f"],"action":"DELETE","bizStep":"cbv:BizStep-destroying"}`,
		`{"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+14:00","parentID":"https://id.gs1.org/00/003000141234567899","action":"DELETE"}`,
		`{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":["https://example.com/resolver/01/00300010123455/22/V1/10/L%2F1/21/S1?17=280331"],"action":"OBSERVE","acme:note":{"@lang":"en","@value":"ok"}}`,
	} {
		if _, err := DecodeJSON(docWith(ev)); err != nil {
			t.Errorf("%s: %v", ev, err)
		}
	}
}

func TestValidateXMLPaths(t *testing.T) {
	in := `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>
<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:030001.0012345.1</epc></epcList><action>OBSERVE</action></ObjectEvent>
<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>0100</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:030001.0012345.1</epc><epc>urn:epc:id:sgtin:30001.0012345.2</epc></epcList><action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:juggling</bizStep></ObjectEvent>
<AggregationEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset><childEPCs><epc>urn:epc:id:sgtin:030001.0012345.1</epc></childEPCs><action>ADD</action></AggregationEvent>
</EventList></EPCISBody></epcis:EPCISDocument>`
	_, err := DecodeXML([]byte(in))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := []Problem{
		{"EPCISBody/EventList/ObjectEvent[2]/eventTimeZoneOffset", ""},
		{"EPCISBody/EventList/ObjectEvent[2]/bizStep", `unknown CBV bizStep "juggling"`},
		{"EPCISBody/EventList/ObjectEvent[2]/epcList/epc[2]", "company prefix must be 6 to 12 digits"},
		{"EPCISBody/EventList/AggregationEvent[1]/parentID", "AggregationEvent ADD needs a parentID"},
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("problems %v, want %v", ve.Problems, want)
	}
	for i, w := range want {
		if ve.Problems[i].Path != w.Path || !strings.Contains(ve.Problems[i].Reason, w.Reason) {
			t.Errorf("problem %d = %v, want %v", i, ve.Problems[i], w)
		}
	}
	if !strings.Contains(err.Error(), "EPCISBody/EventList/AggregationEvent[1]/parentID") {
		t.Errorf("Error() does not list every problem: %s", err)
	}
}

func TestValidateDocumentLevel(t *testing.T) {
	_, err := DecodeJSON([]byte(`{"@context":"` + StandardContext + `","type":"EPCISDocument","schemaVersion":"2.0","epcisBody":{"eventList":[]}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Path != "creationDate" {
		t.Errorf("missing creationDate: %v", err)
	}
	_, err = DecodeJSON([]byte(`{"@context":"` + StandardContext + `","type":"EPCISTable","creationDate":"2026-01-01T00:00:00Z"}`))
	if !errors.As(err, &ve) || ve.Problems[0].Path != "type" {
		t.Errorf("bad document type: %v", err)
	}
	_, err = DecodeJSON([]byte(`{"@context":"` + StandardContext + `","type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","owner":"me",
		"epcisHeader":{"epcisMasterData":{"vocabularyList":[{"type":"urn:epcglobal:epcis:vtype:Location","vocabularyElementList":[{"id":"warehouse 1","attributes":[{"id":"name","attribute":"W1"}]}]}]}},
		"epcisBody":{"eventList":[]}}`))
	if !errors.As(err, &ve) {
		t.Fatalf("master data: %v", err)
	}
	got := fmt.Sprint(ve.Problems)
	for _, want := range []string{
		"epcisHeader.epcisMasterData.vocabularyList[0].vocabularyElementList[0].id: vocabulary element id \"warehouse 1\" is not a URI",
		"epcisHeader.epcisMasterData.vocabularyList[0].vocabularyElementList[0].attributes[0].id: attribute id \"name\" is not a URI",
		"owner: unknown field",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %s lack %s", got, want)
		}
	}
}
