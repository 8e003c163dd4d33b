package epcis

import (
	"strings"
	"testing"
)

func TestCheckID(t *testing.T) {
	cases := []struct {
		id   string
		kind idKind
		want string // "" = accepted, else a fragment of the reason
	}{
		{"urn:epc:id:sgtin:0614141.107346.2018", idInstance, ""},
		{"urn:epc:id:sgtin:030001.0012345.SN%2F1", idInstance, ""},
		{"urn:epc:id:sgtin:030001.0012345.%2", idInstance, "truncated"},
		{"urn:epc:id:sgtin:030001.0012345.%23", idInstance, "bad %-escape"},
		{"urn:epc:id:sgtin:030001.0012345.123456789012345678901", idInstance, "longer than 20"},
		{"urn:epc:id:sgtin:030001.0012345", idInstance, "want CompanyPrefix.ItemReference.Serial"},
		{"urn:epc:id:sgtin:03000A.0012345.1", idInstance, "company prefix must be 6 to 12 digits"},
		{"urn:epc:id:sgtin:030001.0012345.a/b", idInstance, "outside the GS1 character set"},
		{"urn:epc:id:sscc:0614141.1234567890", idInstance, ""},
		{"urn:epc:id:sscc:0614141.123456789", idInstance, "17 digits together"},
		{"urn:epc:id:sgln:0614141.07346.1234", idAny, ""},
		{"urn:epc:id:sgln:952005385.011.ts4711", idAny, ""},
		{"urn:epc:id:sgln:0614141.07346", idAny, "want CompanyPrefix.LocationReference.Extension"},
		{"urn:epc:id:pgln:4012345.00225", idAny, ""},
		{"urn:epc:id:grai:4012345.55555.987", idInstance, ""},
		{"urn:epc:id:giai:4000001.111", idInstance, ""},
		{"urn:epc:id:giai:4000001.1234567890123456789012345", idInstance, "longer than 23"},
		{"urn:epc:id:gsrn:0614141.0000010253", idAny, ""},
		{"urn:epc:id:gdti:0614141.00001.1618034", idAny, ""},
		{"urn:epc:id:bogus:1.2", idInstance, "unknown EPC scheme"},
		{"urn:epc:class:lgtin:4012345.012345.998877", idClass, ""},
		{"urn:epc:idpat:sgtin:4012345.066666.*", idClass, ""},
		{"urn:epc:idpat:sgtin:4012345.066666.1", idClass, "want CompanyPrefix.ItemReference.*"},
		{"urn:epc:class:lgtin:4012345.012345.998877", idInstance, "where an instance EPC is expected"},
		{"urn:epc:id:sgtin:0614141.107346.2018", idClass, "where a class is expected"},
		{"urn:epc:raw:12", idInstance, "unknown EPC URN form"},
		{"https://id.gs1.org/01/70614141123451/21/2017", idInstance, ""},
		{"https://id.gs1.org/01/70614141123451/21/2017", idClass, "names an instance"},
		{"https://id.gs1.org/01/04012345987652", idClass, ""},
		{"https://id.gs1.org/01/04012345987652", idInstance, "names a class"},
		{"https://id.gs1.org/01/04012345123456/10/998877", idClass, ""},
		{"https://id.gs1.org/01/4012345123456/21/X", idInstance, ""},
		{"https://id.gs1.org/01/0401234512345/21/X", idInstance, "wrong check digit"},
		{"https://id.gs1.org/01/040123451234567/21/X", idInstance, "8, 12, 13 or 14 digits"},
		{"https://id.gs1.org/01/04012345123456/21/" + strings.Repeat("x", 21), idInstance, "longer than 20"},
		{"https://id.gs1.org/01/04012345123456/21/a%20b", idInstance, "outside the GS1 character set"},
		{"https://id.gs1.org/01/04012345123456/21", idInstance, "odd number"},
		{"https://id.gs1.org/00/106141411234567897", idInstance, ""},
		{"https://id.gs1.org/414/4012345000054", idAny, ""},
		{"https://id.gs1.org/414/4012345000055", idAny, "wrong check digit"},
		{"https://id.gs1.org/8004/4000001111", idInstance, ""},
		{"https://example.com/po/12345678", idInstance, ""},
		{"https://example.com/a b", idInstance, "malformed URI"},
		{"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", idInstance, ""},
		{"no-scheme", idInstance, "not a URI"},
		{"", idInstance, "empty identifier"},
	}
	for _, tc := range cases {
		got := checkID(tc.id, tc.kind)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("checkID(%q, %d) = %q, want …%s…", tc.id, tc.kind, got, tc.want)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	for s, want := range map[string]bool{
		"70614141123451":     true,
		"70614141123452":     false,
		"106141411234567897": true,
		"4012345000054":      true,
		"1":                  false,
		"0401234512345x":     false,
	} {
		if got := checkDigitOK(s); got != want {
			t.Errorf("checkDigitOK(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for s, ok := range map[string]bool{
		"2005-04-03T20:33:31.116000-06:00": true,
		"2005-07-11T11:30:47.0Z":           true,
		"2024-02-29T00:00:00Z":             true,
		"2023-02-29T00:00:00Z":             false,
		"2023-01-01T24:00:00Z":             false,
		"2023-01-01T00:00:00":              false,
		"2023-01-01T00:00:00+0100":         false,
		"2023-01-01T00:00:00.Z":            false,
		"2023-01-01 00:00:00Z":             false,
	} {
		tm, got := parseTime(s)
		if got != ok {
			t.Errorf("parseTime(%q) ok = %v, want %v", s, got, ok)
		}
		if got && tm.IsZero() {
			t.Errorf("parseTime(%q) zero", s)
		}
	}
	tm, _ := parseTime("2005-04-03T20:33:31.116000-06:00")
	if tm.UTC().Format("2006-01-02T15:04:05.000Z07:00") != "2005-04-04T02:33:31.116Z" {
		t.Errorf("parsed %v", tm.UTC())
	}
}
