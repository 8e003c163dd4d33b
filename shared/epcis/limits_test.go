package epcis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// xmlDoc wraps events in a 1.2 document.
func xmlDoc(events string) []byte {
	return []byte(`<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>` +
		events + `</EventList></EPCISBody></epcis:EPCISDocument>`)
}

// jsonDoc wraps events in a 2.0 document.
func jsonDoc(events string) []byte {
	return []byte(`{"@context":"` + StandardContext + `","type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[` +
		events + `]}}`)
}

const okJSONEvent = `{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:0614141.107346.2017"]}`

func TestLimitsStopTheDecoder(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	deepXML := strings.Repeat("<x:a>", 40) + strings.Repeat("</x:a>", 40)
	deepJSON := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	for _, tc := range []struct {
		name string
		lim  Limits
		ctx  context.Context
		data []byte
		want string
	}{
		{"bytes", Limits{MaxBytes: 100}, nil, xmlDoc(""), "bytes, at most 100"},
		{"xml events", Limits{MaxEvents: 10}, nil, xmlDoc(strings.Repeat("<ObjectEvent/>", 11)), "more than 10 events"},
		{"xml events in extension wrappers", Limits{MaxEvents: 2}, nil,
			xmlDoc("<ObjectEvent/><extension><TransformationEvent/><extension><AssociationEvent/></extension></extension>"), "more than 2 events"},
		{"json events", Limits{MaxEvents: 10}, nil, jsonDoc(strings.Repeat(okJSONEvent+",", 10) + okJSONEvent), "more than 10 events"},
		{"xml depth", Limits{MaxDepth: 30}, nil,
			xmlDoc(`<ObjectEvent><x:b xmlns:x="urn:x">` + deepXML + `</x:b></ObjectEvent>`), "nested more than 30 deep"},
		{"json depth of an extension", Limits{MaxDepth: 30}, nil,
			jsonDoc(`{"type":"ObjectEvent","x:y":` + deepJSON + `}`), "nested more than 30 deep"},
		{"json depth of a skipped value", Limits{MaxDepth: 30}, nil,
			jsonDoc(`{"type":"ObjectEvent","eventTime":` + deepJSON + `}`), "nested more than 30 deep"},
		{"xml nodes", Limits{MaxNodes: 50}, nil, xmlDoc(strings.Repeat(`<ObjectEvent><action>ADD</action></ObjectEvent>`, 30)), "more than 50 XML elements"},
		{"json nodes", Limits{MaxNodes: 50}, nil, jsonDoc(strings.Repeat(okJSONEvent+",", 10) + okJSONEvent), "more than 50 JSON values"},
		{"xml time", Limits{}, canceled, xmlDoc(strings.Repeat("<ObjectEvent/>", 2*timeCheckEvery)), "not read within the time allowed"},
		{"json time", Limits{}, canceled, jsonDoc(strings.Repeat(okJSONEvent+",", timeCheckEvery) + okJSONEvent), "not read within the time allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			doc, _, err := tc.lim.Decode(ctx, tc.data)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrTooLarge saying %q", err, tc.want)
			}
			if doc != nil {
				t.Error("a document came back with ErrTooLarge")
			}
			if tc.ctx != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("err %v does not wrap the context's cause", err)
			}
		})
	}
}

func TestLimitsLetWhatFitsThrough(t *testing.T) {
	lim := Limits{MaxEvents: 11, MaxDepth: 30, MaxNodes: 10_000}
	if _, _, err := lim.Decode(context.Background(), jsonDoc(strings.Repeat(okJSONEvent+",", 10)+okJSONEvent)); err != nil {
		t.Fatalf("json at the limits: %v", err)
	}
	x, err := EncodeXML(dscsaDocument(11))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := lim.Decode(context.Background(), x); err != nil {
		t.Fatalf("xml at the limits: %v", err)
	}
}

// A document with a problem in every event lists the first problems and
// counts all of them; the message stays short.
func TestProblemListIsCapped(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name string
		data []byte
		path string
	}{
		// Each empty event lacks eventTime, eventTimeZoneOffset, action
		// and an epcList: four problems.
		{"xml", xmlDoc(strings.Repeat("<ObjectEvent/>", n)), "EPCISBody/EventList/ObjectEvent[1000]/epcList"},
		{"json", jsonDoc(strings.Repeat(`{"type":"ObjectEvent"},`, n-1) + `{"type":"ObjectEvent"}`), "epcisBody.eventList[999].epcList"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(tc.data)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err %v", err)
			}
			if len(ve.Problems) != DefaultMaxProblems || ve.Total != 4*n {
				t.Fatalf("%d problems listed, %d in all; want %d and %d", len(ve.Problems), ve.Total, DefaultMaxProblems, 4*n)
			}
			if msg := err.Error(); len(msg) > 20_000 || !strings.Contains(msg, "and "+strconv.Itoa(4*n-DefaultMaxProblems)+" more") {
				t.Errorf("message of %d bytes: %.300s…", len(msg), msg)
			}
			// The last event's problem is counted, with the path it would
			// have: the limited validator sees the whole document.
			var all *ValidationError
			_, _, err = Limits{MaxProblems: 4 * n}.Decode(context.Background(), tc.data)
			if !errors.As(err, &all) || len(all.Problems) != 4*n || all.Problems[4*n-1].Path != tc.path {
				t.Fatalf("uncapped: %d problems, last %v", len(all.Problems), all.Problems[len(all.Problems)-1])
			}
		})
	}
}

// A value the decoder already reported (a time it could not read) is not
// counted again by the validator (as missing), listed or not.
func TestProblemCountBeyondTheCapHasNoDuplicates(t *testing.T) {
	const n = 150
	bad := strings.Replace(okJSONEvent, `"eventTime":"2026-01-01T00:00:00Z"`, `"eventTime":"yesterday"`, 1)
	_, err := DecodeJSON(jsonDoc(strings.Repeat(bad+",", n-1) + bad))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Total != n || len(ve.Problems) != DefaultMaxProblems {
		t.Fatalf("err %v", err)
	}
}

func TestJSONLDNeedsContext(t *testing.T) {
	_, err := DecodeJSON([]byte(`{"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[` + okJSONEvent + `]}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != "@context" {
		t.Fatalf("err %v, want one problem at @context", err)
	}
	if _, err := DecodeJSON(jsonDoc(okJSONEvent)); err != nil {
		t.Fatalf("with @context: %v", err)
	}
}
