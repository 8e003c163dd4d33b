package gs1

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// FuzzParse: no input panics; every error is an *Error wrapping a
// sentinel; accepted data survives ElementString, Bracketed and
// DigitalLink and parses back to the same elements.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse(raw)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) || ge.Err == nil || !errors.Is(err, ge.Err) {
				t.Fatalf("error %v (%T) is not a *gs1.Error with a sentinel", err, err)
			}
			return
		}
		today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, w := range []Want{WantUnit, WantContainer, WantAny} {
			_, _ = Identify(d, w, Policy{RequireLot: true, RequireExpiry: true, Today: today})
		}
		if len(d.Elements) == 0 {
			return
		}
		es := d.ElementString()
		back, err := Parse([]byte("]d2" + es))
		if err != nil {
			t.Fatalf("element string %q of %q does not parse: %v", es, raw, err)
		}
		if !slices.Equal(back.Elements, d.Elements) {
			t.Fatalf("element string %q gives %q, want %q", es, back.Elements, d.Elements)
		}
		br := d.Bracketed()
		back, err = ParseBracketed(br)
		if err != nil {
			t.Fatalf("bracketed %q of %q does not parse: %v", br, raw, err)
		}
		if !slices.Equal(back.Elements, d.Elements) {
			t.Fatalf("bracketed %q gives %q, want %q", br, back.Elements, d.Elements)
		}
		uri, err := d.DigitalLink("https://example.com/stem")
		if err != nil {
			if !errors.Is(err, ErrDigitalLink) && !errors.Is(err, ErrNoDigitalLinkKey) {
				t.Fatalf("DigitalLink of valid data %q: unexpected %v", d.Elements, err)
			}
			return
		}
		back, err = ParseDigitalLink(uri)
		if err != nil {
			t.Fatalf("Digital Link %q of %q does not parse: %v", uri, raw, err)
		}
		if !sameElements(dedupe(back.Elements), dedupe(d.Elements)) {
			t.Fatalf("Digital Link %q gives %q, want %q", uri, back.Elements, d.Elements)
		}
	})
}

// FuzzParseDigitalLink: no URI panics, and accepted ones render back to a
// link that gives the same elements.
func FuzzParseDigitalLink(f *testing.F) {
	f.Fuzz(func(t *testing.T, uri string) {
		d, err := ParseDigitalLink(uri)
		if err != nil {
			return
		}
		out, err := d.DigitalLink("")
		if err != nil {
			t.Fatalf("accepted %q but cannot render it: %v", uri, err)
		}
		back, err := ParseDigitalLink(out)
		if err != nil || !sameElements(dedupe(back.Elements), dedupe(d.Elements)) {
			t.Fatalf("%q -> %q -> %q, %v", uri, out, back.Elements, err)
		}
	})
}

func dedupe(els []Element) []Element {
	var out []Element
	for _, e := range els {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
