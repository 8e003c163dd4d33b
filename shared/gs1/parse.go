package gs1

import (
	"strconv"
	"strings"
)

// Symbology is the symbology identifier a scanner puts before the data
// ("]d2"), telling which kind of barcode was read.
type Symbology string

// Symbology identifiers the package knows by name. Data read from other
// symbologies keeps its identifier as is.
const (
	SymGS1DataMatrix Symbology = "]d2" // GS1 DataMatrix: GS1 element string
	SymDataMatrix    Symbology = "]d1" // plain DataMatrix: not GS1 data
	SymGS1128        Symbology = "]C1" // GS1-128
	SymGS1QR         Symbology = "]Q3" // GS1 QR Code
	SymGS1DataBar    Symbology = "]e0" // GS1 DataBar (and composite)
	SymGS1DotCode    Symbology = "]J1" // GS1 DotCode
	SymQR            Symbology = "]Q1" // plain QR Code: not GS1 data (a Digital Link URI may be)
	SymEAN13         Symbology = "]E0" // EAN-13, UPC-A, UPC-E: 13 digits
	SymEAN8          Symbology = "]E4" // EAN-8: 8 digits
	SymNone          Symbology = ""    // no identifier (keyboard wedge, typed or bracketed data, URI)
)

// GS is the group separator a scanner sends for FNC1 between elements.
const GS = 0x1d

// IsGS1 reports whether the symbology carries a GS1 element string.
func (s Symbology) IsGS1() bool {
	switch s {
	case SymGS1DataMatrix, SymGS1128, SymGS1QR, SymGS1DataBar, SymGS1DotCode:
		return true
	}
	return false
}

// Element is one Application Identifier with its value.
type Element struct{ AI, Value string }

// Data is what a barcode said: the symbology and the elements in the order
// they were read. Text holds the payload of a non-GS1 symbology (for example
// plain DataMatrix, ]d1) that is not a Digital Link URI; such data has no
// elements.
type Data struct {
	Symbology Symbology
	Elements  []Element
	Text      string
}

// Value returns the value of the first element with the given AI.
func (d Data) Value(ai string) (string, bool) {
	for _, e := range d.Elements {
		if e.AI == ai {
			return e.Value, true
		}
	}
	return "", false
}

// Options tune ParseWith.
type Options struct {
	// RequireSymbology refuses data that does not start with a symbology
	// identifier. Conformance checks of scanner output use it; keyboard
	// wedges often drop the identifier, so everyday parsing does not.
	RequireSymbology bool
}

// Parse reads what a scanner delivered and checks it against the GS1
// syntax dictionary. It recognises, in this order: data starting with a
// symbology identifier ("]d2..."), the bracketed form ("(01)..."), a GS1
// Digital Link URI ("https://..."), and otherwise an element string without
// identifier. A trailing group separator is tolerated. Line terminators are
// not: callers reading lines trim them.
func Parse(raw []byte) (Data, error) { return ParseWith(raw, Options{}) }

// ParseWith is Parse with options.
func ParseWith(raw []byte, opt Options) (Data, error) {
	if len(raw) == 0 {
		return Data{}, errData(ErrEmpty, "the scan holds no data")
	}
	if raw[0] != ']' {
		if opt.RequireSymbology {
			return Data{}, errData(ErrNoSymbology, "the scan has no symbology identifier (such as ]d2): the scanner is not set to transmit it")
		}
		s := string(raw)
		switch {
		case s[0] == '(':
			return ParseBracketed(s)
		case isURI(s):
			return ParseDigitalLink(s)
		}
		return parseElementString(SymNone, s)
	}
	if len(raw) < 3 || !isAlpha(raw[1]) || !isAlnum(raw[2]) {
		return Data{}, errData(ErrSymbology, "the scan starts with ']' but not with a symbology identifier such as ]d2")
	}
	sym := Symbology(symbologyName(raw[1], raw[2]))
	if sym.IsGS1() {
		return parseElementString(sym, string(raw[3:]))
	}
	switch sym {
	case SymEAN13, SymEAN8:
		return parseEAN(sym, string(raw[3:]))
	case SymDataMatrix, SymQR:
	default:
		return Data{}, errData(ErrSymbology, "unsupported symbology identifier "+string(sym)+
			": GS1 data comes from GS1 DataMatrix (]d2), GS1-128 (]C1), GS1 QR (]Q3), GS1 DataBar (]e0), GS1 DotCode (]J1), EAN/UPC (]E0, ]E4), or a Digital Link in a plain DataMatrix or QR Code (]d1, ]Q1)")
	}
	s := string(raw[3:])
	if isURI(s) {
		d, err := ParseDigitalLink(s)
		d.Symbology = sym
		return d, err
	}
	return Data{Symbology: sym, Text: s}, nil
}

// parseEAN reads an EAN/UPC message: exactly 13 digits (]E0: EAN-13, or
// UPC-A with a leading 0) or 8 (]E4: EAN-8) with a valid check digit,
// kept in Text, optionally followed by a GS1 Composite component
// ("|]e0" and an element string) whose elements are read as for ]e0.
func parseEAN(sym Symbology, s string) (Data, error) {
	n := 13
	if sym == SymEAN8 {
		n = 8
	}
	if len(s) < n {
		return Data{}, errData(ErrSymbology, string(sym)+" message too short: "+strconv.Itoa(len(s))+" characters, an "+sym.eanName()+" has "+strconv.Itoa(n)+" digits")
	}
	primary, cc := s[:n], ""
	if rest := s[n:]; rest != "" {
		var ok bool
		if cc, ok = strings.CutPrefix(rest, "|"+string(SymGS1DataBar)); !ok {
			return Data{}, errData(ErrSymbology, string(sym)+" message too long: an "+sym.eanName()+" has "+strconv.Itoa(n)+
				" digits, and only a composite component (|]e0...) may follow")
		}
	}
	for i := 0; i < n; i++ {
		if primary[i] < '0' || primary[i] > '9' {
			return Data{}, errData(ErrCharset, "the "+sym.eanName()+" holds "+strconv.QuoteRune(rune(primary[i]))+" at position "+strconv.Itoa(i+1)+": only digits")
		}
	}
	if want, _ := CheckDigit(primary[:n-1]); want != primary[n-1] {
		return Data{}, errData(ErrCheckDigit, "the "+sym.eanName()+" check digit is wrong (expected "+string(want)+")")
	}
	d := Data{Symbology: sym, Text: primary}
	if cc != "" {
		c, err := parseElementString(sym, cc)
		if err != nil {
			return Data{}, err
		}
		d.Elements = c.Elements
	}
	return d, nil
}

func (s Symbology) eanName() string {
	if s == SymEAN8 {
		return "EAN-8"
	}
	return "EAN-13 or UPC-A"
}

// symbologyName returns the identifier without allocating for the known ones.
func symbologyName(c, m byte) string {
	switch string([]byte{c, m}) {
	case "d2":
		return string(SymGS1DataMatrix)
	case "d1":
		return string(SymDataMatrix)
	case "C1":
		return string(SymGS1128)
	case "Q3":
		return string(SymGS1QR)
	case "e0":
		return string(SymGS1DataBar)
	case "J1":
		return string(SymGS1DotCode)
	case "Q1":
		return string(SymQR)
	case "E0":
		return string(SymEAN13)
	case "E4":
		return string(SymEAN8)
	}
	return string([]byte{']', c, m})
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

func isURI(s string) bool {
	return hasPrefixFold(s, "https://") || hasPrefixFold(s, "http://")
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// maxStackElements is how many elements parse without growing the buffer.
const maxStackElements = 8

func parseElementString(sym Symbology, s string) (Data, error) {
	if s == "" {
		return Data{}, errData(ErrEmpty, "the barcode holds no data after the symbology identifier")
	}
	var buf [maxStackElements]Element
	els := buf[:0]
	prev := ""
	for i := 0; i < len(s); {
		if s[i] == GS {
			if prev == "" {
				return Data{}, errData(ErrSeparator, "the data starts with a group separator (GS)")
			}
			return Data{}, errData(ErrSeparator, "after AI ("+prev+") comes a second group separator (GS) where an AI should start")
		}
		e := aiTable.prefix(s[i:])
		if e == nil {
			return Data{}, unknownAt(prev, s[i:])
		}
		i += len(e.ai)
		var v string
		if e.fixed {
			end := min(i+e.maxLen, len(s))
			v = s[i:end]
			if k := strings.IndexByte(v, GS); k >= 0 {
				v = v[:k]
			}
			i += len(v)
			if i < len(s) && s[i] == GS {
				i++ // a separator after a predefined-length AI is harmless
			}
		} else {
			k := strings.IndexByte(s[i:], GS)
			if k < 0 {
				v, i = s[i:], len(s)
			} else {
				v, i = s[i:i+k], i+k+1
			}
		}
		if err := e.validate(v); err != nil {
			return Data{}, err
		}
		els = append(els, Element{AI: e.ai, Value: v})
		prev = e.ai
	}
	if err := checkPairs(els); err != nil {
		return Data{}, err
	}
	out := make([]Element, len(els))
	copy(out, els)
	return Data{Symbology: sym, Elements: out}, nil
}

func unknownAt(prev, rest string) error {
	shown := rest
	if len(shown) > 8 {
		shown = shown[:8] + "..."
	}
	shown = strconv.Quote(shown)
	if prev == "" {
		return errData(ErrUnknownAI, "the data does not start with a known AI: "+shown)
	}
	return errData(ErrUnknownAI, "after AI ("+prev+") no known AI starts "+shown)
}

// checkPairs applies the dictionary's rules between elements: repeated
// AIs must agree, "ex=" pairs must not occur, "req=" pairs must.
func checkPairs(els []Element) error {
	var ebuf [maxStackElements]*entry
	ents := ebuf[:0]
	for i := range els {
		for j := i + 1; j < len(els); j++ {
			if els[i].AI == els[j].AI && els[i].Value != els[j].Value {
				return errAI(els[i].AI, ErrDuplicateAI, "appears twice with different values ("+
					strconv.Quote(els[i].Value)+" and "+strconv.Quote(els[j].Value)+")")
			}
		}
		e := aiTable.get(els[i].AI)
		if e == nil {
			return errAI(els[i].AI, ErrUnknownAI, "no such AI in the GS1 syntax dictionary")
		}
		ents = append(ents, e)
	}
	for _, e := range ents {
		for _, p := range e.ex {
			for j := range els {
				if els[j].AI != e.ai && matchAI(p, els[j].AI) {
					return errAI(e.ai, ErrPairing, "cannot be in the same data as AI ("+els[j].AI+")")
				}
			}
		}
	}
	var failed *entry
	var failedReq [][]string
	for _, e := range ents {
		for _, alts := range e.req {
			if (failed == nil || e.ai < failed.ai) && !satisfied(alts, els) {
				failed, failedReq = e, alts
			}
		}
	}
	if failed != nil {
		return errAI(failed.ai, ErrPairing, "needs "+reqWords(failedReq)+" in the same data")
	}
	return nil
}

func satisfied(alts [][]string, els []Element) bool {
	for _, all := range alts {
		ok := true
		for _, p := range all {
			if !present(p, els) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func present(pattern string, els []Element) bool {
	for i := range els {
		if matchAI(pattern, els[i].AI) {
			return true
		}
	}
	return false
}

func reqWords(alts [][]string) string {
	var b strings.Builder
	for i, all := range alts {
		if i > 0 {
			if i == len(alts)-1 {
				b.WriteString(" or ")
			} else {
				b.WriteString(", ")
			}
		}
		for j, p := range all {
			if j > 0 {
				b.WriteString(" with ")
			}
			b.WriteString("AI (" + p + ")")
		}
	}
	return b.String()
}

// ParseBracketed reads the human-readable bracketed form,
// "(01)00300010123455(17)270331(10)A123". A literal "(" inside a value is
// written "\(".
func ParseBracketed(s string) (Data, error) {
	if s == "" {
		return Data{}, errData(ErrEmpty, "no data")
	}
	if s[0] != '(' {
		return Data{}, errData(ErrBracketed, "bracketed data must start with '(' and an AI")
	}
	var buf [maxStackElements]Element
	els := buf[:0]
	for i := 0; i < len(s); {
		if s[i] != '(' {
			return Data{}, errData(ErrBracketed, "expected '(' at position "+strconv.Itoa(i+1))
		}
		k := strings.IndexByte(s[i:], ')')
		if k < 0 {
			return Data{}, errData(ErrBracketed, "an AI opened with '(' at position "+strconv.Itoa(i+1)+" is not closed")
		}
		ai := s[i+1 : i+k]
		e := aiTable.get(ai)
		if e == nil {
			if ai == "" {
				return Data{}, errData(ErrBracketed, "empty brackets '()' at position "+strconv.Itoa(i+1))
			}
			return Data{}, errAI(ai, ErrUnknownAI, "no such AI in the GS1 syntax dictionary")
		}
		i += k + 1
		start := i
		escaped := false
		for i < len(s) && s[i] != '(' {
			if s[i] == '\\' && i+1 < len(s) && s[i+1] == '(' {
				escaped = true
				i += 2
				continue
			}
			i++
		}
		v := s[start:i]
		if escaped {
			v = strings.ReplaceAll(v, `\(`, "(")
		}
		if err := e.validate(v); err != nil {
			return Data{}, err
		}
		els = append(els, Element{AI: e.ai, Value: v})
	}
	if err := checkPairs(els); err != nil {
		return Data{}, err
	}
	out := make([]Element, len(els))
	copy(out, els)
	return Data{Elements: out}, nil
}

// Validate checks elements built by hand (not parsed) against the syntax
// dictionary: every value and the rules between them.
func Validate(els []Element) error {
	if len(els) == 0 {
		return errData(ErrEmpty, "no elements")
	}
	for _, el := range els {
		e := aiTable.get(el.AI)
		if e == nil {
			return errAI(el.AI, ErrUnknownAI, "no such AI in the GS1 syntax dictionary")
		}
		if err := e.validate(el.Value); err != nil {
			return err
		}
	}
	return checkPairs(els)
}

// ElementString renders the data as a GS1 element string without
// symbology identifier, with a group separator (GS, 0x1D) after every
// variable-length element that is not the last one.
func (d Data) ElementString() string {
	n := 0
	for _, e := range d.Elements {
		n += len(e.AI) + len(e.Value) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, e := range d.Elements {
		b.WriteString(e.AI)
		b.WriteString(e.Value)
		if i < len(d.Elements)-1 && !PredefinedLength(e.AI) {
			b.WriteByte(GS)
		}
	}
	return b.String()
}

// Bracketed renders the human-readable form
// "(01)00300010123455(17)270331(10)A123(21)SN12345".
func (d Data) Bracketed() string {
	var b strings.Builder
	for _, e := range d.Elements {
		b.WriteByte('(')
		b.WriteString(e.AI)
		b.WriteByte(')')
		b.WriteString(strings.ReplaceAll(e.Value, "(", `\(`))
	}
	return b.String()
}
