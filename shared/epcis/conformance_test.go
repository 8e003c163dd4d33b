package epcis

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custodyhq/custody/shared/refdata"
)

// knownDefects lists problems in the reference files themselves: the
// decoder must report exactly these and nothing else.
var knownDefects = map[string][]Problem{
	// AI (8003) GRAI 0 3912345000771 8765: the check digit of
	// 391234500077 is 5, not 1.
	"All_eventTypes_in_single_document.xml": {{
		Path:   "EPCISBody/EventList/ObjectEvent[1]/epcList/epc[1]",
		Reason: `bad GS1 Digital Link "https://id.example.com/8003/039123450007718765": AI (8003) has a wrong check digit`,
	}},
}

// refDocs walks the reference EPCIS directory and returns every document
// (JSON-LD, JSON except the schema, XML).
func refDocs(t *testing.T) []string {
	t.Helper()
	dir := refdata.Require(t, "epcis")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".jsonld", ".xml":
			files = append(files, p)
		case ".json":
			if !strings.Contains(strings.ToLower(filepath.Base(p)), "schema") {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no documents under %s", dir)
	}
	return files
}

// TestConformanceDecodeEveryReferenceFile decodes every reference
// document, checks it validates (or shows exactly its known defect), and
// that it survives a round trip in its own format.
func TestConformanceDecodeEveryReferenceFile(t *testing.T) {
	for _, p := range refDocs(t) {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			doc, f, err := Decode(data)
			if doc == nil {
				t.Fatalf("decode: %v", err)
			}
			if len(doc.Events) == 0 {
				t.Errorf("no events decoded")
			}
			want := knownDefects[name]
			if want == nil {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
			} else {
				var ve *ValidationError
				if !errors.As(err, &ve) || fmt.Sprint(ve.Problems) != fmt.Sprint(want) {
					t.Fatalf("problems = %v, want exactly %v", err, want)
				}
			}
			var out []byte
			var back *Document
			if f == FormatJSONLD {
				out, err = AppendJSON(nil, doc)
				if err == nil {
					back, err = DecodeJSON(out)
				}
			} else {
				out, err = AppendXML(nil, doc)
				if err == nil {
					back, err = DecodeXML(out)
				}
			}
			if back == nil {
				t.Fatalf("round trip: %v\n%s", err, out)
			}
			sameEvents(t, "round trip", doc.Events, back.Events)
		})
	}
}

// TestConformanceXML12To20To12 converts each reference 1.2 XML document
// to 2.0 JSON-LD and back, and compares the event models.
func TestConformanceXML12To20To12(t *testing.T) {
	n := 0
	for _, p := range refDocs(t) {
		if filepath.Ext(p) != ".xml" {
			continue
		}
		n++
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := DecodeXML(data)
			if doc == nil {
				t.Fatal(err)
			}
			j, err := AppendJSON(nil, doc)
			if err != nil {
				t.Fatal(err)
			}
			viaJSON, err := DecodeJSON(j)
			if viaJSON == nil {
				t.Fatalf("%v\n%s", err, j)
			}
			sameEvents(t, "1.2 -> 2.0", doc.Events, viaJSON.Events)
			x, err := AppendXML(nil, viaJSON)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeXML(x)
			if back == nil {
				t.Fatalf("%v\n%s", err, x)
			}
			sameEvents(t, "1.2 -> 2.0 -> 1.2", doc.Events, back.Events)
			if fmt.Sprintf("%+v", doc.Header) != fmt.Sprintf("%+v", back.Header) {
				t.Errorf("header differs after 1.2 -> 2.0 -> 1.2")
			}
		})
	}
	if n == 0 {
		t.Fatal("no XML reference documents")
	}
}

// TestConformancePharmaExtensions checks that the GS1 US healthcare
// example keeps its SBDH, master data, ILMD and extensions through
// 1.2 → 1.2 and 1.2 → 2.0 → 1.2.
func TestConformancePharmaExtensions(t *testing.T) {
	p := refdata.Require(t, "epcis", "epcis12-xml", "GS1_US_Pharma_Example_2_2_1_1.xml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := DecodeXML(data)
	if err != nil {
		t.Fatal(err)
	}
	j, err := EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	viaJSON, err := DecodeJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	x, err := EncodeXML(viaJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<sbdh:InstanceIdentifier>1100220001</sbdh:InstanceIdentifier>`,
		`<attribute id="urn:epcglobal:cbv:mda#additionalTradeItemIdentificationTypeCode">US_FDA_NDC</attribute>`,
		`<attribute id="urn:epcglobal:cbv:mda#dosageFormType">PILL</attribute>`,
		`<attribute id="urn:epcglobal:cbv:mda#postalCode">10003-1502</attribute>`,
		`<cbvmda:lotNumber>A123</cbvmda:lotNumber>`,
		`<cbvmda:itemExpirationDate>2025-03-27</cbvmda:itemExpirationDate>`,
		`<gs1ushc:guidelineVersion>GS1 US DSCSA R1.3</gs1ushc:guidelineVersion>`,
		`<gs1ushc:legalNotice>Seller has complied with each applicable subsection of FDCA Sec. 581(27)(A)-(G).</gs1ushc:legalNotice>`,
		`<gs1ushc:dropShipment>false</gs1ushc:dropShipment>`,
		`<destination type="urn:epcglobal:cbv:sdt:location">urn:epc:id:sgln:039999.345678.0</destination>`,
	} {
		if !bytes.Contains(x, []byte(want)) {
			t.Errorf("1.2 -> 2.0 -> 1.2 output lacks %s", want)
		}
	}
	if doc.InstanceIdentifier != "1100220001" || doc.Sender != "urn:epc:id:sgln:030001.111111.0" {
		t.Errorf("SBDH fields: %q %q", doc.InstanceIdentifier, doc.Sender)
	}
}

// schemaRegexp implements the ECMA-262 subset the GS1 schema uses: Go
// regexp plus a leading negative lookahead "^(?!(...))".
type schemaRegexp struct {
	src    string
	re     *regexp.Regexp
	negate bool
}

func (r schemaRegexp) String() string { return r.src }

func (r schemaRegexp) MatchString(s string) bool { return r.re.MatchString(s) != r.negate }

func compileSchemaRegexp(s string) (jsonschema.Regexp, error) {
	if inner, ok := strings.CutPrefix(s, "^(?!"); ok && strings.HasSuffix(inner, ")") {
		re, err := regexp.Compile("^" + strings.TrimSuffix(inner, ")"))
		if err != nil {
			return nil, err
		}
		return schemaRegexp{src: s, re: re, negate: true}, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, err
	}
	return schemaRegexp{src: s, re: re}, nil
}

// offlineLoader refuses every URL: the schema must be self-contained.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("remote schema %s not loaded: no network access in tests", url)
}

func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p := refdata.Find("epcis", "EPCIS-JSON-Schema.json")
	if p == "" {
		t.Skip("EPCIS-JSON-Schema.json not present beside the checkout")
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	c.UseRegexpEngine(compileSchemaRegexp)
	c.AssertFormat()
	const id = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func schemaCheck(t *testing.T, sch *jsonschema.Schema, out []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("encoded JSON does not parse: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("encoded document fails the GS1 schema: %v\n%s", err, out)
	}
}

// TestSchemaEncodedDocuments validates what the encoder writes against
// GS1's EPCIS 2.0 JSON schema: our fixtures, the benchmark document, and
// every reference JSON-LD document re-encoded.
func TestSchemaEncodedDocuments(t *testing.T) {
	sch := loadSchema(t)
	check := func(name string, doc *Document) {
		t.Run(name, func(t *testing.T) {
			out, err := EncodeJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			schemaCheck(t, sch, out)
		})
	}
	for _, name := range []string{"valid/dscsa-all-types.jsonld", "valid/query.jsonld"} {
		doc, err := DecodeJSON(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		check(name, doc)
	}
	xdoc, err := DecodeXML(readFixture(t, "valid/dscsa-shipment.xml"))
	if err != nil {
		t.Fatal(err)
	}
	check("valid/dscsa-shipment.xml", xdoc)
	check("benchmark", dscsaDocument(20))
	if dir := refdata.Find("epcis"); dir != "" {
		for _, p := range refDocs(t) {
			if filepath.Ext(p) == ".xml" {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := DecodeJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			check(filepath.Base(p), doc)
		}
	}
}

// TestSchemaAcceptsReferenceExamples makes sure the schema harness itself
// works: GS1's own examples pass it, and a broken document does not.
func TestSchemaAcceptsReferenceExamples(t *testing.T) {
	sch := loadSchema(t)
	for _, p := range refDocs(t) {
		if filepath.Ext(p) == ".xml" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Logf("%s: reference example fails the schema: %v", filepath.Base(p), err)
		}
	}
	bad := docWith(`{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00","epcList":[],"action":"MOVE","bizStep":"urn:epcglobal:cbv:bizstep:shipping"}`)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err == nil {
		t.Error("schema accepts action MOVE and a CBV URN bizStep")
	}
}
