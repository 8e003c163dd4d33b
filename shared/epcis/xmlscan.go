package epcis

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xscan is the XML tokenizer of the 1.2 decoder: one pass over the input
// (copied once into a string; names, and values without entities or
// carriage returns, are views of it), feeding a treeBuilder. It accepts
// what encoding/xml accepts in strict mode for the documents EPCIS uses
// — the same names, entities, character checks, comments, CDATA,
// processing instructions and XML declaration (version 1.0, encoding
// UTF-8 or US-ASCII) — and refuses document type declarations: EPCIS
// needs none, and refusing them keeps entity definitions out. A test
// compares it with encoding/xml on the fuzz corpus.
type xscan struct {
	s     string
	i     int
	ctx   context.Context
	attrs []rawAttr // scratch for one start tag
	buf   []byte    // scratch for text that needs decoding
}

var errXMLEOF = errors.New("unexpected end of document")

func (x *xscan) tree(b *treeBuilder) (*xnode, error) {
	for tokens := 1; x.i < len(x.s); tokens++ {
		if tokens%timeCheckEvery == 0 && x.ctx.Err() != nil {
			return nil, outOfTime(x.ctx)
		}
		if x.s[x.i] != '<' {
			t, err := x.text(0, false)
			if err != nil {
				return nil, err
			}
			if err := b.chars(t); err != nil {
				return nil, err
			}
			continue
		}
		x.i++
		if x.i >= len(x.s) {
			return nil, errXMLEOF
		}
		var err error
		switch x.s[x.i] {
		case '/':
			x.i++
			err = x.endTag(b)
		case '?':
			x.i++
			err = x.procInst()
		case '!':
			x.i++
			err = x.bang(b)
		default:
			err = x.startTag(b)
		}
		if err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// name reads an XML name: ASCII name bytes and any non-ASCII bytes (the
// tree builder checks them).
func (x *xscan) name() string {
	j := x.i
	for j < len(x.s) {
		c := x.s[j]
		if c < utf8.RuneSelf && !isXMLNameByte(c) {
			break
		}
		j++
	}
	n := x.s[x.i:j]
	x.i = j
	return n
}

func isXMLNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
}

// qualified splits a name at its colon as encoding/xml does: more than
// one colon is an error; a colon first or last leaves the whole name
// local.
func qualified(n string) (prefix, local string, ok bool) {
	if n == "" || !validXMLName(n) || strings.Count(n, ":") > 1 {
		return "", "", false
	}
	if p, l, found := strings.Cut(n, ":"); found && p != "" && l != "" {
		return p, l, true
	}
	return "", n, true
}

// validXMLName checks the name production for ASCII names; other names
// are left to validQName in the tree builder, which checks each part.
func validXMLName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf {
			return utf8.ValidString(n)
		}
	}
	c := n[0]
	return c == '_' || c == ':' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

func (x *xscan) space() {
	for x.i < len(x.s) {
		switch x.s[x.i] {
		case ' ', '\r', '\n', '\t':
			x.i++
		default:
			return
		}
	}
}

func (x *xscan) startTag(b *treeBuilder) error {
	prefix, local, ok := qualified(x.name())
	if !ok {
		return errors.New("expected element name after <")
	}
	x.attrs = x.attrs[:0]
	for {
		x.space()
		if x.i >= len(x.s) {
			return errXMLEOF
		}
		switch x.s[x.i] {
		case '/':
			x.i++
			if x.i >= len(x.s) {
				return errXMLEOF
			}
			if x.s[x.i] != '>' {
				return errors.New("expected /> in element")
			}
			x.i++
			if err := b.start(prefix, local, x.attrs); err != nil {
				return err
			}
			return b.end(prefix, local)
		case '>':
			x.i++
			return b.start(prefix, local, x.attrs)
		}
		ap, al, ok := qualified(x.name())
		if !ok {
			return errors.New("expected attribute name in element")
		}
		x.space()
		if x.i >= len(x.s) {
			return errXMLEOF
		}
		if x.s[x.i] != '=' {
			return errors.New("attribute name without = in element")
		}
		x.i++
		x.space()
		if x.i >= len(x.s) {
			return errXMLEOF
		}
		q := x.s[x.i]
		if q != '"' && q != '\'' {
			return errors.New("unquoted or missing attribute value in element")
		}
		x.i++
		v, err := x.text(q, false)
		if err != nil {
			return err
		}
		x.attrs = append(x.attrs, rawAttr{prefix: ap, local: al, value: v})
	}
}

func (x *xscan) endTag(b *treeBuilder) error {
	prefix, local, ok := qualified(x.name())
	if !ok {
		return errors.New("expected element name after </")
	}
	x.space()
	if x.i >= len(x.s) {
		return errXMLEOF
	}
	if x.s[x.i] != '>' {
		return fmt.Errorf("invalid characters between </%s and >", local)
	}
	x.i++
	return b.end(prefix, local)
}

// procInst skips a processing instruction; the XML declaration's version
// must be 1.0 and its encoding UTF-8 or US-ASCII.
func (x *xscan) procInst() error {
	target := x.name()
	if target == "" || !validXMLName(target) || !utf8ASCII(target) && !piTarget(target) {
		return errors.New("expected target name after <?")
	}
	x.space()
	k := strings.Index(x.s[x.i:], "?>")
	if k < 0 {
		return errXMLEOF
	}
	content := x.s[x.i : x.i+k]
	x.i += k + 2
	if target != "xml" {
		return nil
	}
	if v := declParam(content, "version"); v != "" && v != "1.0" {
		return fmt.Errorf("unsupported XML version %q", v)
	}
	if e := declParam(content, "encoding"); e != "" && !strings.EqualFold(e, "utf-8") && !strings.EqualFold(e, "us-ascii") {
		return fmt.Errorf("unsupported encoding %q", e)
	}
	return nil
}

func utf8ASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// piTarget checks a non-ASCII processing-instruction target with
// encoding/xml's own name rules (rare: it is not worth a Unicode table).
func piTarget(t string) bool {
	tok, err := xml.NewDecoder(strings.NewReader("<?" + t + "?>")).RawToken()
	pi, ok := tok.(xml.ProcInst)
	return err == nil && ok && pi.Target == t
}

// declParam finds name="value" (or 'value') in an XML declaration: the
// first "name=" directly followed by a quote.
func declParam(s, name string) string {
	key := name + "="
	for i := 0; ; {
		k := strings.Index(s[i:], key)
		if k < 0 || i+k+len(key) >= len(s) {
			return ""
		}
		at := i + k + len(key)
		if q := s[at]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[at+1:], q)
			if end < 0 {
				return ""
			}
			return s[at+1 : at+1+end]
		}
		i = at + 1
	}
}

// bang reads what follows "<!": a comment or a CDATA section. A document
// type declaration is refused.
func (x *xscan) bang(b *treeBuilder) error {
	switch {
	case strings.HasPrefix(x.s[x.i:], "--"):
		x.i += 2
		k := strings.Index(x.s[x.i:], "--")
		if k < 0 {
			return errXMLEOF
		}
		x.i += k + 2
		if x.i >= len(x.s) {
			return errXMLEOF
		}
		if x.s[x.i] != '>' {
			return errors.New(`invalid sequence "--" not allowed in comments`)
		}
		x.i++
		return nil
	case strings.HasPrefix(x.s[x.i:], "[CDATA["):
		x.i += len("[CDATA[")
		t, err := x.text(0, true)
		if err != nil {
			return err
		}
		return b.chars(t)
	case x.i < len(x.s) && x.s[x.i] == '-':
		return errors.New("invalid sequence <!- not part of <!--")
	case x.i < len(x.s) && x.s[x.i] == '[':
		return errors.New("invalid <![ sequence")
	}
	return errors.New("document type declarations (<!DOCTYPE …>) are not accepted")
}

// text reads character data up to '<' (quote 0, not cdata), up to the
// closing quote of an attribute value, or up to "]]>" of a CDATA
// section, and returns it decoded: entities, \r and \r\n as \n. Every
// character must be a valid XML character in valid UTF-8.
func (x *xscan) text(quote byte, cdata bool) (string, error) {
	s, start := x.s, x.i
	// The plain case: no entity, no carriage return, all characters
	// valid. The text is then a view of the input.
	i := start
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<' && !cdata:
				if quote != 0 {
					return "", errors.New("unescaped < inside quoted string")
				}
				x.i = i
				return s[start:i], nil
			case c == quote && quote != 0:
				x.i = i + 1
				return s[start:i], nil
			case c == '>' && quote == 0 && i-start >= 2 && s[i-1] == ']' && s[i-2] == ']':
				if cdata {
					x.i = i + 1
					return s[start : i-2], nil
				}
				return "", errors.New("unescaped ]]> not in CDATA section")
			case c == '&' && !cdata, c == '\r':
				return x.slowText(quote, cdata)
			case c < 0x20 && c != '\t' && c != '\n':
				return "", fmt.Errorf("illegal character code %U", rune(c))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return "", errors.New("invalid UTF-8")
		}
		if !xmlChar(r) {
			return "", fmt.Errorf("illegal character code %U", r)
		}
		i += n
	}
	if cdata {
		return "", errors.New("unexpected EOF in CDATA section")
	}
	if quote != 0 {
		return "", errXMLEOF
	}
	x.i = i
	return s[start:i], nil
}

// slowText is text for data with entities or carriage returns: it
// decodes into a buffer, then checks the characters of the result.
func (x *xscan) slowText(quote byte, cdata bool) (string, error) {
	s := x.s
	buf := x.buf[:0]
	var b0, b1 byte // the previous two input bytes, for "]]>" and "\r\n"
	i := x.i
	done := false
	for !done {
		if i >= len(s) {
			if cdata {
				return "", errors.New("unexpected EOF in CDATA section")
			}
			if quote != 0 {
				return "", errXMLEOF
			}
			break
		}
		c := s[i]
		i++
		switch {
		case quote == 0 && b0 == ']' && b1 == ']' && c == '>':
			if !cdata {
				return "", errors.New("unescaped ]]> not in CDATA section")
			}
			buf = buf[:len(buf)-2]
			done = true
			continue
		case c == '<' && !cdata:
			if quote != 0 {
				return "", errors.New("unescaped < inside quoted string")
			}
			i--
			done = true
			continue
		case quote != 0 && c == quote:
			done = true
			continue
		case c == '&' && !cdata:
			r, n, err := entity(s[i:])
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
			i += n
			b0, b1 = 0, 0
			continue
		case c == '\r':
			buf = append(buf, '\n')
		case c == '\n' && b1 == '\r':
		default:
			buf = append(buf, c)
		}
		b0, b1 = b1, c
	}
	x.i = i
	x.buf = buf
	for j := 0; j < len(buf); {
		r, n := utf8.DecodeRune(buf[j:])
		if r == utf8.RuneError && n == 1 {
			return "", errors.New("invalid UTF-8")
		}
		if !xmlChar(r) {
			return "", fmt.Errorf("illegal character code %U", r)
		}
		j += n
	}
	return string(buf), nil
}

// entity decodes the reference after '&' at the start of s: &#NN;,
// &#xHH; or one of the five predefined names. It returns the character
// and the bytes read. A code point out of range is an error; a surrogate
// becomes U+FFFD, as encoding/xml has it.
func entity(s string) (rune, int, error) {
	semi := strings.IndexByte(s, ';')
	if semi < 0 {
		return 0, 0, errors.New("invalid character entity (no semicolon)")
	}
	ref := s[:semi]
	bad := func() (rune, int, error) {
		return 0, 0, fmt.Errorf("invalid character entity &%s;", ref)
	}
	if strings.HasPrefix(ref, "#") {
		digits, base := ref[1:], 10
		if strings.HasPrefix(digits, "x") {
			digits, base = digits[1:], 16
		}
		for i := 0; i < len(digits); i++ {
			c := digits[i]
			if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
				return bad()
			}
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil || n > utf8.MaxRune {
			return bad()
		}
		r := rune(n)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		return r, semi + 1, nil
	}
	switch ref {
	case "lt":
		return '<', semi + 1, nil
	case "gt":
		return '>', semi + 1, nil
	case "amp":
		return '&', semi + 1, nil
	case "apos":
		return '\'', semi + 1, nil
	case "quot":
		return '"', semi + 1, nil
	}
	return bad()
}

// xmlChar is the Char production of XML 1.0.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
