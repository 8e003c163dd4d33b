package epcis

import (
	"errors"
	"strings"
	"testing"
)

func TestDetectAndParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"\xef\xbb\xbf  {\"type\":1}":    FormatJSONLD,
		"\n<?xml version=\"1.0\"?><a/>": FormatXML12,
		"hello":                         FormatUnknown,
		"   ":                           FormatUnknown,
	} {
		if got := Detect([]byte(in)); got != want {
			t.Errorf("Detect(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]Format{"jsonld": FormatJSONLD, "json": FormatJSONLD, "xml12": FormatXML12, "xml": FormatXML12} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("csv"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(csv) = %v", err)
	}
	if _, _, err := Decode([]byte("hello")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Decode(hello) = %v", err)
	}
}

func TestQueryDocumentAcrossFormats(t *testing.T) {
	doc, err := DecodeJSON(readFixture(t, "valid/query.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := Encode(doc, FormatXML12)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(x), "<epcisq:EPCISQueryDocument") || !strings.Contains(string(x), "<queryName>SimpleEventQuery</queryName>") {
		t.Fatalf("query XML:\n%s", x)
	}
	back, f, err := Decode(x)
	if err != nil || f != FormatXML12 {
		t.Fatalf("%v %v", f, err)
	}
	if back.Type != TypeQueryDocument || back.QueryName != "SimpleEventQuery" || back.SubscriptionID != "sub-1" {
		t.Errorf("query fields: %+v", back)
	}
	sameEvents(t, "query 2.0 -> 1.2", doc.Events, back.Events)
}

// An XML extension in a default namespace gets a prefix in both formats,
// and clashing prefixes are renamed rather than merged.
func TestExtensionPrefixes(t *testing.T) {
	in := `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>
<ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:030001.0012345.1</epc></epcList><action>OBSERVE</action>
<note xmlns="urn:acme:a">one</note><p:note xmlns:p="urn:acme:b">two</p:note><p:note xmlns:p="urn:acme:c">three</p:note><cbv:x xmlns:cbv="urn:other">four</cbv:x></ObjectEvent>
</EventList></EPCISBody></epcis:EPCISDocument>`
	doc, err := DecodeXML([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Events[0].Extensions) != 4 {
		t.Fatalf("extensions: %+v", doc.Events[0].Extensions)
	}
	j, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	viaJSON, err := DecodeJSON(j)
	if err != nil {
		t.Fatalf("%v\n%s", err, j)
	}
	for _, want := range []struct{ space, text string }{{"urn:acme:a", "one"}, {"urn:acme:b", "two"}, {"urn:acme:c", "three"}, {"urn:other", "four"}} {
		f, ok := LookupField(viaJSON.Events[0].Extensions, want.space, "note")
		if want.space == "urn:other" {
			f, ok = LookupField(viaJSON.Events[0].Extensions, want.space, "x")
		}
		if !ok || f.Value.Text != want.text {
			t.Errorf("%s lost in JSON-LD:\n%s", want.space, j)
		}
	}
	x, err := EncodeXML(viaJSON)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeXML(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range back.Events[0].Extensions {
		o := doc.Events[0].Extensions[i]
		if f.Space != o.Space || f.Local != o.Local || f.Value.Text != o.Value.Text {
			t.Errorf("extension %d: %+v, want %+v", i, f, o)
		}
	}
}
