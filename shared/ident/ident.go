// Package ident holds the GS1 keys the application stores (GTIN, SSCC,
// GLN), the US National Drug Code and its place inside a GTIN, and the EPC
// URIs of the EPC Tag Data Standard that EPCIS documents carry.
//
// Keys are stored as digits; EPC URIs need the GS1 company-prefix length,
// which no barcode carries, so they are rendered at the edge from master
// data (see SGTINURI and friends).
package ident

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/gs1"
)

// Sentinel errors; every error of this package wraps one of them.
var (
	// ErrLength: a key or code has the wrong number of digits.
	ErrLength = errors.New("ident: wrong length")
	// ErrDigits: a key or code holds something other than digits.
	ErrDigits = errors.New("ident: not all digits")
	// ErrCheckDigit: the GS1 check digit is wrong.
	ErrCheckDigit = errors.New("ident: wrong check digit")
	// ErrIndicator: an indicator or extension digit is out of range.
	ErrIndicator = errors.New("ident: bad indicator digit")
	// ErrNDC: not a National Drug Code in a known form.
	ErrNDC = errors.New("ident: not a National Drug Code")
	// ErrNotNDC: the GTIN does not carry an NDC.
	ErrNotNDC = errors.New("ident: GTIN does not hold an NDC")
	// ErrPrefixLength: the GS1 company-prefix length is not 6-12 or does not fit.
	ErrPrefixLength = errors.New("ident: bad company prefix length")
	// ErrEPC: an EPC URI is malformed or of an unsupported scheme.
	ErrEPC = errors.New("ident: bad EPC URI")
	// ErrSerial: a serial, lot or extension is empty, too long or holds a
	// character outside GS1 character set 82.
	ErrSerial = errors.New("ident: bad serial, lot or extension")
)

// checked validates n digits with a GS1 check digit.
func checked(kind, s string, n int) error {
	if len(s) != n {
		return fmt.Errorf("%s %q has %d digits, expected %d: %w", kind, s, len(s), n, ErrLength)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("%s %q: character %d is not a digit: %w", kind, s, i+1, ErrDigits)
		}
	}
	want, _ := gs1.CheckDigit(s[:n-1])
	if s[n-1] != want {
		return fmt.Errorf("%s %s: check digit is wrong (expected %c): %w", kind, s, want, ErrCheckDigit)
	}
	return nil
}

// GTIN is a Global Trade Item Number in its 14-digit form.
type GTIN string

// ParseGTIN accepts a GTIN-8, -12, -13 or -14 and returns its 14-digit
// form (left-padded with zeros), after checking the check digit.
func ParseGTIN(s string) (GTIN, error) {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "", fmt.Errorf("GTIN %q has %d digits, expected 8, 12, 13 or 14: %w", s, len(s), ErrLength)
	}
	g := "00000000000000"[:14-len(s)] + s
	if err := checked("GTIN", g, 14); err != nil {
		return "", err
	}
	return GTIN(g), nil
}

func (g GTIN) String() string { return string(g) }

// Indicator returns the first digit: 0 for a base unit, 1-8 for trade item
// groupings (cases), 9 for variable-measure items.
func (g GTIN) Indicator() byte { return g[0] }

// Short renders the GTIN with n digits (8, 12 or 13) when its leading
// digits are zeros.
func (g GTIN) Short(n int) (string, error) {
	switch n {
	case 8, 12, 13, 14:
	default:
		return "", fmt.Errorf("GTIN-%d does not exist: %w", n, ErrLength)
	}
	for i := 0; i < 14-n; i++ {
		if g[i] != '0' {
			return "", fmt.Errorf("GTIN %s does not fit in %d digits: %w", g, n, ErrLength)
		}
	}
	return string(g[14-n:]), nil
}

// SSCC is a Serial Shipping Container Code (18 digits).
type SSCC string

// ParseSSCC checks an 18-digit SSCC.
func ParseSSCC(s string) (SSCC, error) {
	if err := checked("SSCC", s, 18); err != nil {
		return "", err
	}
	return SSCC(s), nil
}

func (s SSCC) String() string { return string(s) }

// GLN is a Global Location Number (13 digits).
type GLN string

// ParseGLN checks a 13-digit GLN.
func ParseGLN(s string) (GLN, error) {
	if err := checked("GLN", s, 13); err != nil {
		return "", err
	}
	return GLN(s), nil
}

func (g GLN) String() string { return string(g) }
