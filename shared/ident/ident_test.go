package ident

import (
	"errors"
	"testing"

	"github.com/custodyhq/custody/shared/gs1"
)

func TestParseKeys(t *testing.T) {
	gtins := []struct {
		in, want string
		err      error
	}{
		{"00300010123455", "00300010123455", nil},
		{"4006381333931", "04006381333931", nil},  // GTIN-13
		{"036000291452", "00036000291452", nil},   // GTIN-12 (UPC-A)
		{"96385074", "00000096385074", nil},       // GTIN-8
		{"10300010123452", "10300010123452", nil}, // case, indicator 1
		{"00300010123456", "", ErrCheckDigit},
		{"0030001012345", "", ErrCheckDigit}, // 13 digits, not a valid GTIN-13
		{"003000101235", "", ErrCheckDigit},
		{"0030001012345X", "", ErrDigits},
		{"123", "", ErrLength},
		{"", "", ErrLength},
		{"003000101234555", "", ErrLength},
	}
	for _, tt := range gtins {
		g, err := ParseGTIN(tt.in)
		if !errors.Is(err, tt.err) || string(g) != tt.want {
			t.Errorf("ParseGTIN(%q) = %q, %v; want %q, %v", tt.in, g, err, tt.want, tt.err)
		}
	}
	g, _ := ParseGTIN("96385074")
	if s, err := g.Short(8); err != nil || s != "96385074" {
		t.Errorf("Short(8) = %q, %v", s, err)
	}
	if s, err := g.Short(13); err != nil || s != "0000096385074" {
		t.Errorf("Short(13) = %q, %v", s, err)
	}
	if _, err := GTIN("10300010123452").Short(13); !errors.Is(err, ErrLength) {
		t.Errorf("case GTIN fits 13 digits: %v", err)
	}
	if _, err := g.Short(10); !errors.Is(err, ErrLength) {
		t.Errorf("GTIN-10 accepted: %v", err)
	}
	if GTIN("10300010123452").Indicator() != '1' {
		t.Error("indicator")
	}

	if s, err := ParseSSCC("106141412345678908"); err != nil || s.String() != "106141412345678908" {
		t.Errorf("ParseSSCC = %q, %v", s, err)
	}
	for in, want := range map[string]error{"106141412345678909": ErrCheckDigit, "10614141234567890": ErrLength, "10614141234567890A": ErrDigits} {
		if _, err := ParseSSCC(in); !errors.Is(err, want) {
			t.Errorf("ParseSSCC(%q) = %v, want %v", in, err, want)
		}
	}
	if gl, err := ParseGLN("0614141123452"); err != nil || gl.String() != "0614141123452" {
		t.Errorf("ParseGLN = %q, %v", gl, err)
	}
	for in, want := range map[string]error{"0614141123453": ErrCheckDigit, "614141123452": ErrLength} {
		if _, err := ParseGLN(in); !errors.Is(err, want) {
			t.Errorf("ParseGLN(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestNDC(t *testing.T) {
	tests := []struct {
		in     string
		digits string
		form   NDCForm
		str    string
		ndc11  string
		gtin0  string
	}{
		{"0001-0123-45", "0001012345", NDC442, "0001-0123-45", "00001-0123-45", "00300010123455"},
		{"12345-678-90", "1234567890", NDC532, "12345-678-90", "12345-0678-90", "00312345678906"},
		{"12345-6789-0", "1234567890", NDC541, "12345-6789-0", "12345-6789-00", "00312345678906"},
		{"0001012345", "0001012345", NDCUnknown, "0001012345", "", "00300010123455"},
	}
	for _, tt := range tests {
		n, err := ParseNDC(tt.in)
		if err != nil {
			t.Fatalf("ParseNDC(%q): %v", tt.in, err)
		}
		if n.Digits() != tt.digits || n.Form() != tt.form || n.String() != tt.str {
			t.Errorf("ParseNDC(%q) = %q %v %q", tt.in, n.Digits(), n.Form(), n.String())
		}
		n11, err := n.NDC11()
		if tt.ndc11 == "" {
			if !errors.Is(err, ErrNDC) {
				t.Errorf("NDC11 of form-less NDC: %q, %v", n11, err)
			}
		} else {
			if err != nil || n11 != tt.ndc11 {
				t.Errorf("NDC11(%q) = %q, %v; want %q", tt.in, n11, err, tt.ndc11)
			}
			back, err := ParseNDC11(n11, tt.form)
			if err != nil || back != n {
				t.Errorf("ParseNDC11(%q, %v) = %v, %v; want %v", n11, tt.form, back, err, n)
			}
		}
		g, err := n.GTIN('0')
		if err != nil || string(g) != tt.gtin0 {
			t.Errorf("GTIN('0') of %q = %q, %v; want %q", tt.in, g, err, tt.gtin0)
		}
		if _, err := ParseGTIN(string(g)); err != nil {
			t.Errorf("GTIN %s invalid: %v", g, err)
		}
		back, err := NDCFromGTIN(g)
		if err != nil || back.Digits() != tt.digits || back.Form() != NDCUnknown {
			t.Errorf("NDCFromGTIN(%s) = %v, %v", g, back, err)
		}
		cs, err := n.GTIN('5')
		if err != nil || cs[0] != '5' || cs[1:13] != g[1:13] {
			t.Errorf("case GTIN = %q, %v", cs, err)
		}
		if _, err := ParseGTIN(string(cs)); err != nil {
			t.Errorf("case GTIN %s invalid: %v", cs, err)
		}
	}
	for _, bad := range []string{"", "123456789", "12345678901", "1234-567-890", "123-4567-890", "12a4-5678-90", "1-2-3-4", "12345--67890"} {
		if _, err := ParseNDC(bad); !errors.Is(err, ErrNDC) {
			t.Errorf("ParseNDC(%q) = %v, want ErrNDC", bad, err)
		}
	}
	n, _ := ParseNDC("0001-0123-45")
	if _, err := n.GTIN('9'); !errors.Is(err, ErrIndicator) {
		t.Errorf("indicator 9 accepted: %v", err)
	}
	if _, err := (NDC{}).GTIN('0'); !errors.Is(err, ErrNDC) {
		t.Errorf("empty NDC gave a GTIN: %v", err)
	}
	if _, err := NDCFromGTIN("04006381333931"); !errors.Is(err, ErrNotNDC) {
		t.Errorf("non-US GTIN gave an NDC: %v", err)
	}
	if _, err := ParseNDC11("12345-1678-90", NDC532); !errors.Is(err, ErrNDC) {
		t.Errorf("bad padding accepted: %v", err)
	}
	if _, err := ParseNDC11("12345-0678-90", NDCUnknown); !errors.Is(err, ErrNDC) {
		t.Errorf("unknown form accepted: %v", err)
	}
	if n, err := NewNDC("1234567890", NDC541); err != nil || n.String() != "12345-6789-0" {
		t.Errorf("NewNDC = %v, %v", n, err)
	}
	if _, err := NewNDC("123456789", NDC541); !errors.Is(err, ErrNDC) {
		t.Errorf("NewNDC(9 digits) = %v", err)
	}
}

func TestEPCURIs(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		make func() (string, error)
		els  []gs1.Element
		dl   string
	}{
		{"sgtin", "urn:epc:id:sgtin:0614141.812345.6789",
			func() (string, error) { return SGTINURI("80614141123458", "6789", 7) },
			[]gs1.Element{{AI: "01", Value: "80614141123458"}, {AI: "21", Value: "6789"}},
			"https://id.gs1.org/01/80614141123458/21/6789"},
		{"sgtin with NDC GTIN", "urn:epc:id:sgtin:030001.0012345.SN1",
			func() (string, error) { return SGTINURI("00300010123455", "SN1", 6) },
			[]gs1.Element{{AI: "01", Value: "00300010123455"}, {AI: "21", Value: "SN1"}},
			"https://id.gs1.org/01/00300010123455/21/SN1"},
		{"sgtin escaped serial", `urn:epc:id:sgtin:030001.0012345.%22%25%26%2F%3C%3E%3F!'()*+,-.:;=_`,
			func() (string, error) { return SGTINURI("00300010123455", `"%&/<>?!'()*+,-.:;=_`, 6) },
			[]gs1.Element{{AI: "01", Value: "00300010123455"}, {AI: "21", Value: `"%&/<>?!'()*+,-.:;=_`}},
			"https://id.gs1.org/01/00300010123455/21/%22%25%26%2F%3C%3E%3F%21%27%28%29%2A%2B%2C-.%3A%3B%3D_"},
		{"sgtin 12-digit prefix", "urn:epc:id:sgtin:030001012345.0.S",
			func() (string, error) { return SGTINURI("00300010123455", "S", 12) },
			[]gs1.Element{{AI: "01", Value: "00300010123455"}, {AI: "21", Value: "S"}},
			"https://id.gs1.org/01/00300010123455/21/S"},
		{"lgtin", "urn:epc:class:lgtin:4012345.012345.998877",
			func() (string, error) { return LGTINURI("04012345123456", "998877", 7) },
			[]gs1.Element{{AI: "01", Value: "04012345123456"}, {AI: "10", Value: "998877"}},
			"https://id.gs1.org/01/04012345123456/10/998877"},
		{"sscc", "urn:epc:id:sscc:0614141.1234567890",
			func() (string, error) { return SSCCURI("106141412345678908", 7) },
			[]gs1.Element{{AI: "00", Value: "106141412345678908"}},
			"https://id.gs1.org/00/106141412345678908"},
		{"sgln with extension", "urn:epc:id:sgln:0614141.12345.400",
			func() (string, error) { return SGLNURI("0614141123452", "400", 7) },
			[]gs1.Element{{AI: "414", Value: "0614141123452"}, {AI: "254", Value: "400"}},
			"https://id.gs1.org/414/0614141123452/254/400"},
		{"sgln without extension", "urn:epc:id:sgln:0614141.12345.0",
			func() (string, error) { return SGLNURI("0614141123452", "", 7) },
			[]gs1.Element{{AI: "414", Value: "0614141123452"}},
			"https://id.gs1.org/414/0614141123452"},
		{"sgln 12-digit prefix", "urn:epc:id:sgln:061414112345..0",
			func() (string, error) { return SGLNURI("0614141123452", "", 12) },
			[]gs1.Element{{AI: "414", Value: "0614141123452"}},
			"https://id.gs1.org/414/0614141123452"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.make()
			if err != nil || got != tt.uri {
				t.Fatalf("render = %q, %v; want %q", got, err, tt.uri)
			}
			e, err := ParseEPCURI(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			els := e.Elements()
			want := tt.els
			if len(els) != len(want) {
				t.Fatalf("elements = %v, want %v", els, want)
			}
			for i := range want {
				if els[i] != want[i] {
					t.Errorf("element %d = %v, want %v", i, els[i], want[i])
				}
			}
			again, err := e.URI()
			if err != nil || again != tt.uri {
				t.Errorf("URI() = %q, %v", again, err)
			}
			dl, err := DigitalLinkFromEPC(tt.uri, "")
			if err != nil || dl != tt.dl {
				t.Errorf("DigitalLinkFromEPC = %q, %v; want %q", dl, err, tt.dl)
			}
			back, err := EPCFromDigitalLink(tt.dl, e.PrefixLen)
			if err != nil || back != tt.uri {
				t.Errorf("EPCFromDigitalLink = %q, %v; want %q", back, err, tt.uri)
			}
		})
	}
}

func TestEPCErrors(t *testing.T) {
	renders := []struct {
		name string
		fn   func() (string, error)
		want error
	}{
		{"prefix too short", func() (string, error) { return SGTINURI("00300010123455", "S", 5) }, ErrPrefixLength},
		{"prefix too long", func() (string, error) { return SSCCURI("106141412345678908", 13) }, ErrPrefixLength},
		{"bad gtin", func() (string, error) { return SGTINURI("00300010123456", "S", 7) }, ErrCheckDigit},
		{"serial too long", func() (string, error) { return SGTINURI("00300010123455", "123456789012345678901", 7) }, ErrSerial},
		{"serial with space", func() (string, error) { return SGTINURI("00300010123455", "A B", 7) }, ErrSerial},
		{"empty lot", func() (string, error) { return LGTINURI("00300010123455", "", 7) }, ErrSerial},
		{"bad sscc", func() (string, error) { return SSCCURI("106141412345678909", 7) }, ErrCheckDigit},
		{"bad gln", func() (string, error) { return SGLNURI("0614141123453", "", 7) }, ErrCheckDigit},
		{"bad extension", func() (string, error) { return SGLNURI("0614141123452", "a#", 7) }, ErrSerial},
		{"dl without serial or lot", func() (string, error) { return EPCFromDigitalLink("https://id.gs1.org/01/00300010123455", 7) }, ErrEPC},
		{"dl invalid", func() (string, error) { return EPCFromDigitalLink("https://id.gs1.org/01/00300010123456", 7) }, gs1.ErrCheckDigit},
		{"epc invalid", func() (string, error) { return DigitalLinkFromEPC("urn:epc:id:giai:0614141.1", "") }, ErrEPC},
		{"no key", func() (string, error) {
			return EPCFromData(gs1.Data{Elements: []gs1.Element{{AI: "400", Value: "X"}}}, 7)
		}, ErrEPC},
	}
	for _, tt := range renders {
		if got, err := tt.fn(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %q, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	for _, uri := range []string{
		"", "urn:epc:id:sgtin", "urn:epc:id:sgtin:", "urn:epc:id:sgtin:0614141.812345", "urn:epc:id:sgtin:0614141.81234.6789",
		"urn:epc:id:sgtin:061414.1812345.", "urn:epc:id:sgtin:06141a1.812345.1", "urn:epc:id:sgtin:0614141.812345.a/b",
		"urn:epc:id:sgtin:0614141.812345.a%2", "urn:epc:id:sgtin:0614141.812345.a%zz", "urn:epc:id:sgtin:0614141.812345.a%20b",
		"urn:epc:id:sgtin:0614141.812345.123456789012345678901", "urn:epc:id:sscc:0614141.123456789", "urn:epc:id:sscc:0614141.1234567890.1",
		"urn:epc:id:sgln:0614141.1234.0", "urn:epc:class:sgtin:0614141.812345.1", "urn:epc:id:giai:0614141.1", "urn:epc:id:sgtin:06141.8123456.1",
		"urn:epc:id:sgtin:0614141234567.8.1", "https://id.gs1.org/01/00300010123455",
	} {
		if e, err := ParseEPCURI(uri); err == nil {
			t.Errorf("ParseEPCURI(%q) = %+v, want error", uri, e)
		} else if !errors.Is(err, ErrEPC) && !errors.Is(err, ErrSerial) {
			t.Errorf("ParseEPCURI(%q) error %v wraps no sentinel", uri, err)
		}
	}
}

// FuzzParseEPCURI: no panic; accepted URIs render back to themselves up to
// percent-escape spelling, and give valid GS1 data.
func FuzzParseEPCURI(f *testing.F) {
	f.Fuzz(func(t *testing.T, uri string) {
		e, err := ParseEPCURI(uri)
		if err != nil {
			return
		}
		out, err := e.URI()
		if err != nil {
			t.Fatalf("%q parsed to %+v but does not render: %v", uri, e, err)
		}
		e2, err := ParseEPCURI(out)
		if err != nil || e2 != e {
			t.Fatalf("%q -> %q -> %+v, %v; want %+v", uri, out, e2, err, e)
		}
		if err := gs1.Validate(e.Elements()); err != nil {
			t.Fatalf("%q gives invalid GS1 data: %v", uri, err)
		}
	})
}
