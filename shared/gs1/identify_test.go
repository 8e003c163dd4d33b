package gs1

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestIdentify(t *testing.T) {
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	strict := Policy{RequireLot: true, RequireExpiry: true, Today: today}
	loose := Policy{Today: today}
	tests := []struct {
		name   string
		raw    string
		want   Want
		policy Policy
		err    error
		phrase string
		check  func(t *testing.T, p Product)
	}{
		{name: "unit", raw: "]d201" + gtin + "17270331" + "10A123" + gs + "21SN12345", want: WantUnit, policy: strict,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantUnit || p.GTIN != gtin || p.Serial != "SN12345" || p.Lot != "A123" ||
					p.ExpiryRaw != "270331" || !p.Expiry.Equal(time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)) ||
					p.SSCC != "" || p.NHRN != nil {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "expiry DD=00 in leap year", raw: "]d201" + gtin + "17280200" + "21S", want: WantUnit, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.ExpiryRaw != "280200" || p.Expiry.Format(time.DateOnly) != "2028-02-29" {
					t.Errorf("expiry = %q %v", p.ExpiryRaw, p.Expiry)
				}
			}},
		{name: "unit from digital link", raw: "https://id.gs1.org/01/" + gtin + "/10/L/21/S?17=270331", want: WantAny, policy: strict,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantUnit || p.Serial != "S" || p.Lot != "L" {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "national numbers", raw: "]d201" + gtin + "21S" + gs + "7141234567" + gs + "710PZN1", want: WantUnit, policy: loose,
			check: func(t *testing.T, p Product) {
				if !maps.Equal(p.NHRN, map[string]string{"714": "1234567", "710": "PZN1"}) {
					t.Errorf("NHRN = %v", p.NHRN)
				}
			}},
		{name: "no symbology identifier is fine", raw: "01" + gtin + "21S", want: WantUnit, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Serial != "S" {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "plain datamatrix", raw: "]d1010030001012345517270331", want: WantUnit, policy: loose, err: ErrNotGS1, phrase: "plain DataMatrix (]d1)"},
		{name: "plain datamatrix any", raw: "]d1https://id.gs1.org/01/" + gtin + "/21/S", want: WantAny, policy: loose, err: ErrNotGS1, phrase: "]d1"},
		{name: "text qr", raw: "]Q1HELLO", want: WantAny, policy: loose, err: ErrNotGS1, phrase: "no GS1 data"},
		{name: "unit without serial", raw: "]d201" + gtin + "17270331" + "10A123", want: WantUnit, policy: loose, err: ErrNoSerial, phrase: "no serial number (21)"},
		{name: "swallowed serial", raw: "]d201" + gtin + "17270331" + "10A12321SN12345", want: WantUnit, policy: loose,
			err: ErrSwallowedSerial, phrase: "AI (10): the lot seems to contain the serial (\"SN12345\" after \"21\"): the scanner did not send the group separator"},
		{name: "swallowed serial in national number", raw: "]d201" + gtin + "7141234567" + "21SN1", want: WantUnit, policy: loose,
			err: ErrSwallowedSerial, phrase: "AI (714)"},
		{name: "swallowed serial, container wanted", raw: "]d201" + caseGT + "10L21CASE1", want: WantContainer, policy: loose, err: ErrSwallowedSerial, phrase: "the lot"},
		{name: "swallowed lot", raw: "]d201" + gtin + "21SN12310LOT9", want: WantUnit, policy: strict, err: ErrNoLot, phrase: "the serial number seems to contain the lot"},
		{name: "swallowed expiry", raw: "]d201" + gtin + "21S" + gs + "10A1717270331", want: WantUnit, policy: strict, err: ErrNoExpiry, phrase: "the lot seems to contain the expiry date"},
		{name: "lot required", raw: "]d201" + gtin + "17270331" + "21S", want: WantUnit, policy: strict, err: ErrNoLot, phrase: "no lot (10)"},
		{name: "expiry required", raw: "]d201" + gtin + "10L" + gs + "21S", want: WantUnit, policy: strict, err: ErrNoExpiry, phrase: "no expiry date (17)"},
		{name: "lot not required", raw: "]d201" + gtin + "21S", want: WantUnit, policy: Policy{RequireExpiry: false, Today: today}},
		{name: "sscc is not a unit", raw: "]C100" + sscc, want: WantUnit, policy: loose, err: ErrNoGTIN, phrase: "logistic unit label (SSCC)"},
		{name: "no gtin", raw: "]C1414" + "5412345000013", want: WantUnit, policy: loose, err: ErrNoGTIN},
		{name: "sscc container", raw: "]C100" + sscc, want: WantContainer, policy: strict,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantContainer || p.SSCC != sscc || p.GTIN != "" {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "sscc with content gtin", raw: "]C100" + sscc + "02" + gtin + "10L" + gs + "3712", want: WantAny, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantContainer || p.SSCC != sscc || p.GTIN != gtin || p.Lot != "L" {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "serialised case", raw: "]d201" + caseGT + "21CASE1", want: WantContainer, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantContainer || p.GTIN != caseGT || p.Serial != "CASE1" {
					t.Errorf("product = %+v", p)
				}
			}},
		{name: "serialised case found by any", raw: "]d201" + caseGT + "21CASE1", want: WantAny, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantContainer {
					t.Errorf("kind = %v", p.Kind)
				}
			}},
		{name: "case gtin wanted as unit stays a unit", raw: "]d201" + caseGT + "21CASE1", want: WantUnit, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Kind != WantUnit {
					t.Errorf("kind = %v", p.Kind)
				}
			}},
		{name: "pack is not a container", raw: "]d201" + gtin + "21S", want: WantContainer, policy: loose, err: ErrNotContainer, phrase: "indicator digit 0"},
		{name: "case gtin without serial", raw: "]d201" + caseGT + "10L", want: WantContainer, policy: loose, err: ErrNoSerial},
		{name: "nothing to contain", raw: "]C1414" + "5412345000013", want: WantContainer, policy: loose, err: ErrNotContainer},
		{name: "any without identifier", raw: "]C1414" + "5412345000013", want: WantAny, policy: loose, err: ErrNoGTIN},
		{name: "expiry century window", raw: "]d201" + gtin + "17770101" + "21S", want: WantUnit, policy: loose,
			check: func(t *testing.T, p Product) {
				if p.Expiry.Year() != 1977 {
					t.Errorf("expiry = %v", p.Expiry)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p, err := Identify(d, tt.want, tt.policy)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Identify = %+v, %v; want %v", p, err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.phrase) {
					t.Errorf("error %q does not say %q", err, tt.phrase)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestIdentifyDefaultsToday(t *testing.T) {
	d, err := Parse([]byte("]d201" + gtin + "17" + time.Now().AddDate(1, 0, 0).Format("060102") + "21S"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Identify(d, WantUnit, Policy{RequireExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	if y := p.Expiry.Year(); y != time.Now().Year()+1 {
		t.Errorf("expiry year = %d", y)
	}
}

func TestWantString(t *testing.T) {
	for w, s := range map[Want]string{WantUnit: "unit", WantContainer: "container", WantAny: "any", Want(7): "Want(7)"} {
		if w.String() != s {
			t.Errorf("%d.String() = %q", int(w), w.String())
		}
	}
	if _, err := Identify(Data{Elements: []Element{{"01", gtin}, {"21", "S"}}}, Want(9), Policy{}); !errors.Is(err, ErrBadValue) {
		t.Errorf("unknown Want accepted: %v", err)
	}
}
