package gs1

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultDigitalLinkBase is the resolver used when DigitalLink gets no base.
const DefaultDigitalLinkBase = "https://id.gs1.org"

// ParseDigitalLink reads a GS1 Digital Link URI with any domain and path
// stem: "https://example.com/stem/01/09506000134352/10/ABC?17=270331".
// The primary key and its qualifiers come from the end of the path, in the
// order the dictionary fixes for the key (for (01): 22, 10, 21 or 235);
// other AIs come from query parameters and must be Digital Link data
// attributes. Non-numeric query parameters (linkType ...) are ignored.
// Values are percent-decoded.
//
// As GS1's syntax engine does, it refuses: a character outside those
// RFC 3986 allows in a URI (a space, '<', '"' ...); a domain with a
// character a host name cannot hold; a query attribute that is a
// qualifier of the path's key (it belongs in the path); a query
// attribute whose AI the link already gave; an encoded NUL; and '+' in a
// query value, which a query decodes as a space, in no GS1 character set
// (a '+' in a value is written %2B).
func ParseDigitalLink(uri string) (Data, error) {
	if i := strings.IndexFunc(uri, func(r rune) bool { return !isURIChar(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(uri[i:])
		return Data{}, errData(ErrDigitalLink, "the URI holds a character URIs do not allow ("+strconv.QuoteRune(r)+
			" at position "+strconv.Itoa(i+1)+"): it must be percent-encoded")
	}
	var rest string
	switch {
	case hasPrefixFold(uri, "https://"):
		rest = uri[len("https://"):]
	case hasPrefixFold(uri, "http://"):
		rest = uri[len("http://"):]
	default:
		return Data{}, errData(ErrDigitalLink, "a Digital Link must start with https:// or http://")
	}
	if k := strings.IndexByte(rest, '#'); k >= 0 {
		rest = rest[:k]
	}
	query := ""
	if k := strings.IndexByte(rest, '?'); k >= 0 {
		rest, query = rest[:k], rest[k+1:]
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return Data{}, errData(ErrDigitalLink, "the URI has no domain or no path, so no GS1 Digital Link key")
	}
	if i := strings.IndexAny(rest[:slash], badDomainChars); i >= 0 {
		return Data{}, errData(ErrDigitalLink, "the domain holds "+strconv.QuoteRune(rune(rest[i]))+", which a host name cannot")
	}
	path := rest[slash+1:]
	path = strings.TrimSuffix(path, "/")
	segs := strings.Split(path, "/")

	key := -1
	for i := len(segs) - 2; i >= 0; i -= 2 {
		e := aiTable.get(segs[i])
		if e == nil {
			break
		}
		if e.dlKey {
			key = i
			break
		}
	}
	if key < 0 {
		return Data{}, errData(ErrDigitalLink, "no GS1 Digital Link key (such as /01/ for a GTIN or /00/ for an SSCC) in the path")
	}
	var buf [maxStackElements]Element
	els := buf[:0]
	ke := aiTable.get(segs[key])
	for i := key; i+1 < len(segs); i += 2 {
		v, err := pctDecode(segs[i], segs[i+1])
		if err != nil {
			return Data{}, err
		}
		els = append(els, Element{AI: segs[i], Value: v})
	}
	if err := checkQualifiers(ke, els[1:]); err != nil {
		return Data{}, err
	}
	pathEls := len(els)
	for query != "" {
		var p string
		p, query, _ = strings.Cut(query, "&")
		k, v, hasEq := strings.Cut(p, "=")
		if k == "" || strings.Trim(k, "0123456789") != "" {
			continue // not an AI: linkType, context, tracking parameters ...
		}
		e := aiTable.get(k)
		if e == nil {
			return Data{}, errAI(k, ErrUnknownAI, "in the query: no such AI in the GS1 syntax dictionary")
		}
		if !hasEq {
			return Data{}, errAI(k, ErrTooShort, "has no value in the query")
		}
		if seen(els, e.ai) {
			return Data{}, errAI(k, ErrDuplicateAI, "given twice in the link")
		}
		if !e.dlAttr {
			return Data{}, errAI(k, ErrDigitalLink, "not allowed as a Digital Link query attribute (it belongs in the path, or not in a link at all)")
		}
		if belongsInPath(ke, els[1:pathEls], e.ai) {
			return Data{}, errAI(k, ErrDigitalLink, "is a qualifier of the key AI ("+ke.ai+"): it should be in the path, not in the query")
		}
		v, err := pctDecodeQuery(k, v)
		if err != nil {
			return Data{}, err
		}
		els = append(els, Element{AI: e.ai, Value: v})
	}
	for _, el := range els {
		if err := aiTable.get(el.AI).validate(el.Value); err != nil {
			return Data{}, err
		}
	}
	if err := checkPairs(els); err != nil {
		return Data{}, err
	}
	out := make([]Element, len(els))
	copy(out, els)
	return Data{Elements: out}, nil
}

// checkQualifiers checks that the AIs after the key in the path follow one
// of the key's qualifier sequences, in order.
func checkQualifiers(key *entry, quals []Element) error {
	if len(quals) == 0 {
		return nil
	}
	if len(key.dlQuals) == 0 {
		return errAI(key.ai, ErrDigitalLink, "takes no qualifier in a Digital Link path, but AI ("+quals[0].AI+") follows it")
	}
	for _, seq := range key.dlQuals {
		if isSubsequence(quals, seq) {
			return nil
		}
	}
	alts := make([]string, len(key.dlQuals))
	for i, seq := range key.dlQuals {
		alts[i] = strings.Join(seq, ", ")
	}
	got := make([]string, len(quals))
	for i, q := range quals {
		got[i] = q.AI
	}
	return errAI(key.ai, ErrDigitalLink, "the path qualifiers "+strings.Join(got, ", ")+
		" are not in a valid order; after this key the path may hold, in this order, "+strings.Join(alts, " or "))
}

// belongsInPath reports whether ai, put among the path's qualifiers at
// some place, would still make a valid qualifier sequence for the key:
// then it is a qualifier written in the query.
func belongsInPath(key *entry, quals []Element, ai string) bool {
	trial := make([]Element, len(quals)+1)
	for at := 0; at <= len(quals); at++ {
		copy(trial, quals[:at])
		trial[at] = Element{AI: ai}
		copy(trial[at+1:], quals[at:])
		for _, seq := range key.dlQuals {
			if isSubsequence(trial, seq) {
				return true
			}
		}
	}
	return false
}

// badDomainChars are the URI characters a host name cannot hold.
const badDomainChars = "_~?#@!$&'()*+,;=%"

// isURIChar reports whether RFC 3986 allows r in a URI, a
// percent-encoding's '%' included.
func isURIChar(r rune) bool {
	if r < 0x80 && isAlnum(byte(r)) {
		return true
	}
	return r < 0x80 && strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", byte(r)) >= 0
}

func isSubsequence(quals []Element, seq []string) bool {
	j := 0
	for _, q := range quals {
		for j < len(seq) && seq[j] != q.AI {
			j++
		}
		if j == len(seq) {
			return false
		}
		j++
	}
	return true
}

// pctDecodeQuery decodes a query value: percent-encoding, and '+' as a
// space (a space is in no GS1 character set, so such a value is refused
// when it is checked).
func pctDecodeQuery(ai, s string) (string, error) {
	return pctDecode(ai, strings.ReplaceAll(s, "+", " "))
}

// pctDecode undoes percent-encoding; it returns s itself when there is
// none. An encoded NUL is refused.
func pctDecode(ai, s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", errAI(ai, ErrDigitalLink, "bad percent-encoding at position "+strconv.Itoa(i+1)+" of the value")
		}
		c := byte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		if c == 0 {
			return "", errAI(ai, ErrDigitalLink, "an encoded NUL (%00) at position "+strconv.Itoa(i+1)+" of the value")
		}
		b = append(b, c)
		i += 2
	}
	return string(b), nil
}

// pctEncode percent-encodes every byte outside the URI unreserved set
// (A-Z a-z 0-9 - . _ ~), as GS1 Digital Link requires.
func pctEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// DigitalLink renders the data as a GS1 Digital Link URI on base (""
// means https://id.gs1.org; any stem may follow the domain). The first
// element that is a Digital Link primary key goes in the path with its
// qualifiers in the fixed order (for a GTIN: 22, 10, 21); every other
// element becomes a query attribute, which the dictionary must allow.
func (d Data) DigitalLink(base string) (string, error) {
	if base == "" {
		base = DefaultDigitalLinkBase
	}
	base = strings.TrimRight(base, "/")
	if !isURI(base) {
		return "", errData(ErrDigitalLink, "the Digital Link base must start with https:// or http://")
	}
	if err := Validate(d.Elements); err != nil {
		return "", err
	}
	var key *entry
	keyAt := -1
	for i, el := range d.Elements {
		if e := aiTable.get(el.AI); e.dlKey {
			key, keyAt = e, i
			break
		}
	}
	if key == nil {
		return "", errData(ErrNoDigitalLinkKey, "the data has no AI that can be a Digital Link key (such as (01) or (00))")
	}
	// The qualifier sequence that covers most of the data.
	var seq []string
	best := -1
	for _, s := range key.dlQuals {
		n := 0
		for _, q := range s {
			if _, ok := d.Value(q); ok {
				n++
			}
		}
		if n > best {
			seq, best = s, n
		}
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('/')
	b.WriteString(key.ai)
	b.WriteByte('/')
	pctEncode(&b, d.Elements[keyAt].Value)
	used := func(ai string) bool {
		if ai == key.ai {
			return true
		}
		for _, q := range seq {
			if q == ai {
				return true
			}
		}
		return false
	}
	for _, q := range seq {
		if v, ok := d.Value(q); ok {
			b.WriteByte('/')
			b.WriteString(q)
			b.WriteByte('/')
			pctEncode(&b, v)
		}
	}
	sep := byte('?')
	for i, el := range d.Elements {
		if used(el.AI) || seen(d.Elements[:i], el.AI) {
			continue
		}
		if !aiTable.get(el.AI).dlAttr {
			return "", errAI(el.AI, ErrDigitalLink, "cannot be written in a Digital Link URI with key AI ("+key.ai+")")
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(el.AI)
		b.WriteByte('=')
		pctEncode(&b, el.Value)
	}
	return b.String(), nil
}

func seen(els []Element, ai string) bool {
	for _, e := range els {
		if e.AI == ai {
			return true
		}
	}
	return false
}
