package wedge

import (
	"fmt"
	"strings"
)

// The test card carries a GS1 DataMatrix whose data exercise everything a
// wedge can get wrong: two variable-length fields that need GS, mixed
// case, and a fixed-length field last.
const (
	CardGTIN    = "09506000134352"
	CardLot     = "AbC12x"
	CardSerial  = "Sn9-Q"
	CardExpiry  = "291231"
	CardElement = "(01)" + CardGTIN + "(10)" + CardLot + "(21)" + CardSerial + "(17)" + CardExpiry
)

// CardData is the card's data as a correct scanner transmits it after
// the symbology identifier "]d2".
func CardData() string {
	return "01" + CardGTIN + "10" + CardLot + "\x1d21" + CardSerial + "\x1d17" + CardExpiry
}

// Report is the self-test verdict over a few scans of the test card.
type Report struct {
	Scans         int
	SymbologyOK   bool   // "]d2" sent correctly
	SymbologySeen string // what arrived in its place ("" if nothing)
	GSOK          bool   // separators arrive as ASCII 29
	GSSeen        string // what arrived as separator ("" = dropped)
	CaseFlipped   bool
	Terminator    string
	Consistent    bool // every scan arrived the same
	Problems      []string
	OK            bool
}

// SelfTest analyses raw lines typed by the scanner when reading the card.
func SelfTest(lines []string) Report {
	r := Report{Scans: len(lines), Consistent: true, SymbologyOK: true, GSOK: true}
	if len(lines) == 0 {
		r.Problems = append(r.Problems, "no scans")
		r.SymbologyOK, r.GSOK = false, false
		return r
	}
	for i, l := range lines {
		if i > 0 && l != lines[0] {
			r.Consistent = false
		}
	}
	if !r.Consistent {
		r.Problems = append(r.Problems, "scans of the same card differ: dropped keystrokes or a noisy connection")
	}
	line := lines[0]
	for _, t := range []string{"\r\n", "\n\r", "\r", "\n", "\t"} {
		if strings.HasSuffix(line, t) {
			r.Terminator = t
			line = strings.TrimSuffix(line, t)
			break
		}
	}
	lot := "10" + CardLot
	iLot := strings.Index(asciiLower(line), asciiLower(lot))
	if iLot < 0 {
		r.Problems = append(r.Problems, "card data not recognised (is this the test card?)")
		r.SymbologyOK, r.GSOK = false, false
		return r
	}
	prefix := line[:iLot]
	// prefix = symbology + "01" + GTIN (+ possibly a leading GS)
	gtinPart := "01" + CardGTIN
	if !strings.HasSuffix(prefix, gtinPart) {
		r.Problems = append(r.Problems, fmt.Sprintf("GTIN arrived mangled: %q", prefix))
		r.OK = false
		return r
	}
	sym := strings.TrimSuffix(prefix, gtinPart)
	r.SymbologySeen = sym
	switch {
	case sym == "]d2":
	case sym == "" || sym == "\x1d":
		r.SymbologyOK = false
		r.Problems = append(r.Problems, "no symbology identifier: enable AIM identifiers (']d2') so plain DataMatrix can be told from GS1")
	case strings.EqualFold(sym, "]d2"):
		r.SymbologyOK = false
		r.Problems = append(r.Problems, fmt.Sprintf("symbology identifier case flipped (%q): Caps Lock or case conversion", sym))
	case len(sym) == 2 && sym == "d2", len(sym) == 3 && sym[1:] == "d2":
		r.SymbologyOK = false
		r.Problems = append(r.Problems, fmt.Sprintf("symbology identifier arrives as %q: the keyboard layout does not type ']'", sym))
	default:
		r.SymbologyOK = false
		r.Problems = append(r.Problems, fmt.Sprintf("unexpected prefix %q before the data", sym))
	}
	rest := line[iLot+len(lot):]
	ser := "21" + CardSerial
	iSer := strings.Index(asciiLower(rest), asciiLower(ser))
	if iSer < 0 {
		r.Problems = append(r.Problems, "serial missing or mangled")
		r.GSOK = false
		return r.finish(line)
	}
	r.GSSeen = rest[:iSer]
	switch r.GSSeen {
	case "\x1d":
	case "":
		r.GSOK = false
		r.Problems = append(r.Problems, "group separator dropped: the serial would be read as part of the lot; enable GS transmission or a GS substitute")
	default:
		r.GSOK = false
		r.Problems = append(r.Problems, fmt.Sprintf("group separator arrives as %q: add it to the GS substitutes or set the scanner to send ASCII 29", r.GSSeen))
	}
	// case: compare letters of lot and serial
	gotLot := line[iLot : iLot+len(lot)]
	gotSer := rest[iSer : iSer+len(ser)]
	if gotLot != lot || gotSer != ser {
		r.CaseFlipped = true
		r.Problems = append(r.Problems, "letters arrive with the wrong case: Caps Lock or case conversion alters lots and serials")
	}
	return r.finish(line)
}

func (r Report) finish(line string) Report {
	if !strings.HasSuffix(line, "17"+CardExpiry) {
		r.Problems = append(r.Problems, "expiry missing or mangled at the end")
	}
	r.OK = r.SymbologyOK && r.GSOK && !r.CaseFlipped && r.Consistent && len(r.Problems) == 0
	return r
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets intact
// (strings.ToLower may change the length of non-ASCII input).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
