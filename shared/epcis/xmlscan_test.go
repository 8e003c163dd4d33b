package epcis

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// stdTree builds the tree with encoding/xml's tokenizer (strict, UTF-8
// and US-ASCII only): the reference xscan is held to.
func stdTree(data []byte) (*xnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	b := newTreeBuilder(DefaultLimits())
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return b.finish()
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			attrs := make([]rawAttr, len(t.Attr))
			for i, a := range t.Attr {
				attrs[i] = rawAttr{prefix: a.Name.Space, local: a.Name.Local, value: a.Value}
			}
			err = b.start(t.Name.Space, t.Name.Local, attrs)
		case xml.EndElement:
			err = b.end(t.Name.Space, t.Name.Local)
		case xml.CharData:
			err = b.chars(string(t))
		case xml.Directive:
			err = errDirective
		}
		if err != nil {
			return nil, err
		}
	}
}

var errDirective = errors.New("directive")

// sameTree compares what xscan and encoding/xml make of data: both
// refuse it, or both give the same tree. A document type declaration,
// which encoding/xml reads and xscan refuses, is the one difference.
func sameTree(t *testing.T, data []byte) {
	t.Helper()
	want, werr := stdTree(data)
	got, gerr := parseXMLTree(context.Background(), data, DefaultLimits())
	if errors.Is(werr, errDirective) {
		if gerr == nil {
			t.Fatalf("xscan accepts a declaration: %q", data)
		}
		return
	}
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("encoding/xml: %v; xscan: %v\ninput %q", werr, gerr, data)
	}
	if werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("trees differ for %q\nencoding/xml %s\nxscan        %s", data, dumpTree(want), dumpTree(got))
	}
}

func dumpTree(n *xnode) string {
	var b strings.Builder
	var walk func(n *xnode)
	walk = func(n *xnode) {
		fmt.Fprintf(&b, "<%s|%s|%s %v %v>%q", n.space, n.prefix, n.local, n.attrs, n.decls, n.text)
		for _, k := range n.kids {
			walk(k)
		}
		b.WriteString("</>")
	}
	walk(n)
	return b.String()
}

func TestXMLScanMatchesEncodingXML(t *testing.T) {
	cases := []string{
		`<a/>`, `<a></a>`, ` <a/> `, `<?xml version="1.0" encoding="UTF-8"?><a/>`, `<?xml version='1.0' encoding='us-ascii'?><a/>`,
		`<?xml version="1.1"?><a/>`, `<?xml encoding="latin1"?><a/>`, `<?xml encoding=latin1 encoding="utf-8"?><a/>`, `<?pi data?><a/>`, `<? x?><a/>`,
		`<a>x</a>`, `<a> x <b/> y </a>`, `<a>  <b/>  </a>`, `<a>x<!-- c -->y</a>`, `<a><![CDATA[<&>]]></a>`, `<a><![CDATA[x]]>y</a>`,
		`<a>]]></a>`, `<a b="]]>"/>`, `<a b="<"/>`, `<a b='x"y'/>`, `<a b="1"c="2"/>`, `<a b = "1" />`, `<a b/>`, `<a b=1/>`,
		`<a>&lt;&gt;&amp;&apos;&quot;</a>`, `<a>&#65;&#x42;&#X43;</a>`, `<a>&#0;</a>`, `<a>&#xD800;</a>`, `<a>&#x110000;</a>`, `<a>&#;</a>`,
		`<a>&bogus;</a>`, `<a>&lt</a>`, `<a>& x;</a>`, "<a>\r\n\rx\r</a>", "<a b=\"\r\n\"/>", "<a>\x01</a>", "<a>\x7f</a>", "<a>\xff</a>",
		"<a>\uFFFE</a>", "<a>é</a>", `<é/>`, `<a:b xmlns:a="u"/>`, `<a:b:c/>`, `<:a/>`, `<a:/>`, `<1a/>`, `<a.b-c_d/>`, `<a></b>`, `<a>`,
		`</a>`, `<a/><b/>`, `x<a/>`, `<a/>x`, `<a/>&#32;`, `<!-- c --><a/>`, `<!--- c --><a/>`, `<!-- a--b --><a/>`, `<!----><a/>`,
		`<!DOCTYPE a><a/>`, `<![CDATA[x]]><a/>`, `<a><![CDATA[x</a>`, `<a><!-x--></a>`, `<a><![CDAT[x]]></a>`, `<a b="1" b="2"/>`,
		`<a xmlns="u"><b/></a>`, `<a xmlns:p=""/>`, `<p:a/>`, `<a p:b="1"/>`, `<a/ >`, `</ a>`, `<a></a >`, `<a></a x>`, "\xef\xbb\xbf<a/>",
		`<a>x]]</a>`, `<a>]</a>`, `<a>]]]></a>`, `<a><![CDATA[]]]]></a>`, `<a>` + strings.Repeat("&amp;", 3) + `</a>`,
	}
	for _, c := range cases {
		sameTree(t, []byte(c))
	}
	// Every fixture and fuzz seed of the package.
	for _, glob := range []string{"testdata/valid/*.xml", "testdata/fuzz/FuzzDecodeXML/*"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(string(data), "go test fuzz v1\n") {
				continue // the seeds are Go literals; FuzzXMLScan reads them
			}
			sameTree(t, data)
		}
	}
}

// FuzzXMLScan holds xscan to encoding/xml: the same verdict and the same
// tree for any input.
func FuzzXMLScan(f *testing.F) {
	for _, s := range []string{`<a b="1">x<!--c--><![CDATA[y]]>&amp;</a>`, `<?xml version="1.0"?><p:a xmlns:p="u"><b/></p:a>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameTree(t, data) })
}
