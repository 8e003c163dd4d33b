// Package scaninput reads what people scan or paste to name a pack: a
// GS1 element string (bracketed, or scanner data with GS, also written
// as <GS> or \x1d), a GS1 Digital Link, an EPC URI, an SSCC, a GTIN or a
// stored key. The site console and the operator console both read
// their search boxes with it.
package scaninput

import (
	"errors"
	"fmt"
	"strings"

	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
)

// ErrInput reports text that names no pack, lot or product; its
// message says why, for people.
var ErrInput = errors.New("scaninput")

// Scan is what a text names: a unit, case or logistic unit (Key), or a
// lot (GTIN and Lot), or a product (GTIN alone).
type Scan struct {
	Key       event.Key
	GTIN, Lot string
}

// Parse reads q.
func Parse(q string) (Scan, error) {
	q = strings.TrimSpace(q)
	for _, gs := range []string{"<GS>", "<gs>", `\x1d`, `\x1D`, "{GS}", "␝"} {
		q = strings.ReplaceAll(q, gs, "\x1d")
	}
	if q == "" {
		return Scan{}, fmt.Errorf("%w: paste or scan something", ErrInput)
	}
	if strings.HasPrefix(strings.ToLower(q), "urn:epc:") {
		k, err := compliance.KeyFromEPC(q)
		if err != nil {
			return Scan{}, fmt.Errorf("%w: %v", ErrInput, err)
		}
		return Scan{Key: k}, nil
	}
	if len(q) == 18 && digitsOnly(q) {
		return Scan{Key: event.SSCC(q)}, nil
	}
	if len(q) == 14 && digitsOnly(q) {
		return Scan{GTIN: q}, nil
	}
	d, err := gs1.Parse([]byte(q))
	if err != nil {
		return Scan{}, fmt.Errorf("%w: %v", ErrInput, err)
	}
	if s, ok := d.Value("00"); ok {
		return Scan{Key: event.SSCC(s)}, nil
	}
	g, ok := d.Value("01")
	if !ok {
		return Scan{}, fmt.Errorf("%w: no GTIN (01) or SSCC (00) in it", ErrInput)
	}
	if s, ok := d.Value("21"); ok {
		return Scan{Key: event.SGTIN(g, s)}, nil
	}
	lot, _ := d.Value("10")
	return Scan{GTIN: g, Lot: lot}, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
