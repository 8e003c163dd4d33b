package epcis

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeJSON: the decoder never panics, and decode → encode is a
// fixpoint after one round (encode(decode(encode(decode(x)))) equals
// encode(decode(x))).
func FuzzDecodeJSON(f *testing.F) {
	f.Add(docWith(okObject))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, _ := DecodeJSON(data)
		if doc == nil {
			return
		}
		enc1, err := AppendJSON(nil, doc)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		doc2, err := DecodeJSON(enc1)
		if doc2 == nil {
			t.Fatalf("re-decode of own output failed: %v\n%s", err, enc1)
		}
		enc2, err := AppendJSON(nil, doc2)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc1, enc2)
		}
		// Conversion may refuse (a name XML cannot carry) but not panic,
		// and what it writes must read back.
		if x, err := AppendXML(nil, doc2); err == nil {
			if back, err := DecodeXML(x); back == nil {
				t.Fatalf("converted XML does not read back: %v\n%s", err, x)
			}
		} else if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("convert to XML: %v", err)
		}
	})
}

// FuzzDecodeXML: the same for 1.2 XML.
func FuzzDecodeXML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, _ := DecodeXML(data)
		if doc == nil {
			return
		}
		enc1, err := AppendXML(nil, doc)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		doc2, err := DecodeXML(enc1)
		if doc2 == nil {
			t.Fatalf("re-decode of own output failed: %v\n%s", err, enc1)
		}
		enc2, err := AppendXML(nil, doc2)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc1, enc2)
		}
		j, err := AppendJSON(nil, doc2)
		if err != nil {
			t.Fatalf("convert to JSON-LD: %v", err)
		}
		if back, err := DecodeJSON(j); back == nil {
			t.Fatalf("converted JSON-LD does not read back: %v\n%s", err, j)
		}
	})
}
