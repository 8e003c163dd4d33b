package ident

import (
	"fmt"
	"strings"

	"github.com/custodyhq/custody/shared/gs1"
)

// NDCForm is how the 10 digits of an NDC split into labeler, product and
// package codes.
type NDCForm int

const (
	NDCUnknown NDCForm = iota // 10 digits without hyphens: the split is not known
	NDC442                    // 4-4-2
	NDC532                    // 5-3-2
	NDC541                    // 5-4-1
)

func (f NDCForm) String() string {
	switch f {
	case NDC442:
		return "4-4-2"
	case NDC532:
		return "5-3-2"
	case NDC541:
		return "5-4-1"
	}
	return "unknown"
}

func (f NDCForm) lengths() (int, int, int) {
	switch f {
	case NDC442:
		return 4, 4, 2
	case NDC532:
		return 5, 3, 2
	case NDC541:
		return 5, 4, 1
	}
	return 0, 0, 0
}

// NDC is a US National Drug Code: 10 digits, and the form when it is known.
type NDC struct {
	digits string
	form   NDCForm
}

// ParseNDC reads an NDC-10 as 4-4-2, 5-3-2 or 5-4-1 with hyphens, or as 10
// digits without (form unknown).
func ParseNDC(s string) (NDC, error) {
	parts := strings.Split(s, "-")
	if len(parts) == 1 {
		if len(s) != 10 || !digits(s) {
			return NDC{}, fmt.Errorf("NDC %q: expected 10 digits or 4-4-2, 5-3-2, 5-4-1 with hyphens: %w", s, ErrNDC)
		}
		return NDC{digits: s}, nil
	}
	if len(parts) != 3 {
		return NDC{}, fmt.Errorf("NDC %q: expected three parts separated by hyphens: %w", s, ErrNDC)
	}
	for _, f := range []NDCForm{NDC442, NDC532, NDC541} {
		a, b, c := f.lengths()
		if len(parts[0]) == a && len(parts[1]) == b && len(parts[2]) == c {
			d := parts[0] + parts[1] + parts[2]
			if !digits(d) {
				return NDC{}, fmt.Errorf("NDC %q holds something other than digits: %w", s, ErrNDC)
			}
			return NDC{digits: d, form: f}, nil
		}
	}
	return NDC{}, fmt.Errorf("NDC %q is not in 4-4-2, 5-3-2 or 5-4-1 form: %w", s, ErrNDC)
}

// NewNDC builds an NDC from 10 digits and a known form.
func NewNDC(ten string, form NDCForm) (NDC, error) {
	if len(ten) != 10 || !digits(ten) {
		return NDC{}, fmt.Errorf("NDC %q: expected 10 digits: %w", ten, ErrNDC)
	}
	return NDC{digits: ten, form: form}, nil
}

// ParseNDC11 reads the 11-digit billing form (5-4-2, with or without
// hyphens) given the NDC-10 form it was padded from; the padding digit must
// be 0.
func ParseNDC11(s string, form NDCForm) (NDC, error) {
	d := strings.ReplaceAll(s, "-", "")
	if len(d) != 11 || !digits(d) {
		return NDC{}, fmt.Errorf("NDC-11 %q: expected 11 digits (5-4-2): %w", s, ErrNDC)
	}
	var pad int
	switch form {
	case NDC442:
		pad = 0
	case NDC532:
		pad = 5
	case NDC541:
		pad = 9
	default:
		return NDC{}, fmt.Errorf("NDC-11 %q: the NDC-10 form is needed to undo the padding: %w", s, ErrNDC)
	}
	if d[pad] != '0' {
		return NDC{}, fmt.Errorf("NDC-11 %q cannot come from a %s NDC: digit %d is not 0: %w", s, form, pad+1, ErrNDC)
	}
	return NDC{digits: d[:pad] + d[pad+1:], form: form}, nil
}

// Digits returns the 10 digits.
func (n NDC) Digits() string { return n.digits }

// Form returns the split, NDCUnknown when it was given without hyphens.
func (n NDC) Form() NDCForm { return n.form }

// String renders the NDC with hyphens when the form is known.
func (n NDC) String() string {
	a, b, _ := n.form.lengths()
	if a == 0 {
		return n.digits
	}
	return n.digits[:a] + "-" + n.digits[a:a+b] + "-" + n.digits[a+b:]
}

// NDC11 renders the 11-digit 5-4-2 form (with hyphens), padding the short
// part with a zero. It needs the form.
func (n NDC) NDC11() (string, error) {
	a, b, _ := n.form.lengths()
	if a == 0 {
		return "", fmt.Errorf("NDC %s: the 4-4-2 / 5-3-2 / 5-4-1 form is needed for NDC-11: %w", n.digits, ErrNDC)
	}
	l, p, k := n.digits[:a], n.digits[a:a+b], n.digits[a+b:]
	return fmt.Sprintf("%05s-%04s-%02s", l, p, k), nil
}

// GTIN returns the US GTIN-14 that carries the NDC: indicator + "03" +
// NDC-10 + check digit. indicator is '0' for a pack, '1'-'8' for cases.
func (n NDC) GTIN(indicator byte) (GTIN, error) {
	if indicator < '0' || indicator > '8' {
		return "", fmt.Errorf("indicator %q: must be 0-8: %w", indicator, ErrIndicator)
	}
	if len(n.digits) != 10 {
		return "", fmt.Errorf("empty NDC: %w", ErrNDC)
	}
	return ParseGTIN(withCheck(string(indicator) + "03" + n.digits))
}

// NDCFromGTIN extracts the NDC-10 from a US GTIN-14 whose company prefix
// starts with "03". The form is not in the GTIN (NDCUnknown).
func NDCFromGTIN(g GTIN) (NDC, error) {
	if len(g) != 14 || g[1:3] != "03" {
		return NDC{}, fmt.Errorf("GTIN %s does not start with indicator + 03: %w", g, ErrNotNDC)
	}
	return NDC{digits: string(g[3:13])}, nil
}

func withCheck(s string) string {
	c, _ := gs1.CheckDigit(s)
	return s + string(c)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
