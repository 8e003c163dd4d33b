package epcis

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
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
	next                 *xnode // the next sibling, while the tree is built
	text                 string
	decls                []Namespace // xmlns declarations made on this element
}

type xattr struct {
	space, prefix, local, value string
}

// maxXMLDepth bounds element nesting.
const maxXMLDepth = 128

// rawAttr is an attribute as written: prefix, local name, decoded value.
type rawAttr struct{ prefix, local, value string }

// treeBuilder assembles the tree from a tokenizer's elements and text. It
// resolves namespaces itself (keeping prefixes), checks names and that
// end tags match, and enforces the limits: depth, nodes, and events (an
// element directly in an EventList or in its extension wrappers).
type treeBuilder struct {
	l         Limits
	depth     int
	stack     []frame
	root      *xnode
	rootScope map[string]string
	nodes     int
	events    int
	slab      []xnode
	kidSlab   []*xnode
}

// frame is an open element. Its text is the concatenation of its
// character data: text holds it while it is one piece (a view of the
// input), buf once pieces have to be joined.
type frame struct {
	n *xnode
	// The children so far, linked through next; end gives the element
	// its kids slice, of the exact size, carved from a slab.
	first, last *xnode
	nkids       int
	scope       map[string]string
	text        string
	buf         []byte
	joined      bool
	// events: this element's children are events (an EventList, or an
	// extension wrapper inside one).
	events bool
}

func newTreeBuilder(l Limits) *treeBuilder {
	return &treeBuilder{l: l, depth: l.xmlDepth(), rootScope: map[string]string{"xml": "http://www.w3.org/XML/1998/namespace"}}
}

func (b *treeBuilder) node() *xnode {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]xnode, 0, 256)
	}
	b.slab = b.slab[:len(b.slab)+1]
	return &b.slab[len(b.slab)-1]
}

func (b *treeBuilder) start(prefix, local string, attrs []rawAttr) error {
	stack := b.stack
	if len(stack) >= b.depth {
		return tooLarge("XML elements nested more than %d deep", b.depth)
	}
	if b.nodes += 1 + len(attrs); b.nodes > b.l.MaxNodes {
		return tooLarge("more than %d XML elements and attributes", b.l.MaxNodes)
	}
	inEvents := len(stack) > 0 && stack[len(stack)-1].events
	if inEvents && local != "extension" {
		if b.events++; b.events > b.l.MaxEvents {
			return tooLarge("more than %d events", b.l.MaxEvents)
		}
	}
	if b.root != nil && len(stack) == 0 {
		return errors.New("more than one root element")
	}
	parent := b.rootScope
	if len(stack) > 0 {
		parent = stack[len(stack)-1].scope
	}
	scope := parent
	cloned := false
	n := b.node()
	n.prefix, n.local = prefix, local
	if !validQName(n.prefix, n.local) {
		return fmt.Errorf("bad element name %q", qname(n.prefix, n.local))
	}
	plain := 0
	for _, a := range attrs {
		if !validQName(a.prefix, a.local) {
			return fmt.Errorf("bad attribute name %q", qname(a.prefix, a.local))
		}
		switch {
		case a.prefix == "xmlns":
			if a.value == "" {
				return fmt.Errorf("empty namespace for prefix %q", a.local)
			}
			if !cloned {
				scope, cloned = cloneScope(parent), true
			}
			scope[a.local] = a.value
			n.decls = append(n.decls, Namespace{Prefix: a.local, IRI: a.value})
		case a.prefix == "" && a.local == "xmlns":
			if !cloned {
				scope, cloned = cloneScope(parent), true
			}
			scope[""] = a.value
			n.decls = append(n.decls, Namespace{Prefix: "", IRI: a.value})
		default:
			plain++
		}
	}
	var ok bool
	if n.space, ok = scope[n.prefix]; !ok && n.prefix != "" {
		return fmt.Errorf("undeclared namespace prefix %q", n.prefix)
	}
	if plain > 0 {
		n.attrs = make([]xattr, 0, plain)
	}
	for _, a := range attrs {
		if a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns" {
			continue
		}
		xa := xattr{prefix: a.prefix, local: a.local, value: a.value}
		if xa.prefix != "" {
			if xa.space, ok = scope[xa.prefix]; !ok {
				return fmt.Errorf("undeclared namespace prefix %q", xa.prefix)
			}
		}
		n.attrs = append(n.attrs, xa)
	}
	if len(stack) > 0 {
		p := &stack[len(stack)-1]
		if p.last == nil {
			p.first = n
		} else {
			p.last.next = n
		}
		p.last = n
		p.nkids++
	} else {
		b.root = n
	}
	f := frame{n: n, scope: scope, events: local == "EventList" || inEvents && local == "extension"}
	if len(stack) < cap(stack) {
		f.buf = stack[:len(stack)+1][len(stack)].buf[:0]
	}
	b.stack = append(stack, f)
	return nil
}

func (b *treeBuilder) end(prefix, local string) error {
	if len(b.stack) == 0 {
		return errors.New("unexpected end tag")
	}
	f := &b.stack[len(b.stack)-1]
	if prefix != f.n.prefix || local != f.n.local {
		return fmt.Errorf("end tag </%s> does not match <%s>", qname(prefix, local), qname(f.n.prefix, f.n.local))
	}
	if f.joined {
		f.n.text = string(bytes.TrimSpace(f.buf))
	} else {
		f.n.text = strings.TrimSpace(f.text)
	}
	if f.nkids > 0 {
		if cap(b.kidSlab)-len(b.kidSlab) < f.nkids {
			b.kidSlab = make([]*xnode, 0, max(1024, f.nkids))
		}
		start := len(b.kidSlab)
		for k := f.first; k != nil; k = k.next {
			b.kidSlab = append(b.kidSlab, k)
		}
		f.n.kids = b.kidSlab[start:len(b.kidSlab):len(b.kidSlab)]
		for _, k := range f.n.kids {
			k.next = nil
		}
	}
	b.stack = b.stack[:len(b.stack)-1]
	return nil
}

// chars takes a piece of character data (entities decoded).
func (b *treeBuilder) chars(t string) error {
	if len(b.stack) == 0 {
		if strings.TrimSpace(t) != "" {
			return errors.New("text outside the root element")
		}
		return nil
	}
	f := &b.stack[len(b.stack)-1]
	switch {
	case f.joined:
		f.buf = append(f.buf, t...)
	case f.text == "" || strings.TrimSpace(f.text) == "":
		// Leading white space is trimmed in the end anyway.
		f.text = t
	default:
		f.buf = append(append(f.buf[:0], f.text...), t...)
		f.joined = true
	}
	return nil
}

func (b *treeBuilder) finish() (*xnode, error) {
	if len(b.stack) > 0 {
		return nil, errors.New("unexpected end of document")
	}
	if b.root == nil {
		return nil, errors.New("no root element")
	}
	return b.root, nil
}

// parseXMLTree reads a whole XML document into a tree (treeBuilder) with
// the package's own tokenizer (xscan). It stops with an error wrapping
// ErrTooLarge at the first element past the limits or when ctx ends;
// other errors are syntax.
func parseXMLTree(ctx context.Context, data []byte, l Limits) (*xnode, error) {
	x := xscan{s: string(data), ctx: ctx}
	return x.tree(newTreeBuilder(l))
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
