// Package compliance speaks EPCIS for the site: it reads an inbound
// shipment's EPCIS document (the supplier's shipping event, its
// aggregations and the commissioning events' lot and expiry) into an
// ASN, and writes the outbound EPCIS document of a shipment. EPC URIs
// are rendered here, at the edge: the state keeps GTIN + serial, and a
// URN needs the GS1 company prefix length from master data.
package compliance

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
)

// Errors returned by this package.
var (
	// ErrEPC reports an identifier that is not an SGTIN or SSCC EPC.
	ErrEPC = errors.New("compliance: not a serialised GTIN or SSCC identifier")
	// ErrNoShipment reports an EPCIS document with no shipping event.
	ErrNoShipment = errors.New("compliance: no shipping event in the document")
	// ErrDocument reports an EPCIS document that cannot become an ASN.
	ErrDocument = errors.New("compliance: unusable EPCIS document")
	// ErrDestination reports a shipment destination that is neither a
	// GLN nor an absolute URI.
	ErrDestination = errors.New("compliance: destination is neither a 13-digit GLN nor an absolute URI")
	// ErrShipment reports a shipment whose outbound document cannot be
	// made yet: no containers, a destination with no GLN, or containers
	// holding another owner's units.
	ErrShipment = errors.New("compliance: shipment")
)

// DefaultCompanyPrefixLen is used when a product's master data does not
// give its company prefix length.
const DefaultCompanyPrefixLen = 7

// KeyFromEPC reads a subject key from an EPC: a pure-identity URN
// (urn:epc:id:sgtin:…, urn:epc:id:sscc:…) or a GS1 Digital Link URI.
func KeyFromEPC(s string) (event.Key, error) {
	switch {
	case strings.HasPrefix(s, "urn:epc:id:sgtin:"):
		parts := strings.Split(s[len("urn:epc:id:sgtin:"):], ".")
		if len(parts) != 3 || len(parts[0])+len(parts[1]) != 13 || len(parts[1]) < 1 || !digits(parts[0]) || !digits(parts[1]) {
			return "", fmt.Errorf("%w: %q", ErrEPC, s)
		}
		serial, err := url.PathUnescape(parts[2])
		if err != nil || serial == "" {
			return "", fmt.Errorf("%w: %q: bad serial", ErrEPC, s)
		}
		body := parts[1][:1] + parts[0] + parts[1][1:]
		gtin, err := withCheck(body)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrEPC, s, err)
		}
		k := event.SGTIN(gtin, serial)
		if err := k.Validate(); err != nil {
			return "", fmt.Errorf("%w: %v", ErrEPC, err)
		}
		return k, nil
	case strings.HasPrefix(s, "urn:epc:id:sscc:"):
		parts := strings.Split(s[len("urn:epc:id:sscc:"):], ".")
		if len(parts) != 2 || len(parts[0])+len(parts[1]) != 17 || len(parts[1]) < 1 || !digits(parts[0]) || !digits(parts[1]) {
			return "", fmt.Errorf("%w: %q", ErrEPC, s)
		}
		sscc, err := withCheck(parts[1][:1] + parts[0] + parts[1][1:])
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrEPC, s, err)
		}
		return event.SSCC(sscc), nil
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		d, err := gs1.ParseDigitalLink(s)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrEPC, err)
		}
		if sscc, ok := d.Value("00"); ok {
			return event.SSCC(sscc), nil
		}
		gtin, ok1 := d.Value("01")
		serial, ok2 := d.Value("21")
		if !ok1 || !ok2 {
			return "", fmt.Errorf("%w: %q names no serialised item", ErrEPC, s)
		}
		return event.SGTIN(gtin, serial), nil
	}
	return "", fmt.Errorf("%w: %q", ErrEPC, s)
}

// EPC renders a key as a pure-identity URN; prefixLen is the GS1 company
// prefix length (6–12) of the GTIN or SSCC.
func EPC(k event.Key, prefixLen int) string {
	if prefixLen < 6 || prefixLen > 12 {
		prefixLen = DefaultCompanyPrefixLen
	}
	if k.IsSSCC() {
		s := k.SSCCValue()
		return "urn:epc:id:sscc:" + s[1:1+prefixLen] + "." + s[:1] + s[1+prefixLen:17]
	}
	g := k.GTIN()
	return "urn:epc:id:sgtin:" + g[1:1+prefixLen] + "." + g[:1] + g[1+prefixLen:13] + "." + escapeSerial(k.Serial())
}

// escapeSerial percent-encodes what a URN may not carry literally.
func escapeSerial(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("-_.:=!'()*+,;", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func withCheck(body string) (string, error) {
	c, err := gs1.CheckDigit(body)
	if err != nil {
		return "", err
	}
	return body + string(c), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
