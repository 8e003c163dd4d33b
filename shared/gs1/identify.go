package gs1

import (
	"strconv"
	"time"
)

// Want says what a workflow step expects to be scanned.
type Want int

const (
	WantUnit      Want = iota // a saleable unit: GTIN (01) + serial (21)
	WantContainer             // a case or pallet: SSCC (00), or a case GTIN (indicator 1-8) + serial
	WantAny                   // either; Identify says which it was
)

func (w Want) String() string {
	switch w {
	case WantUnit:
		return "unit"
	case WantContainer:
		return "container"
	case WantAny:
		return "any"
	}
	return "Want(" + strconv.Itoa(int(w)) + ")"
}

// Policy is what a workflow requires beyond the identifier itself. It
// applies to GTIN-identified items (units and serialised cases); an SSCC
// alone identifies a logistic unit whose content is known from the ship
// notice, so it is not asked for a lot or expiry.
type Policy struct {
	RequireLot    bool
	RequireExpiry bool
	// Today anchors the century window for two-digit years; zero means
	// the current date.
	Today time.Time
}

// Product is a usable identifier read from a scan.
type Product struct {
	Kind      Want   // WantUnit or WantContainer
	GTIN      string // (01); for an SSCC label without (01), the content GTIN (02)
	Serial    string // (21)
	Lot       string // (10)
	ExpiryRaw string // (17) as scanned, YYMMDD (DD may be 00)
	Expiry    time.Time
	SSCC      string            // (00)
	NHRN      map[string]string // national numbers (710)-(717) by AI; nil when absent
}

// Identify checks that parsed data is a usable product identifier for a
// workflow step and extracts it. It refuses, each with its own sentinel:
// non-GS1 data such as plain DataMatrix (ErrNotGS1); a unit without GTIN
// (ErrNoGTIN) or serial (ErrNoSerial); a serial that a missing group
// separator ran into the lot or another field (ErrSwallowedSerial); a
// container scan that names no container (ErrNotContainer); a missing lot
// or expiry the policy requires (ErrNoLot, ErrNoExpiry).
//
// A container is an SSCC (00), or a GTIN whose indicator digit is 1-8
// (a trade item grouping: case, bundle) together with a serial (21). With
// WantAny, SSCC and such case GTINs are containers, everything else with
// (01) + (21) is a unit.
func Identify(d Data, want Want, p Policy) (Product, error) {
	if d.Symbology == SymDataMatrix {
		return Product{}, errData(ErrNotGS1, "this is a plain DataMatrix (]d1), not a GS1 DataMatrix: it carries no GS1 product identifier")
	}
	if len(d.Elements) == 0 {
		return Product{}, errData(ErrNotGS1, "the barcode carries no GS1 data")
	}
	var pr Product
	pr.GTIN, _ = d.Value("01")
	pr.Serial, _ = d.Value("21")
	pr.Lot, _ = d.Value("10")
	pr.SSCC, _ = d.Value("00")
	for _, el := range d.Elements {
		if len(el.AI) == 3 && el.AI >= "710" && el.AI <= "717" {
			if pr.NHRN == nil {
				pr.NHRN = make(map[string]string)
			}
			pr.NHRN[el.AI] = el.Value
		}
	}
	if raw, ok := d.Value("17"); ok {
		today := p.Today
		if today.IsZero() {
			today = time.Now()
		}
		t, err := Date(raw, today)
		if err != nil {
			return Product{}, errAI("17", ErrBadDate, err.(*Error).Reason)
		}
		pr.ExpiryRaw, pr.Expiry = raw, t
	}
	caseGTIN := pr.GTIN != "" && pr.GTIN[0] >= '1' && pr.GTIN[0] <= '8'

	switch want {
	case WantUnit:
		if pr.GTIN == "" {
			if pr.SSCC != "" {
				return Product{}, errData(ErrNoGTIN, "this is a logistic unit label (SSCC), not a pack: scan the pack's GS1 DataMatrix")
			}
			return Product{}, errData(ErrNoGTIN, "the scan has no GTIN (01): it does not identify a pack")
		}
		if err := needSerial(d, pr); err != nil {
			return Product{}, err
		}
		pr.Kind = WantUnit
	case WantContainer:
		switch {
		case pr.SSCC != "":
			pr.Kind = WantContainer
			if pr.GTIN == "" {
				pr.GTIN, _ = d.Value("02")
			}
			return pr, nil // an SSCC is not asked for lot or expiry
		case pr.GTIN == "":
			return Product{}, errData(ErrNotContainer, "the scan has neither an SSCC (00) nor a GTIN (01): it does not identify a case or pallet")
		case !caseGTIN:
			return Product{}, errAI("01", ErrNotContainer, "GTIN "+pr.GTIN+" has indicator digit "+pr.GTIN[:1]+
				", which marks a pack, not a case: scan the case or pallet label")
		}
		if err := needSerial(d, pr); err != nil {
			return Product{}, err
		}
		pr.Kind = WantContainer
	case WantAny:
		switch {
		case pr.SSCC != "":
			pr.Kind = WantContainer
			if pr.GTIN == "" {
				pr.GTIN, _ = d.Value("02")
			}
			return pr, nil
		case pr.GTIN == "":
			return Product{}, errData(ErrNoGTIN, "the scan has neither a GTIN (01) nor an SSCC (00): it does not identify a pack, case or pallet")
		}
		if err := needSerial(d, pr); err != nil {
			return Product{}, err
		}
		pr.Kind = WantUnit
		if caseGTIN {
			pr.Kind = WantContainer
		}
	default:
		return Product{}, errData(ErrBadValue, "unknown kind of scan wanted: "+want.String())
	}
	if p.RequireLot && pr.Lot == "" {
		if host, val, ok := swallowed(d, "10"); ok {
			return Product{}, errAI(host, ErrNoLot, describeHost(host)+" seems to contain the lot ("+strconv.Quote(val)+
				" after \"10\"): the scanner did not send the group separator (GS)")
		}
		return Product{}, errData(ErrNoLot, "the scan has no lot (10), which is required here")
	}
	if p.RequireExpiry && pr.ExpiryRaw == "" {
		if host, val, ok := swallowed(d, "17"); ok {
			return Product{}, errAI(host, ErrNoExpiry, describeHost(host)+" seems to contain the expiry date ("+strconv.Quote(val)+
				" after \"17\"): the scanner did not send the group separator (GS)")
		}
		return Product{}, errData(ErrNoExpiry, "the scan has no expiry date (17), which is required here")
	}
	return pr, nil
}

func needSerial(d Data, pr Product) error {
	if pr.Serial != "" {
		return nil
	}
	if host, val, ok := swallowed(d, "21"); ok {
		return errAI(host, ErrSwallowedSerial, describeHost(host)+" seems to contain the serial ("+strconv.Quote(val)+
			" after \"21\"): the scanner did not send the group separator (GS)")
	}
	return errData(ErrNoSerial, "the scan has no serial number (21): GTIN "+pr.GTIN+" alone does not identify one pack")
}

func describeHost(ai string) string {
	switch ai {
	case "10":
		return "the lot"
	case "21":
		return "the serial number"
	}
	return "the value"
}

// swallowed looks for an AI hidden inside a variable-length value, where a
// missing group separator would have put it: the AI's digits after at
// least one character of the host value, followed by what is a valid value
// for that AI. It returns the host AI and the hidden value.
func swallowed(d Data, ai string) (host, val string, ok bool) {
	e := aiTable.get(ai)
	for _, el := range d.Elements {
		he := aiTable.get(el.AI)
		if he == nil || he.fixed || el.AI == ai {
			continue
		}
		v := el.Value
		for k := 1; k+len(ai) < len(v); k++ {
			if v[k:k+len(ai)] != ai {
				continue
			}
			rest := v[k+len(ai):]
			if e.fixed && len(rest) >= e.maxLen {
				rest = rest[:e.maxLen]
			}
			if e.validate(rest) == nil {
				return el.AI, rest, true
			}
		}
	}
	return "", "", false
}
