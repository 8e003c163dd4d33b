package gs1

import (
	"fmt"
	"strconv"
	"strings"
)

// row is one line of the syntax dictionary, in its own notation.
type row struct{ lo, hi, flags, spec, attrs, title string }

// cset is the character set of a component.
type cset uint8

const (
	csetN cset = iota // digits
	csetX             // GS1 character set 82
	csetY             // GS1 character set 39
	csetZ             // GS1 character set 64 (base64url)
)

func (c cset) String() string {
	switch c {
	case csetN:
		return "digits only"
	case csetX:
		return "GS1 character set 82"
	case csetY:
		return "GS1 character set 39"
	default:
		return "GS1 character set 64"
	}
}

// component is one part of a value's format, e.g. "N13,csum" or "[X..17]".
type component struct {
	cset     cset
	min, max int
	optional bool
	lints    []linter
}

// entry is one compiled AI.
type entry struct {
	ai       string
	title    string
	fixed    bool // predefined length: never followed by a separator
	dlAttr   bool // allowed as a Digital Link query attribute
	comps    []component
	minLen   int
	maxLen   int
	req      [][][]string // each req=: alternatives, each a set of AIs/patterns joined by "+"
	ex       []string     // AIs/patterns this AI must not appear with
	dlKey    bool         // Digital Link primary key
	dlQuals  [][]string   // ordered qualifier sequences (alternatives)
	dateLike bool         // the value starts with a YYMMDD date
}

// table is the compiled dictionary with a direct index by AI digits.
type table struct {
	entries []entry
	idx2    [100]int16
	idx3    [1000]int16
	idx4    [10000]int16
}

// aiTable is built once at start-up and never written afterwards.
var aiTable = compile(dictionary())

func compile(rows []row) *table {
	t := &table{}
	for i := range t.idx2 {
		t.idx2[i] = -1
	}
	for i := range t.idx3 {
		t.idx3[i] = -1
	}
	for i := range t.idx4 {
		t.idx4[i] = -1
	}
	for _, r := range rows {
		lo, err1 := strconv.Atoi(r.lo)
		hi, err2 := strconv.Atoi(r.hi)
		if err1 != nil || err2 != nil || len(r.lo) != len(r.hi) || hi < lo {
			panic("gs1: bad dictionary range " + r.lo + "-" + r.hi)
		}
		for n := lo; n <= hi; n++ {
			ai := fmt.Sprintf("%0*d", len(r.lo), n)
			e := compileRow(ai, r)
			t.entries = append(t.entries, e)
		}
	}
	if len(t.entries) > 1<<15-1 {
		panic("gs1: dictionary too large")
	}
	for i := range t.entries {
		ai := t.entries[i].ai
		n, _ := strconv.Atoi(ai)
		switch len(ai) {
		case 2:
			t.idx2[n] = int16(i)
		case 3:
			t.idx3[n] = int16(i)
		case 4:
			t.idx4[n] = int16(i)
		default:
			panic("gs1: AI of unexpected length " + ai)
		}
	}
	// The element string relies on no AI being a prefix of another.
	for i := range t.entries {
		ai := t.entries[i].ai
		for l := 2; l < len(ai); l++ {
			if e := t.get(ai[:l]); e != nil {
				panic("gs1: AI " + e.ai + " is a prefix of " + ai)
			}
		}
	}
	return t
}

func compileRow(ai string, r row) entry {
	e := entry{
		ai:     ai,
		title:  r.title,
		fixed:  strings.Contains(r.flags, "*"),
		dlAttr: strings.Contains(r.flags, "?"),
	}
	for _, tok := range strings.Fields(r.spec) {
		c := compileComponent(ai, tok)
		if !c.optional {
			e.minLen += c.min
		}
		e.maxLen += c.max
		e.comps = append(e.comps, c)
	}
	if len(e.comps) == 0 {
		panic("gs1: AI " + ai + " has no format")
	}
	if e.fixed && e.minLen != e.maxLen {
		panic("gs1: predefined-length AI " + ai + " has a variable format")
	}
	for _, c := range e.comps[0].lints {
		if c == lintYYMMD0 || c == lintYYMMDD {
			e.dateLike = true
		}
	}
	for _, a := range strings.Fields(r.attrs) {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "req":
			var alts [][]string
			for _, alt := range strings.Split(v, ",") {
				alts = append(alts, strings.Split(alt, "+"))
			}
			e.req = append(e.req, alts)
		case "ex":
			e.ex = append(e.ex, strings.Split(v, ",")...)
		case "dlpkey":
			e.dlKey = true
			if v != "" {
				for _, seq := range strings.Split(v, "|") {
					e.dlQuals = append(e.dlQuals, strings.Split(seq, ","))
				}
			}
		default:
			panic("gs1: AI " + ai + ": unknown attribute " + a)
		}
	}
	return e
}

func compileComponent(ai, tok string) component {
	var c component
	parts := strings.Split(tok, ",")
	typ := parts[0]
	if strings.HasPrefix(typ, "[") && strings.HasSuffix(typ, "]") {
		c.optional = true
		typ = typ[1 : len(typ)-1]
	}
	if typ == "" {
		panic("gs1: AI " + ai + ": empty component")
	}
	switch typ[0] {
	case 'N':
		c.cset = csetN
	case 'X':
		c.cset = csetX
	case 'Y':
		c.cset = csetY
	case 'Z':
		c.cset = csetZ
	default:
		panic("gs1: AI " + ai + ": unknown character set in " + tok)
	}
	if rest, ok := strings.CutPrefix(typ[1:], ".."); ok {
		n, err := strconv.Atoi(rest)
		if err != nil {
			panic("gs1: AI " + ai + ": bad length in " + tok)
		}
		c.min, c.max = 1, n
	} else {
		n, err := strconv.Atoi(typ[1:])
		if err != nil {
			panic("gs1: AI " + ai + ": bad length in " + tok)
		}
		c.min, c.max = n, n
	}
	for _, name := range parts[1:] {
		l, ok := linterByName(name)
		if !ok {
			panic("gs1: AI " + ai + ": unknown linter " + name)
		}
		if l != lintNone {
			c.lints = append(c.lints, l)
		}
	}
	return c
}

// get returns the entry for an AI, or nil.
func (t *table) get(ai string) *entry {
	n := 0
	for i := 0; i < len(ai); i++ {
		d := ai[i] - '0'
		if d > 9 {
			return nil
		}
		n = n*10 + int(d)
	}
	var i int16 = -1
	switch len(ai) {
	case 2:
		i = t.idx2[n]
	case 3:
		i = t.idx3[n]
	case 4:
		i = t.idx4[n]
	}
	if i < 0 {
		return nil
	}
	return &t.entries[i]
}

// prefix finds the AI that s starts with. It returns nil if none does.
func (t *table) prefix(s string) *entry {
	n := 0
	for l := 0; l < 4 && l < len(s); l++ {
		d := s[l] - '0'
		if d > 9 {
			return nil
		}
		n = n*10 + int(d)
		var i int16 = -1
		switch l {
		case 1:
			i = t.idx2[n]
		case 2:
			i = t.idx3[n]
		case 3:
			i = t.idx4[n]
		}
		if i >= 0 {
			return &t.entries[i]
		}
	}
	return nil
}

// matchAI reports whether ai matches a pattern such as "01", "31nn" or "310n"
// ("n" stands for any digit).
func matchAI(pattern, ai string) bool {
	if len(pattern) != len(ai) {
		return false
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != ai[i] && pattern[i] != 'n' {
			return false
		}
	}
	return true
}

// Known reports whether ai is an Application Identifier of the GS1 syntax
// dictionary.
func Known(ai string) bool { return aiTable.get(ai) != nil }

// Title returns the dictionary's short title of an AI ("GTIN", "BATCH/LOT"),
// or "" for an unknown AI.
func Title(ai string) string {
	if e := aiTable.get(ai); e != nil {
		return e.title
	}
	return ""
}

// PredefinedLength reports whether an AI has a predefined length and is
// therefore never followed by a group separator.
func PredefinedLength(ai string) bool {
	e := aiTable.get(ai)
	return e != nil && e.fixed
}

// DigitalLinkAttribute reports whether an AI may appear as a query
// attribute of a GS1 Digital Link URI.
func DigitalLinkAttribute(ai string) bool {
	e := aiTable.get(ai)
	return e != nil && e.dlAttr
}
