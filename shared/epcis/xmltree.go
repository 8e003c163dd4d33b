package epcis

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XML namespaces of EPCIS 1.2 and the headers it carries.
const (
	NSEPCIS      = "urn:epcglobal:epcis:xsd:1"
	NSEPCISQuery = "urn:epcglobal:epcis-query:xsd:1"
	NSSBDH       = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
	NSXSI        = "http://www.w3.org/2001/XMLSchema-instance"
	NSCBVMDA     = "urn:epcglobal:cbv:mda"
	NSGS1USHC    = "http://epcis.gs1us.org/hc/ns"
)

// xnode is one XML element, with namespaces resolved and prefixes kept.
type xnode struct {
	space, prefix, local string
	attrs                []xattr
	kids                 []*xnode
	text                 string
	decls                []Namespace // xmlns declarations made on this element
}

type xattr struct {
	space, prefix, local, value string
}

// maxXMLDepth bounds element nesting.
const maxXMLDepth = 128

// parseXMLTree reads a whole XML document into a tree. It resolves
// namespaces itself (encoding/xml's resolved names lose the prefix) and
// checks that end tags match. It stops with an error wrapping
// ErrTooLarge at the first element past the limits (depth, nodes,
// events: an element directly in an EventList or in its extension
// wrappers) or when ctx ends; other errors are syntax.
func parseXMLTree(ctx context.Context, data []byte, l Limits) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	// The open elements, innermost last. Frames are values, and a popped
	// frame's text buffer is reused by the next element at its depth.
	type frame struct {
		n     *xnode
		scope map[string]string
		text  []byte
		// events: this element's children are events (an EventList, or
		// an extension wrapper inside one).
		events bool
	}
	var stack []frame
	var root *xnode
	rootScope := map[string]string{"xml": "http://www.w3.org/XML/1998/namespace"}
	depth := l.xmlDepth()
	nodes, events, tokens := 0, 0, 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if tokens++; tokens%timeCheckEvery == 0 && ctx.Err() != nil {
			return nil, outOfTime(ctx)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= depth {
				return nil, tooLarge("XML elements nested more than %d deep", depth)
			}
			if nodes += 1 + len(t.Attr); nodes > l.MaxNodes {
				return nil, tooLarge("more than %d XML elements and attributes", l.MaxNodes)
			}
			inEvents := len(stack) > 0 && stack[len(stack)-1].events
			if inEvents && t.Name.Local != "extension" {
				if events++; events > l.MaxEvents {
					return nil, tooLarge("more than %d events", l.MaxEvents)
				}
			}
			if root != nil && len(stack) == 0 {
				return nil, errors.New("more than one root element")
			}
			parent := rootScope
			if len(stack) > 0 {
				parent = stack[len(stack)-1].scope
			}
			scope := parent
			cloned := false
			n := &xnode{prefix: t.Name.Space, local: t.Name.Local}
			if !validQName(n.prefix, n.local) {
				return nil, fmt.Errorf("bad element name %q", qname(n.prefix, n.local))
			}
			for _, a := range t.Attr {
				if !validQName(a.Name.Space, a.Name.Local) {
					return nil, fmt.Errorf("bad attribute name %q", qname(a.Name.Space, a.Name.Local))
				}
				switch {
				case a.Name.Space == "xmlns":
					if a.Value == "" {
						return nil, fmt.Errorf("empty namespace for prefix %q", a.Name.Local)
					}
					if !cloned {
						scope, cloned = cloneScope(parent), true
					}
					scope[a.Name.Local] = a.Value
					n.decls = append(n.decls, Namespace{Prefix: a.Name.Local, IRI: a.Value})
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if !cloned {
						scope, cloned = cloneScope(parent), true
					}
					scope[""] = a.Value
					n.decls = append(n.decls, Namespace{Prefix: "", IRI: a.Value})
				}
			}
			var ok bool
			if n.space, ok = scope[n.prefix]; !ok && n.prefix != "" {
				return nil, fmt.Errorf("undeclared namespace prefix %q", n.prefix)
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				xa := xattr{prefix: a.Name.Space, local: a.Name.Local, value: a.Value}
				if xa.prefix != "" {
					if xa.space, ok = scope[xa.prefix]; !ok {
						return nil, fmt.Errorf("undeclared namespace prefix %q", xa.prefix)
					}
				}
				n.attrs = append(n.attrs, xa)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1].n
				p.kids = append(p.kids, n)
			} else {
				root = n
			}
			f := frame{n: n, scope: scope, events: t.Name.Local == "EventList" || inEvents && t.Name.Local == "extension"}
			if len(stack) < cap(stack) {
				f.text = stack[:len(stack)+1][len(stack)].text[:0]
			}
			stack = append(stack, f)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errors.New("unexpected end tag")
			}
			f := &stack[len(stack)-1]
			if t.Name.Space != f.n.prefix || t.Name.Local != f.n.local {
				return nil, fmt.Errorf("end tag </%s> does not match <%s>", qname(t.Name.Space, t.Name.Local), qname(f.n.prefix, f.n.local))
			}
			f.n.text = string(bytes.TrimSpace(f.text))
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				f := &stack[len(stack)-1]
				f.text = append(f.text, t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if len(stack) > 0 {
		return nil, errors.New("unexpected end of document")
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

func cloneScope(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// attr returns the value of an unqualified attribute.
func (n *xnode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.space == "" && a.local == local {
			return a.value, true
		}
	}
	return "", false
}

// is reports whether n is the element local in no namespace or in one of
// the EPCIS namespaces (1.2 documents put event children in none).
func (n *xnode) is(local string) bool {
	return n.local == local && (n.space == "" || n.space == NSEPCIS || n.space == NSEPCISQuery)
}

// toField converts an element to a generic Field: text-only elements
// become strings; elements with attributes or children become objects
// whose attributes are Attr fields; repeated children become arrays.
func (n *xnode) toField(depth int) Field {
	return Field{Space: n.space, Prefix: n.prefix, Local: n.local, Value: n.toValue(depth)}
}

func (n *xnode) toValue(depth int) Value {
	if len(n.attrs) == 0 && len(n.kids) == 0 {
		return String(n.text)
	}
	v := Value{Kind: KindObject, Text: n.text}
	for _, a := range n.attrs {
		v.Fields = append(v.Fields, Field{Space: a.space, Prefix: a.prefix, Local: a.local, Attr: true, Value: String(a.value)})
	}
	for _, k := range n.kids {
		addGrouped(&v.Fields, k.toField(depth+1))
	}
	return v
}

// addGrouped appends f, turning a repeated element name into an array.
func addGrouped(fs *[]Field, f Field) {
	for i := range *fs {
		g := &(*fs)[i]
		if !g.Attr && g.Space == f.Space && g.Local == f.Local {
			if g.Value.Kind != KindArray {
				g.Value = Value{Kind: KindArray, Items: []Value{g.Value}}
			}
			g.Value.Items = append(g.Value.Items, f.Value)
			return
		}
	}
	*fs = append(*fs, f)
}

// validQName checks a prefix (may be empty) and a local name.
func validQName(prefix, local string) bool {
	return (prefix == "" || validNCName(prefix)) && validNCName(local)
}

// validNCName reports whether s can be an XML name without a colon. ASCII
// names are checked here; others are put to encoding/xml itself, so the
// encoder never writes a name the decoder refuses.
func validNCName(s string) bool {
	if s == "" {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			ascii = false
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case i > 0 && (c == '-' || c == '.' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	if ascii {
		return true
	}
	tok, err := xml.NewDecoder(strings.NewReader("<" + s + "/>")).RawToken()
	if err != nil {
		return false
	}
	se, ok := tok.(xml.StartElement)
	return ok && se.Name.Space == "" && se.Name.Local == s && len(se.Attr) == 0
}
