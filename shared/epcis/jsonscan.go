package epcis

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jscan is a small pull scanner over a JSON byte slice. It is written for
// the EPCIS decoder: no reflection, no intermediate maps, one allocation
// per string value. The first syntax error stops it; every method is a
// no-op afterwards.
type jscan struct {
	b   string // the input, copied once; unescaped strings are slices of it
	i   int
	err string // first syntax error
	at  int    // its offset

	// Bounds (Limits): members and items read so far against maxNodes,
	// the nesting of skipped and generic values against maxDepth, and
	// ctx, looked at every timeCheckEvery nodes. stop is the first bound
	// passed; it ends the scan as a syntax error does.
	ctx             context.Context
	nodes, maxNodes int
	depth, maxDepth int
	stop            error
}

// over stops the scan at a bound.
func (s *jscan) over(err error) {
	if s.stop == nil {
		s.stop = err
	}
	s.fail(err.Error())
}

// count takes one node against the bounds.
func (s *jscan) count() bool {
	s.nodes++
	if s.maxNodes > 0 && s.nodes > s.maxNodes {
		s.over(tooLarge("more than %d JSON values", s.maxNodes))
		return false
	}
	if s.ctx != nil && s.nodes%timeCheckEvery == 0 && s.ctx.Err() != nil {
		s.over(outOfTime(s.ctx))
		return false
	}
	return true
}

// deeper enters one level of nesting; the caller calls s.depth-- after.
func (s *jscan) deeper() bool {
	s.depth++
	if s.depth > s.depthLimit() {
		s.over(tooLarge("JSON nested more than %d deep", s.depthLimit()))
		return false
	}
	return true
}

func (s *jscan) depthLimit() int {
	if s.maxDepth > 0 {
		return s.maxDepth
	}
	return maxDepth
}

func (s *jscan) fail(why string) {
	if s.err == "" {
		s.err, s.at = why, s.i
	}
	s.i = len(s.b)
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *jscan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jscan) expect(c byte) bool {
	if s.peek() != c {
		if s.err == "" {
			if s.i >= len(s.b) {
				s.fail("unexpected end of input, want " + strconv.QuoteRune(rune(c)))
			} else {
				s.fail("unexpected " + strconv.QuoteRune(rune(s.b[s.i])) + ", want " + strconv.QuoteRune(rune(c)))
			}
		}
		return false
	}
	s.i++
	return true
}

// objStart consumes '{'. Then call more() before each member.
func (s *jscan) objStart() bool { return s.expect('{') }

// more reports whether another member or item follows, consuming the
// separating comma; it consumes the closing bracket when there is none.
// first must start true.
func (s *jscan) more(first *bool, closer byte) bool {
	c := s.peek()
	if c == closer {
		s.i++
		return false
	}
	if !*first {
		if c != ',' {
			if s.err == "" {
				s.fail("want ',' or " + strconv.QuoteRune(rune(closer)))
			}
			return false
		}
		s.i++
		s.ws()
	}
	*first = false
	if s.err != "" {
		return false
	}
	return s.count()
}

// key reads a member name and the colon after it.
func (s *jscan) key() string {
	if s.peek() != '"' {
		s.fail("want a member name")
		return ""
	}
	k := s.str()
	s.expect(':')
	return k
}

// str reads a string value; the next non-space byte must be '"'.
func (s *jscan) str() string {
	if s.peek() != '"' {
		s.fail("want a string")
		return ""
	}
	s.i++
	start := s.i
	q := strings.IndexByte(s.b[start:], '"')
	if q < 0 {
		s.fail("unterminated string")
		return ""
	}
	seg := s.b[start : start+q]
	if plainASCII(seg) {
		s.i = start + q + 1
		return seg
	}
	return s.strSlow(start)
}

// plainASCII reports whether s holds only printable ASCII other than the
// backslash, so a JSON string of it needs no unescaping or UTF-8 check.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c-0x20 >= 0x60 || c == '\\' {
			return false
		}
	}
	return true
}

func (s *jscan) strSlow(start int) string {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out)
		case c < 0x20:
			s.fail("control character in string")
			return ""
		case c == '\\':
			if s.i+1 >= len(s.b) {
				s.fail("unterminated escape")
				return ""
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return ""
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(utf8.RuneError)
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						s.i += 2
						lo, ok := s.hex4()
						if !ok {
							return ""
						}
						r2 = utf16.DecodeRune(r, lo)
					}
					r = r2
				}
				out = utf8.AppendRune(out, r)
			default:
				s.fail("bad escape")
				return ""
			}
		case c < 0x80:
			out = append(out, c)
			s.i++
		default:
			r, n := utf8.DecodeRuneInString(s.b[s.i:])
			if r == utf8.RuneError && n <= 1 {
				s.fail("invalid UTF-8 in string")
				return ""
			}
			out = append(out, s.b[s.i:s.i+n]...)
			s.i += n
		}
	}
	s.fail("unterminated string")
	return ""
}

func (s *jscan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		s.fail("short \\u escape")
		return 0, false
	}
	var r rune
	for j := s.i; j < s.i+4; j++ {
		h, ok := unhex(s.b[j])
		if !ok {
			s.fail("bad \\u escape")
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	s.i += 4
	return r, true
}

// number reads a number literal.
func (s *jscan) number() string {
	s.ws()
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	lit := s.b[start:s.i]
	if !isDecimal(lit) {
		s.i = start
		s.fail("bad number")
		return ""
	}
	return lit
}

func (s *jscan) word(w string) bool {
	s.ws()
	if len(s.b)-s.i >= len(w) && s.b[s.i:s.i+len(w)] == w {
		s.i += len(w)
		return true
	}
	s.fail("unexpected token")
	return false
}

// skip consumes one value of any kind.
func (s *jscan) skip() {
	switch s.peek() {
	case '{':
		s.i++
		if !s.deeper() {
			return
		}
		first := true
		for s.more(&first, '}') {
			s.key()
			s.skip()
		}
		s.depth--
	case '[':
		s.i++
		if !s.deeper() {
			return
		}
		first := true
		for s.more(&first, ']') {
			s.skip()
		}
		s.depth--
	case '"':
		s.str()
	case 't':
		s.word("true")
	case 'f':
		s.word("false")
	case 'n':
		s.word("null")
	case 0:
		s.fail("unexpected end of input")
	default:
		s.number()
	}
}

// value reads any value into a generic Value. Member names "p:local"
// keep their prefix; names starting with '@' (other than @value, which is
// an element's text) become attribute fields.
func (s *jscan) value(depth int) Value {
	if depth > s.depthLimit() {
		s.over(tooLarge("JSON value nested more than %d deep", s.depthLimit()))
		return Value{}
	}
	switch s.peek() {
	case '{':
		s.i++
		v := Value{Kind: KindObject}
		first := true
		for s.more(&first, '}') {
			k := s.key()
			if k == "@value" && s.peek() == '"' {
				v.Text = s.str()
				continue
			}
			f := splitName(k)
			f.Value = s.value(depth + 1)
			v.Fields = append(v.Fields, f)
		}
		return v
	case '[':
		s.i++
		v := Value{Kind: KindArray}
		first := true
		for s.more(&first, ']') {
			v.Items = append(v.Items, s.value(depth+1))
		}
		if v.Items == nil {
			v.Items = []Value{}
		}
		return v
	case '"':
		return Value{Kind: KindString, Text: s.str()}
	case 't':
		s.word("true")
		return Value{Kind: KindBool, Text: "true"}
	case 'f':
		s.word("false")
		return Value{Kind: KindBool, Text: "false"}
	case 'n':
		s.word("null")
		return Value{Kind: KindNull}
	case 0:
		s.fail("unexpected end of input")
		return Value{}
	}
	return Value{Kind: KindNumber, Text: s.number()}
}

// maxDepth bounds the nesting of generic values read from JSON. XML
// elements nest at most maxXMLDepth deep and each level can add an array
// (repeated elements), so whatever the XML decoder accepts reads back
// from its JSON-LD form.
const maxDepth = 2*maxXMLDepth + 8

// splitName turns a JSON member name into a Field name: "@x" is an
// attribute, "p:l" has prefix p.
func splitName(k string) Field {
	var f Field
	if len(k) > 1 && k[0] == '@' && k != "@context" && k != "@value" {
		f.Attr = true
		k = k[1:]
	}
	for i := 0; i < len(k); i++ {
		if k[i] == ':' {
			if i > 0 && i < len(k)-1 {
				f.Prefix, f.Local = k[:i], k[i+1:]
				return f
			}
			break
		}
	}
	f.Local = k
	return f
}
