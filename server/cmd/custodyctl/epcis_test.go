package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/epcis"
)

const validJSONLD = `{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"gs1ushc": "http://epcis.gs1us.org/hc/ns#"}],
  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T08:45:16Z",
  "epcisBody": {"eventList": [
    {"type": "ObjectEvent", "eventTime": "2026-03-01T07:00:00Z", "eventTimeZoneOffset": "-05:00",
     "epcList": ["urn:epc:id:sgtin:030001.0012345.11"], "action": "ADD", "bizStep": "commissioning",
     "disposition": "active", "readPoint": {"id": "urn:epc:id:sgln:030001.111111.0"},
     "ilmd": {"cbvmda:lotNumber": "A123", "cbvmda:itemExpirationDate": "2028-03-31"}},
    {"type": "ObjectEvent", "eventTime": "2026-03-01T07:48:16Z", "eventTimeZoneOffset": "-05:00",
     "epcList": ["urn:epc:id:sgtin:030001.0012345.11"], "action": "OBSERVE", "bizStep": "shipping",
     "disposition": "in_transit", "gs1ushc:dropShipment": "false",
     "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0399999999991:XYZPO189"}]}
  ]}
}`

const validXML = `<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:cbvmda="urn:epcglobal:cbv:mda" schemaVersion="1.2" creationDate="2026-03-01T08:45:16Z">
  <EPCISBody><EventList>
    <AggregationEvent>
      <eventTime>2026-03-01T07:10:00Z</eventTime><eventTimeZoneOffset>-05:00</eventTimeZoneOffset>
      <parentID>urn:epc:id:sscc:030001.41234567890</parentID>
      <childEPCs><epc>urn:epc:id:sgtin:030001.0012345.11</epc></childEPCs>
      <action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:packing</bizStep>
    </AggregationEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>`

// invalidJSONLD has a wrong action, an unknown bizStep, a bad offset and
// an ObjectEvent ADD without EPCs.
const invalidJSONLD = `{
  "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T08:45:16Z",
  "epcisBody": {"eventList": [
    {"type": "ObjectEvent", "eventTime": "2026-03-01T07:00:00Z", "eventTimeZoneOffset": "+5",
     "epcList": ["urn:epc:id:sgtin:030001.0012345.11"], "action": "MOVE", "bizStep": "teleporting"},
    {"type": "ObjectEvent", "eventTime": "2026-03-01T07:00:00Z", "eventTimeZoneOffset": "+05:00", "action": "ADD"}
  ]}
}`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCtl(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEPCISValidate(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok.jsonld":  validJSONLD,
		"ok.xml":     validXML,
		"bad.jsonld": invalidJSONLD,
		"junk.txt":   "hello",
		"trunc.xml":  validXML[:200],
	})
	p := func(n string) string { return filepath.Join(dir, n) }

	code, out, _ := runCtl(t, "", "epcis", "validate", p("ok.jsonld"), p("ok.xml"))
	if code != 0 {
		t.Fatalf("valid files: exit %d\n%s", code, out)
	}
	for _, want := range []string{p("ok.jsonld") + ": OK (jsonld, EPCISDocument, 2 events)", p("ok.xml") + ": OK (xml12, EPCISDocument, 1 events)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCtl(t, "", "epcis", "validate", p("ok.jsonld"), p("bad.jsonld"), p("junk.txt"), p("trunc.xml"), p("missing.json"))
	if code != 1 {
		t.Fatalf("invalid files: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		p("ok.jsonld") + ": OK",
		p("bad.jsonld") + ": INVALID (jsonld, 4 problems)",
		"  epcisBody.eventList[0].eventTimeZoneOffset: eventTimeZoneOffset \"+5\" is not ±hh:mm",
		"  epcisBody.eventList[0].action: action \"MOVE\" is not ADD, OBSERVE or DELETE",
		"  epcisBody.eventList[0].bizStep: unknown bizStep \"teleporting\"",
		"  epcisBody.eventList[1].epcList: ObjectEvent ADD needs an epcList or quantityList",
		p("junk.txt") + ": ERROR epcis: unknown document format",
		p("trunc.xml") + ": ERROR epcis: malformed document: XML",
		p("missing.json") + ": ERROR",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	if code, _, _ := runCtl(t, "", "epcis", "validate"); code != 2 {
		t.Errorf("validate without files: exit %d, want 2", code)
	}
	if code, out, _ := runCtl(t, validXML, "epcis", "validate", "-"); code != 0 || !strings.Contains(out, "-: OK (xml12") {
		t.Errorf("validate stdin: exit %d\n%s", code, out)
	}
}

func TestEPCISConvert(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ok.jsonld": validJSONLD, "ok.xml": validXML, "bad.jsonld": invalidJSONLD})
	p := func(n string) string { return filepath.Join(dir, n) }

	code, out, errs := runCtl(t, "", "epcis", "convert", "--to", "xml12", p("ok.jsonld"))
	if code != 0 {
		t.Fatalf("convert to xml12: exit %d: %s", code, errs)
	}
	for _, want := range []string{"<bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>", "<cbvmda:lotNumber>A123</cbvmda:lotNumber>", `<bizTransaction type="urn:epcglobal:cbv:btt:po">`, "<gs1ushc:dropShipment>false</gs1ushc:dropShipment>"} {
		if !strings.Contains(out, want) {
			t.Errorf("XML lacks %s:\n%s", want, out)
		}
	}
	src, err := epcis.DecodeJSON([]byte(validJSONLD))
	if err != nil {
		t.Fatal(err)
	}
	conv, err := epcis.DecodeXML([]byte(out))
	if err != nil {
		t.Fatalf("converted XML does not decode: %v", err)
	}
	if len(conv.Events) != len(src.Events) || conv.Events[0].BizStep != "commissioning" || conv.Events[1].BizTransactions[0] != src.Events[1].BizTransactions[0] {
		t.Errorf("converted events differ: %+v", conv.Events)
	}

	code, out, errs = runCtl(t, "", "epcis", "convert", "--to=jsonld", p("ok.xml"))
	if code != 0 {
		t.Fatalf("convert to jsonld: exit %d: %s", code, errs)
	}
	back, err := epcis.DecodeJSON([]byte(out))
	if err != nil {
		t.Fatalf("converted JSON-LD does not decode: %v\n%s", err, out)
	}
	if back.Events[0].Type != epcis.AggregationEvent || back.Events[0].ParentID != "urn:epc:id:sscc:030001.41234567890" || !strings.Contains(out, `"bizStep":"packing"`) {
		t.Errorf("converted JSON-LD: %s", out)
	}

	code, out, errs = runCtl(t, "", "epcis", "convert", "--to", "jsonld", p("bad.jsonld"))
	if code != 1 || out != "" || !strings.Contains(errs, "INVALID (4 problems), not converted") {
		t.Errorf("convert invalid: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, args := range [][]string{
		{"epcis", "convert", p("ok.xml")},
		{"epcis", "convert", "--to", "csv", p("ok.xml")},
		{"epcis", "convert", "--to", "jsonld"},
		{"epcis", "frobnicate"},
		{"epcis"},
	} {
		if code, _, _ := runCtl(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestEPCISValidateListsTheFirstProblems(t *testing.T) {
	doc := `<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>` +
		strings.Repeat("<ObjectEvent/>", 200) + `</EventList></EPCISBody></epcis:EPCISDocument>`
	dir := writeFiles(t, map[string]string{"empty-events.xml": doc})
	code, out, _ := runCtl(t, "", "epcis", "validate", filepath.Join(dir, "empty-events.xml"))
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// Four problems an event: the count says 800, 100 are listed.
	if !strings.Contains(out, "INVALID (xml12, 800 problems)") || !strings.Contains(out, "... and 700 more (the first 100 are listed)") ||
		strings.Count(out, "\n  EPCISBody/") != 100 {
		t.Fatalf("output:\n%.2000s", out)
	}
}
