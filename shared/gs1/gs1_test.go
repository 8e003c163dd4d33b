package gs1

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	gtin   = "00300010123455" // check digit 5
	caseGT = "10300010123452" // indicator 1, same item reference
	sscc   = "006141411234567890"
	gs     = "\x1d"
)

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		digits string
		want   byte
	}{
		{"0030001012345", '5'},
		{"400638133393", '1'},           // EAN-13 4006381333931
		{"0950600013435", '2'},          // GTIN 09506000134352
		{"00614141123456789", '0'},      // SSCC 006141411234567890
		{"1030001012345", '2'},          // case GTIN with indicator 1
		{"541234500001", '3'},           // GLN 5412345000013
		{"0000000", '0'},                // all zeros
		{"1", '7'},                      // 1*3 = 3 -> 7
		{"12345678901234567", '5'},      // 17 digits
		{"978020137962", '4'},           // ISBN-13 9780201379624
		{"0000000000000000000001", '7'}, // long input
	}
	for _, tt := range tests {
		got, err := CheckDigit(tt.digits)
		if err != nil || got != tt.want {
			t.Errorf("CheckDigit(%q) = %q, %v; want %q", tt.digits, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12a4", " 123", "１２"} {
		if _, err := CheckDigit(bad); !errors.Is(err, ErrCharset) {
			t.Errorf("CheckDigit(%q) error = %v, want ErrCharset", bad, err)
		}
	}
}

func TestParseSymbologies(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		sym   Symbology
		els   []Element
		text  string
		isGS1 bool
	}{
		{"gs1 datamatrix", "]d201" + gtin + "21SN1", SymGS1DataMatrix, []Element{{"01", gtin}, {"21", "SN1"}}, "", true},
		{"gs1-128", "]C100" + sscc, SymGS1128, []Element{{"00", sscc}}, "", true},
		{"gs1 qr", "]Q301" + gtin + "10L1", SymGS1QR, []Element{{"01", gtin}, {"10", "L1"}}, "", true},
		{"gs1 databar", "]e001" + gtin + "17270331", SymGS1DataBar, []Element{{"01", gtin}, {"17", "270331"}}, "", true},
		{"gs1 dotcode", "]J101" + gtin, SymGS1DotCode, []Element{{"01", gtin}}, "", true},
		{"plain datamatrix keeps text", "]d1010030001012345517270331", SymDataMatrix, nil, "010030001012345517270331", false},
		{"plain qr with digital link", "]Q1https://id.gs1.org/01/" + gtin + "/21/X1", Symbology("]Q1"), []Element{{"01", gtin}, {"21", "X1"}}, "", false},
		{"plain qr text", "]Q1HELLO", SymQR, nil, "HELLO", false},
		{"ean-13", "]E04006381333931", SymEAN13, nil, "4006381333931", false},
		{"upc-a as ean-13", "]E00416000336108", SymEAN13, nil, "0416000336108", false},
		{"ean-8", "]E496385074", SymEAN8, nil, "96385074", false},
		{"ean-13 with composite", "]E04006381333931|]e090ABC", SymEAN13, []Element{{"90", "ABC"}}, "4006381333931", false},
		{"no identifier: element string", "01" + gtin + "21SN1", SymNone, []Element{{"01", gtin}, {"21", "SN1"}}, "", false},
		{"no identifier: bracketed", "(01)" + gtin + "(21)SN1", SymNone, []Element{{"01", gtin}, {"21", "SN1"}}, "", false},
		{"no identifier: digital link", "HTTPS://example.com/01/" + gtin + "/21/SN1", SymNone, []Element{{"01", gtin}, {"21", "SN1"}}, "", false},
		{"trailing GS tolerated", "]d201" + gtin + "21SN1" + gs, SymGS1DataMatrix, []Element{{"01", gtin}, {"21", "SN1"}}, "", true},
		{"GS after predefined length", "]d201" + gtin + gs + "21SN1", SymGS1DataMatrix, []Element{{"01", gtin}, {"21", "SN1"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if d.Symbology != tt.sym || !slices.Equal(d.Elements, tt.els) || d.Text != tt.text {
				t.Fatalf("Parse(%q) = %+v; want %s %q %q", tt.raw, d, tt.sym, tt.els, tt.text)
			}
			if d.Symbology.IsGS1() != tt.isGS1 {
				t.Errorf("IsGS1(%q) = %v", d.Symbology, !tt.isGS1)
			}
			strict, err := ParseWith([]byte(tt.raw), Options{RequireSymbology: true})
			if tt.sym == SymNone {
				if !errors.Is(err, ErrNoSymbology) {
					t.Errorf("strict parse error = %v, want ErrNoSymbology", err)
				}
			} else if err != nil || !slices.Equal(strict.Elements, tt.els) {
				t.Errorf("strict parse = %+v, %v", strict, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    error
		ai      string
		phrase  string
		options Options
	}{
		{"empty", "", ErrEmpty, "", "", Options{}},
		{"identifier only", "]d2", ErrEmpty, "", "", Options{}},
		{"bad identifier", "]d", ErrSymbology, "", "", Options{}},
		{"bad identifier char", "]!2010", ErrSymbology, "", "", Options{}},
		{"unsupported identifier", "]z1" + "01" + gtin, ErrSymbology, "", "unsupported symbology identifier ]z1", Options{}},
		{"plain code 128", "]C0HELLO", ErrSymbology, "", "unsupported symbology identifier ]C0", Options{RequireSymbology: true}},
		{"itf", "]I1" + gtin, ErrSymbology, "", "unsupported", Options{}},
		{"ean-13 too long", "]E040063813339310", ErrSymbology, "", "message too long", Options{}},
		{"ean-13 with text after", "]E04006381333931|]d2X", ErrSymbology, "", "message too long", Options{}},
		{"ean-13 too short", "]E0400638133393", ErrSymbology, "", "message too short", Options{}},
		{"ean-8 too long", "]E4963850741", ErrSymbology, "", "message too long", Options{}},
		{"ean-13 not digits", "]E0400638133393A", ErrCharset, "", "'A' at position 13", Options{}},
		{"ean-13 check digit", "]E04006381333932", ErrCheckDigit, "", "expected 1", Options{}},
		{"ean-13 composite needs its pairs", "]E04006381333931|]e010L1", ErrPairing, "10", "", Options{}},
		{"strict without identifier", "01" + gtin, ErrNoSymbology, "", "symbology identifier", Options{RequireSymbology: true}},
		{"gtin check digit", "]d2010030001012345621X", ErrCheckDigit, "01", "check digit is wrong (expected 5)", Options{}},
		{"sscc check digit", "]C100006141411234567891", ErrCheckDigit, "00", "expected 0", Options{}},
		{"month 13", "]d201" + gtin + "17271331", ErrBadDate, "17", "month 13 does not exist", Options{}},
		{"month 00", "]d201" + gtin + "17270031", ErrBadDate, "17", "month 0 does not exist", Options{}},
		{"30 February", "]d201" + gtin + "17270230", ErrBadDate, "17", "day 30 does not exist in February", Options{}},
		{"29 February non-leap", "]d201" + gtin + "17270229", ErrBadDate, "17", "29 February does not exist in '27", Options{}},
		{"31 April", "]d201" + gtin + "17270431", ErrBadDate, "17", "day 31 does not exist in April", Options{}},
		{"32 January", "]d201" + gtin + "17270132", ErrBadDate, "17", "day 32", Options{}},
		{"production date month", "]d201" + gtin + "11261301", ErrBadDate, "11", "month 13", Options{}},
		{"date not digits", "]d201" + gtin + "1727A331", ErrCharset, "17", "'A' at position 3", Options{}},
		{"serial too long", "]d201" + gtin + "21ABCDEFGHIJ01234567890", ErrTooLong, "21", "21 characters, at most 20", Options{}},
		{"lot too long", "]d201" + gtin + "10ABCDEFGHIJ01234567890" + gs + "21X", ErrTooLong, "10", "at most 20", Options{}},
		{"space in lot", "]d201" + gtin + "10A1 23" + gs + "21X", ErrCharset, "10", "a space at position 3", Options{}},
		{"hash in serial", "]d201" + gtin + "21SN#1", ErrCharset, "21", "'#' at position 3", Options{}},
		{"at sign in serial", "]d201" + gtin + "21SN@1", ErrCharset, "21", "character set 82", Options{}},
		{"gtin too short at end", "]d201003000101234", ErrTooShort, "01", "exactly 14", Options{}},
		{"expiry cut by GS", "]d201" + gtin + "172703" + gs + "10A", ErrTooShort, "17", "too short", Options{}},
		{"empty serial", "]d201" + gtin + "21" + gs + "10A", ErrTooShort, "21", "empty", Options{}},
		{"unknown AI", "]d201" + gtin + "23X", ErrUnknownAI, "", "after AI (01)", Options{}},
		{"unknown AI at start", "]d22345", ErrUnknownAI, "", "", Options{}},
		{"dangling digit", "]d201" + gtin + "172703311", ErrUnknownAI, "", "\"1\"", Options{}},
		{"leading GS", "]d2" + gs + "01" + gtin, ErrSeparator, "", "starts with a group separator", Options{}},
		{"double GS", "]d201" + gtin + "21A" + gs + gs + "10B", ErrSeparator, "", "second group separator", Options{}},
		{"two trailing GS", "]d201" + gtin + "21A" + gs + gs, ErrSeparator, "", "", Options{}},
		{"serial needs gtin", "]d221X" + gs + "10A", ErrPairing, "10", "needs AI (01), AI (02), AI (03), AI (8006) or AI (8026)", Options{}},
		{"serial alone", "]d221X", ErrPairing, "21", "AI (01)", Options{}},
		{"01 with 02", "]d201" + gtin + "02" + gtin, ErrPairing, "02", "cannot be in the same data as AI (01)", Options{}},
		{"net weight kg twice", "]d201" + gtin + "3101000100" + "3102000100", ErrPairing, "3101", "AI (3102)", Options{}},
		{"needs both 01 and 21", "]d201" + gtin + "8040123456789012345", ErrPairing, "8040", "AI (01) with AI (21)", Options{}},
		{"repeated AI differs", "]d201" + gtin + "21A" + gs + "21B", ErrDuplicateAI, "21", "different values", Options{}},
		{"yes/no flag", "]C100" + sscc + "43212", ErrBadValue, "4321", "0 (no) or 1 (yes)", Options{}},
		{"hour 24", "]d201" + gtin + "70032703312400", ErrBadDate, "7003", "hour 24", Options{}},
		{"minute 60", "]d201" + gtin + "70032703312360", ErrBadDate, "7003", "minute 60", Options{}},
		{"piece of total", "]d28006" + "09506000134352" + "0302", ErrBadValue, "8006", "piece 03 of 02", Options{}},
		{"gmn check characters", "]d201" + gtin + gs + "80131987654Ad4X4bL5ttr2310c2L", ErrCheckDigit, "8013", "expected 2K", Options{}},
		{"iban check", "]C1415" + "5412345000013" + "8020R1" + gs + "8007GB82WEST12345698765433", ErrCheckDigit, "8007", "IBAN", Options{}},
		{"gln check digit", "]C1414" + "5412345000014", ErrCheckDigit, "414", "expected 3", Options{}},
		{"country alpha-2", "]C100" + sscc + "4307de", ErrBadValue, "4307", "two capital letters", Options{}},
		{"percent encoding", "]C100" + sscc + "4300ACME%2", ErrBadValue, "4300", "hexadecimal", Options{}},
		{"cset 39", "]d28010ab", ErrCharset, "8010", "character set 39", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseWith([]byte(tt.raw), tt.options)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseWith(%q) = %+v, %v; want %v", tt.raw, d, err, tt.want)
			}
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T is not *Error", err)
			}
			if ge.AI != tt.ai {
				t.Errorf("error %q names AI %q, want %q", err, ge.AI, tt.ai)
			}
			if !strings.Contains(err.Error(), tt.phrase) {
				t.Errorf("error %q does not say %q", err, tt.phrase)
			}
			if tt.ai != "" && !strings.HasPrefix(err.Error(), "AI ("+tt.ai+"): ") {
				t.Errorf("error %q does not start with the AI", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		els  []Element
	}{
		{"DD=00 last day", "]d201" + gtin + "17270200", []Element{{"01", gtin}, {"17", "270200"}}},
		{"29 February leap year", "]d201" + gtin + "17280229", []Element{{"01", gtin}, {"17", "280229"}}},
		{"29 February 2000", "]d201" + gtin + "17000229", []Element{{"01", gtin}, {"17", "000229"}}},
		{"all of cset 82 in serial", "]d201" + gtin + "21!\"%&'()*+,-./:;<=>?_", []Element{{"01", gtin}, {"21", "!\"%&'()*+,-./:;<=>?_"}}},
		{"serial first", "]d201" + gtin + "21SN" + gs + "17270331" + "10A", []Element{{"01", gtin}, {"21", "SN"}, {"17", "270331"}, {"10", "A"}}},
		{"nhrn", "]d201" + gtin + "21SN" + gs + "7141234567", []Element{{"01", gtin}, {"21", "SN"}, {"714", "1234567"}}},
		{"same AI twice, same value", "]d201" + gtin + "21A" + gs + "21A", []Element{{"01", gtin}, {"21", "A"}, {"21", "A"}}},
		{"gmn", "]d201" + gtin + "80131987654Ad4X4bL5ttr2310c2K", []Element{{"01", gtin}, {"8013", "1987654Ad4X4bL5ttr2310c2K"}}},
		{"iban", "]C1415" + "5412345000013" + "8020R1" + gs + "8007GB82WEST12345698765432", []Element{{"415", "5412345000013"}, {"8020", "R1"}, {"8007", "GB82WEST12345698765432"}}},
		{"optional component absent", "]d2253" + "9506000134352", []Element{{"253", "9506000134352"}}},
		{"optional component present", "]d2253" + "9506000134352" + "ABC", []Element{{"253", "9506000134352ABC"}}},
		{"sscc with content", "]C100" + sscc + "02" + gtin + "37" + "12", []Element{{"00", sscc}, {"02", gtin}, {"37", "12"}}},
		{"base64 with padding", "]d201" + gtin + "21A" + gs + "8030AbC-_9==", []Element{{"01", gtin}, {"21", "A"}, {"8030", "AbC-_9=="}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseWith([]byte(tt.raw), Options{RequireSymbology: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Elements, tt.els) {
				t.Fatalf("elements = %q, want %q", d.Elements, tt.els)
			}
		})
	}
}

func TestDate(t *testing.T) {
	ref := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		yymmdd string
		ref    time.Time
		want   string
	}{
		{"270331", ref, "2027-03-31"},
		{"270200", ref, "2027-02-28"}, // DD=00: last day
		{"280200", ref, "2028-02-29"}, // leap year
		{"000200", ref, "2000-02-29"}, // 2000 is a leap year
		{"271200", ref, "2027-12-31"},
		{"270400", ref, "2027-04-30"},
		{"760101", ref, "2076-01-01"}, // 50 years ahead
		{"770101", ref, "1977-01-01"}, // 51 ahead -> 49 back
		{"990101", ref, "1999-01-01"},
		{"100101", time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC), "2110-01-01"}, // 50 back -> 50 ahead
		{"110101", time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC), "2011-01-01"}, // 49 back
		{"000200", time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC), "2100-02-28"}, // 2100 is not a leap year
	}
	for _, tt := range tests {
		got, err := Date(tt.yymmdd, tt.ref)
		if err != nil || got.Format(time.DateOnly) != tt.want {
			t.Errorf("Date(%q, %d) = %v, %v; want %s", tt.yymmdd, tt.ref.Year(), got, err, tt.want)
		}
	}
	for _, bad := range []string{"271301", "270229", "27033", "2703310", "27a331", "270431", "000229x"} {
		if _, err := Date(bad, ref); !errors.Is(err, ErrBadDate) {
			t.Errorf("Date(%q) error = %v, want ErrBadDate", bad, err)
		}
	}
	if _, err := Date("000229", time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrBadDate) {
		t.Errorf("29 February 2100 accepted")
	}
}

func TestEncoders(t *testing.T) {
	tests := []struct {
		name      string
		els       []Element
		elemStr   string
		bracketed string
		base      string
		dl        string
	}{
		{
			"pack",
			[]Element{{"01", gtin}, {"17", "270331"}, {"10", "A123"}, {"21", "SN12345"}},
			"01" + gtin + "17270331" + "10A123" + gs + "21SN12345",
			"(01)" + gtin + "(17)270331(10)A123(21)SN12345",
			"",
			"https://id.gs1.org/01/" + gtin + "/10/A123/21/SN12345?17=270331",
		},
		{
			"serial before lot in data, fixed order in link",
			[]Element{{"01", gtin}, {"21", "SN1"}, {"10", "L1"}, {"22", "V1"}, {"17", "270300"}},
			"01" + gtin + "21SN1" + gs + "10L1" + gs + "22V1" + gs + "17270300",
			"(01)" + gtin + "(21)SN1(10)L1(22)V1(17)270300",
			"https://example.com/stem/",
			"https://example.com/stem/01/" + gtin + "/22/V1/10/L1/21/SN1?17=270300",
		},
		{
			"percent-encoding",
			[]Element{{"01", gtin}, {"21", "!\"%&'()*+,-./:;<=>?_"}},
			"01" + gtin + "21!\"%&'()*+,-./:;<=>?_",
			"(01)" + gtin + "(21)!\"%&'\\()*+,-./:;<=>?_",
			"http://resolver.example.org",
			"http://resolver.example.org/01/" + gtin + "/21/%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_",
		},
		{
			"sscc with attributes",
			[]Element{{"00", sscc}, {"02", gtin}, {"37", "12"}},
			"00" + sscc + "02" + gtin + "3712",
			"(00)" + sscc + "(02)" + gtin + "(37)12",
			"",
			"https://id.gs1.org/00/" + sscc + "?02=" + gtin + "&37=12",
		},
		{
			"nhrn as attribute",
			[]Element{{"01", gtin}, {"21", "SN1"}, {"714", "1234567"}, {"10", "L"}},
			"01" + gtin + "21SN1" + gs + "7141234567" + gs + "10L",
			"(01)" + gtin + "(21)SN1(714)1234567(10)L",
			"",
			"https://id.gs1.org/01/" + gtin + "/10/L/21/SN1?714=1234567",
		},
		{
			"tpx alternative",
			[]Element{{"01", gtin}, {"235", "TPX1"}},
			"01" + gtin + "235TPX1",
			"(01)" + gtin + "(235)TPX1",
			"",
			"https://id.gs1.org/01/" + gtin + "/235/TPX1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Data{Symbology: SymGS1DataMatrix, Elements: tt.els}
			if got := d.ElementString(); got != tt.elemStr {
				t.Errorf("ElementString = %q, want %q", got, tt.elemStr)
			}
			if got := d.Bracketed(); got != tt.bracketed {
				t.Errorf("Bracketed = %q, want %q", got, tt.bracketed)
			}
			got, err := d.DigitalLink(tt.base)
			if err != nil || got != tt.dl {
				t.Errorf("DigitalLink = %q, %v; want %q", got, err, tt.dl)
			}
			// And back again.
			for _, in := range []string{"]d2" + tt.elemStr, tt.bracketed, tt.dl} {
				back, err := Parse([]byte(in))
				if err != nil {
					t.Fatalf("Parse(%q): %v", in, err)
				}
				if !sameElements(back.Elements, tt.els) {
					t.Errorf("Parse(%q) = %q, want %q", in, back.Elements, tt.els)
				}
			}
		})
	}
}

func TestDigitalLinkEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		d    Data
		base string
		want error
	}{
		{"no key", Data{Elements: []Element{{"400", "PO1"}}}, "", ErrNoDigitalLinkKey},
		{"not an attribute", Data{Elements: []Element{{"01", gtin}, {"21", "S"}, {"8200", "HTTP://X"}}}, "", ErrDigitalLink},
		{"bad base", Data{Elements: []Element{{"01", gtin}}}, "ftp://x", ErrDigitalLink},
		{"invalid data", Data{Elements: []Element{{"01", "00300010123456"}}}, "", ErrCheckDigit},
		{"no data", Data{}, "", ErrEmpty},
	}
	for _, tt := range tests {
		if got, err := tt.d.DigitalLink(tt.base); !errors.Is(err, tt.want) {
			t.Errorf("%s: DigitalLink = %q, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestParseDigitalLink(t *testing.T) {
	ok := []struct {
		uri string
		els []Element
	}{
		{"https://id.gs1.org/01/" + gtin, []Element{{"01", gtin}}},
		{"https://id.gs1.org/01/" + gtin + "/", []Element{{"01", gtin}}},
		{"https://a.example/x/y/z/01/" + gtin + "/22/V/10/L/21/S", []Element{{"01", gtin}, {"22", "V"}, {"10", "L"}, {"21", "S"}}},
		{"https://a.example/01/" + gtin + "/21/S?linkType=gs1:pip&17=270331#frag", []Element{{"01", gtin}, {"21", "S"}, {"17", "270331"}}},
		{"https://a.example/01/" + gtin + "/21/A%2FB%25?240=L%26M", []Element{{"01", gtin}, {"21", "A/B%"}, {"240", "L&M"}}},
		{"https://a.example/01/" + gtin + "/21/S?240=A%2BB", []Element{{"01", gtin}, {"21", "S"}, {"240", "A+B"}}},
		{"https://a.example:8443/01/" + gtin + "/10/L?17=270331", []Element{{"01", gtin}, {"10", "L"}, {"17", "270331"}}},
		{"https://a.example/00/" + sscc + "?10=L&02=" + gtin + "&37=5", []Element{{"00", sscc}, {"10", "L"}, {"02", gtin}, {"37", "5"}}},
		{"https://a.example/01/" + gtin + "/21/A+B", []Element{{"01", gtin}, {"21", "A+B"}}},
		{"https://a.example/414/5412345000013/254/EXT1", []Element{{"414", "5412345000013"}, {"254", "EXT1"}}},
		{"https://a.example/00/" + sscc + "?02=" + gtin + "&37=5", []Element{{"00", sscc}, {"02", gtin}, {"37", "5"}}},
		{"https://a.example/01/" + gtin + "/235/T1", []Element{{"01", gtin}, {"235", "T1"}}},
	}
	for _, tt := range ok {
		d, err := ParseDigitalLink(tt.uri)
		if err != nil || !slices.Equal(d.Elements, tt.els) {
			t.Errorf("ParseDigitalLink(%q) = %q, %v; want %q", tt.uri, d.Elements, err, tt.els)
		}
	}
	bad := []struct {
		uri  string
		want error
		ai   string
	}{
		{"ftp://id.gs1.org/01/" + gtin, ErrDigitalLink, ""},
		{"https://id.gs1.org", ErrDigitalLink, ""},
		{"https://id.gs1.org/", ErrDigitalLink, ""},
		{"https://id.gs1.org/gtin/" + gtin, ErrDigitalLink, ""},
		{"https://id.gs1.org/01/" + gtin + "/21/S/10/L", ErrDigitalLink, "01"},
		{"https://id.gs1.org/01/" + gtin + "/10/L/22/V", ErrDigitalLink, "01"},
		{"https://id.gs1.org/01/" + gtin + "/22/V/235/T", ErrDigitalLink, "01"},
		{"https://id.gs1.org/00/" + sscc + "/21/S", ErrDigitalLink, "00"},
		{"https://id.gs1.org/01/" + gtin + "/17/270331", ErrDigitalLink, "01"},
		{"https://id.gs1.org/01/" + gtin + "?21=S", ErrDigitalLink, "21"},
		{"https://id.gs1.org/01/" + gtin + "?999=S", ErrUnknownAI, "999"},
		{"https://id.gs1.org/01/" + gtin + "?17", ErrTooShort, "17"},
		{"https://id.gs1.org/01/" + gtin + "?17=271301", ErrBadDate, "17"},
		{"https://id.gs1.org/01/" + gtin + "/21/A%2", ErrDigitalLink, "21"},
		{"https://id.gs1.org/01/" + gtin + "/21/A%ZZ", ErrDigitalLink, "21"},
		{"https://id.gs1.org/01/" + gtin + "/21/A%20B", ErrCharset, "21"},
		{"https://id.gs1.org/01/0300010123455", ErrTooShort, "01"},
		{"https://id.gs1.org/01/" + gtin + "/21/S?17=270331&17=270330", ErrDuplicateAI, "17"},
		{"https://id.gs1.org/01/" + gtin + "/21/S?17=270331&17=270331", ErrDuplicateAI, "17"},
		// A qualifier of the key in the query: it belongs in the path.
		{"https://id.gs1.org/01/" + gtin + "?10=A123", ErrDigitalLink, "10"},
		{"https://id.gs1.org/01/" + gtin + "/21/S?10=A123", ErrDigitalLink, "10"},
		{"https://id.gs1.org/01/" + gtin + "/10/L?17=270331&10=L", ErrDuplicateAI, "10"},
		// '+' in a query value is a space.
		{"https://id.gs1.org/01/" + gtin + "/21/S?240=A+B", ErrCharset, "240"},
		// Characters outside RFC 3986, a bad domain, an encoded NUL.
		{"https://id.gs1.org/01/" + gtin + "/21/S<1", ErrDigitalLink, ""},
		{"https://id.gs1.org/01/" + gtin + "/21/S 1", ErrDigitalLink, ""},
		{"https://id.gs1.org/01/" + gtin + "/21/S\"1", ErrDigitalLink, ""},
		{"https://id.gs1.org/01/" + gtin + "/21/Sé", ErrDigitalLink, ""},
		{"https://id_gs1.org/01/" + gtin, ErrDigitalLink, ""},
		{"https://id.gs1.org/01/" + gtin + "/21/A%00B", ErrDigitalLink, "21"},
	}
	for _, tt := range bad {
		d, err := ParseDigitalLink(tt.uri)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseDigitalLink(%q) = %q, %v; want %v", tt.uri, d.Elements, err, tt.want)
			continue
		}
		var ge *Error
		if errors.As(err, &ge) && ge.AI != tt.ai {
			t.Errorf("ParseDigitalLink(%q) error %q names AI %q, want %q", tt.uri, err, ge.AI, tt.ai)
		}
	}
}

func TestParseBracketed(t *testing.T) {
	d, err := ParseBracketed(`(01)` + gtin + `(21)A\(B)C`)
	if err != nil || !slices.Equal(d.Elements, []Element{{"01", gtin}, {"21", "A(B)C"}}) {
		t.Fatalf("escaped bracket: %q, %v", d.Elements, err)
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"01" + gtin, ErrBracketed},
		{"(01" + gtin, ErrBracketed},
		{"()" + gtin, ErrBracketed},
		{"(23)X", ErrUnknownAI},
		{"(01)" + gtin + "x(21)S", ErrTooLong},
		{"(01)" + gtin + "(21)", ErrTooShort},
		{"(01)" + gtin + "(21)A B", ErrCharset},
		{"(21)S", ErrPairing},
	}
	for _, tt := range bad {
		if d, err := ParseBracketed(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ParseBracketed(%q) = %q, %v; want %v", tt.in, d.Elements, err, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	d, err := Parse([]byte("]d201" + gtin + "21S" + gs + "10L"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Value("10"); !ok || v != "L" {
		t.Errorf("Value(10) = %q, %v", v, ok)
	}
	if v, ok := d.Value("17"); ok || v != "" {
		t.Errorf("Value(17) = %q, %v", v, ok)
	}
}

func TestTableFacts(t *testing.T) {
	// The separator rule: first two digits 00-04, 11-20, 31-36, 41 mean a
	// predefined length.
	for i := range aiTable.entries {
		e := &aiTable.entries[i]
		p := e.ai[:2]
		want := p <= "04" || (p >= "11" && p <= "20") || (p >= "31" && p <= "36") || p == "41"
		if e.fixed != want {
			t.Errorf("AI %s: predefined length = %v, want %v", e.ai, e.fixed, want)
		}
	}
	if n := len(aiTable.entries); n < 500 {
		t.Errorf("only %d AIs compiled", n)
	}
	for _, ai := range []string{"00", "01", "10", "17", "21", "235", "3103", "3929", "7040", "8030", "99", "717"} {
		if !Known(ai) {
			t.Errorf("AI %s unknown", ai)
		}
	}
	for _, ai := range []string{"", "0", "04", "23", "3106", "718", "9", "8099", "abc"} {
		if Known(ai) {
			t.Errorf("AI %q known", ai)
		}
	}
	if !DigitalLinkAttribute("17") || !DigitalLinkAttribute("714") || DigitalLinkAttribute("21") || DigitalLinkAttribute("8200") || DigitalLinkAttribute("23") {
		t.Error("Digital Link attribute flags wrong")
	}
	if !PredefinedLength("17") || PredefinedLength("10") || PredefinedLength("23") {
		t.Error("predefined length flags wrong")
	}
	if Title("17") != "USE BY or EXPIRY" || Title("23") != "" {
		t.Errorf("titles: %q %q", Title("17"), Title("23"))
	}
}

// sameElements compares as multisets: a Digital Link puts query attributes
// after the path.
func sameElements(a, b []Element) bool {
	if len(a) != len(b) {
		return false
	}
	cmp := func(x, y Element) int { return strings.Compare(x.AI+"\x00"+x.Value, y.AI+"\x00"+y.Value) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}
