package ident

import (
	"fmt"
	"strings"

	"github.com/custodyhq/custody/shared/gs1"
)

// EPC URI schemes this package speaks.
const (
	SchemeSGTIN = "sgtin" // urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial
	SchemeSSCC  = "sscc"  // urn:epc:id:sscc:CompanyPrefix.ExtensionSerialRef
	SchemeLGTIN = "lgtin" // urn:epc:class:lgtin:CompanyPrefix.IndicatorItemRef.Lot
	SchemeSGLN  = "sgln"  // urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension
)

// EPC is a parsed EPC URI, as GS1 keys.
type EPC struct {
	Scheme    string // one of the Scheme constants
	PrefixLen int    // GS1 company-prefix length, as the URI shows it
	GTIN      GTIN   // sgtin, lgtin
	Serial    string // sgtin
	Lot       string // lgtin
	SSCC      SSCC   // sscc
	GLN       GLN    // sgln
	Extension string // sgln: the GLN extension (254), "" when the URI says "0"
}

func checkPrefixLen(l int) error {
	if l < 6 || l > 12 {
		return fmt.Errorf("company prefix length %d: must be 6-12: %w", l, ErrPrefixLength)
	}
	return nil
}

// escapeEPC percent-encodes a serial, lot or extension as the EPC Tag Data
// Standard requires: of GS1 character set 82, the characters " % & / < > ?
// are written %22 %25 %26 %2F %3C %3E %3F.
func escapeEPC(s string) string {
	if !strings.ContainsAny(s, "\"%&/<>?") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '%', '&', '/', '<', '>', '?':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func unescapeEPC(what, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty %s: %w", what, ErrSerial)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '&', '/', '<', '>', '?':
			return "", fmt.Errorf("%s %q: %q must be written %%%02X: %w", what, s, c, c, ErrSerial)
		case '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%s %q: incomplete %%-escape: %w", what, s, ErrSerial)
			}
			if !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("%s %q: bad %%-escape %q: %w", what, s, s[i:i+3], ErrSerial)
			}
			b.WriteByte(hexVal(s[i+1])<<4 | hexVal(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if err := checkSerial(what, out); err != nil {
		return "", err
	}
	return out, nil
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func checkSerial(what, s string) error {
	if s == "" || len(s) > 20 {
		return fmt.Errorf("%s %q: must be 1-20 characters: %w", what, s, ErrSerial)
	}
	if !gs1.IsCSet82(s) {
		return fmt.Errorf("%s %q: only GS1 character set 82 is allowed: %w", what, s, ErrSerial)
	}
	return nil
}

// splitGTIN splits a GTIN-14 into company prefix and indicator + item reference.
func splitGTIN(g GTIN, prefixLen int) (cp, ref string, err error) {
	if err := checkPrefixLen(prefixLen); err != nil {
		return "", "", err
	}
	if err := checked("GTIN", string(g), 14); err != nil {
		return "", "", err
	}
	return string(g[1 : 1+prefixLen]), string(g[0:1]) + string(g[1+prefixLen:13]), nil
}

// SGTINURI renders urn:epc:id:sgtin for a serialised GTIN, given the
// company-prefix length from master data.
func SGTINURI(g GTIN, serial string, prefixLen int) (string, error) {
	cp, ref, err := splitGTIN(g, prefixLen)
	if err != nil {
		return "", err
	}
	if err := checkSerial("serial", serial); err != nil {
		return "", err
	}
	return "urn:epc:id:sgtin:" + cp + "." + ref + "." + escapeEPC(serial), nil
}

// LGTINURI renders urn:epc:class:lgtin for a GTIN and lot.
func LGTINURI(g GTIN, lot string, prefixLen int) (string, error) {
	cp, ref, err := splitGTIN(g, prefixLen)
	if err != nil {
		return "", err
	}
	if err := checkSerial("lot", lot); err != nil {
		return "", err
	}
	return "urn:epc:class:lgtin:" + cp + "." + ref + "." + escapeEPC(lot), nil
}

// SSCCURI renders urn:epc:id:sscc.
func SSCCURI(s SSCC, prefixLen int) (string, error) {
	if err := checkPrefixLen(prefixLen); err != nil {
		return "", err
	}
	if err := checked("SSCC", string(s), 18); err != nil {
		return "", err
	}
	return "urn:epc:id:sscc:" + string(s[1:1+prefixLen]) + "." + string(s[0:1]) + string(s[1+prefixLen:17]), nil
}

// SGLNURI renders urn:epc:id:sgln; an empty extension is written "0".
func SGLNURI(g GLN, extension string, prefixLen int) (string, error) {
	if err := checkPrefixLen(prefixLen); err != nil {
		return "", err
	}
	if err := checked("GLN", string(g), 13); err != nil {
		return "", err
	}
	ext := "0"
	if extension != "" {
		if err := checkSerial("GLN extension", extension); err != nil {
			return "", err
		}
		ext = escapeEPC(extension)
	}
	return "urn:epc:id:sgln:" + string(g[:prefixLen]) + "." + string(g[prefixLen:12]) + "." + ext, nil
}

// ParseEPCURI reads an sgtin, sscc, sgln or lgtin EPC URI. The company-prefix
// length is taken from the URI itself.
func ParseEPCURI(uri string) (EPC, error) {
	var scheme, body string
	switch {
	case strings.HasPrefix(uri, "urn:epc:id:"):
		scheme, body, _ = strings.Cut(uri[len("urn:epc:id:"):], ":")
	case strings.HasPrefix(uri, "urn:epc:class:"):
		scheme, body, _ = strings.Cut(uri[len("urn:epc:class:"):], ":")
		if scheme != SchemeLGTIN {
			return EPC{}, fmt.Errorf("EPC class URI %q: only lgtin is supported: %w", uri, ErrEPC)
		}
	default:
		return EPC{}, fmt.Errorf("%q is not an EPC URI (urn:epc:id:... or urn:epc:class:lgtin:...): %w", uri, ErrEPC)
	}
	parts := strings.SplitN(body, ".", 3)
	bad := func(why string) (EPC, error) {
		return EPC{}, fmt.Errorf("EPC URI %q: %s: %w", uri, why, ErrEPC)
	}
	cpLen := len(parts[0])
	if !digits(parts[0]) || cpLen < 6 || cpLen > 12 {
		return bad("the company prefix must be 6-12 digits")
	}
	switch scheme {
	case SchemeSGTIN, SchemeLGTIN:
		if len(parts) != 3 || len(parts[1]) != 13-cpLen || !digits(parts[1]) {
			return bad(fmt.Sprintf("expected CompanyPrefix.IndicatorItemRef.Value with %d+%d digits", cpLen, 13-cpLen))
		}
		g := GTIN(withCheck(parts[1][:1] + parts[0] + parts[1][1:]))
		e := EPC{Scheme: scheme, PrefixLen: cpLen, GTIN: g}
		var err error
		if scheme == SchemeSGTIN {
			e.Serial, err = unescapeEPC("serial", parts[2])
		} else {
			e.Lot, err = unescapeEPC("lot", parts[2])
		}
		if err != nil {
			return EPC{}, err
		}
		return e, nil
	case SchemeSSCC:
		if len(parts) != 2 || len(parts[1]) != 17-cpLen || !digits(parts[1]) {
			return bad(fmt.Sprintf("expected CompanyPrefix.ExtensionSerialRef with %d+%d digits", cpLen, 17-cpLen))
		}
		return EPC{Scheme: scheme, PrefixLen: cpLen, SSCC: SSCC(withCheck(parts[1][:1] + parts[0] + parts[1][1:]))}, nil
	case SchemeSGLN:
		if len(parts) != 3 || len(parts[1]) != 12-cpLen || (parts[1] != "" && !digits(parts[1])) {
			return bad(fmt.Sprintf("expected CompanyPrefix.LocationRef.Extension with %d+%d digits", cpLen, 12-cpLen))
		}
		e := EPC{Scheme: scheme, PrefixLen: cpLen, GLN: GLN(withCheck(parts[0] + parts[1]))}
		if parts[2] != "0" {
			ext, err := unescapeEPC("GLN extension", parts[2])
			if err != nil {
				return EPC{}, err
			}
			if ext != "0" { // "%30" spells no extension too
				e.Extension = ext
			}
		}
		return e, nil
	}
	return bad("unsupported scheme " + scheme)
}

// Elements returns the GS1 elements the EPC stands for.
func (e EPC) Elements() []gs1.Element {
	switch e.Scheme {
	case SchemeSGTIN:
		return []gs1.Element{{AI: "01", Value: string(e.GTIN)}, {AI: "21", Value: e.Serial}}
	case SchemeLGTIN:
		return []gs1.Element{{AI: "01", Value: string(e.GTIN)}, {AI: "10", Value: e.Lot}}
	case SchemeSSCC:
		return []gs1.Element{{AI: "00", Value: string(e.SSCC)}}
	case SchemeSGLN:
		els := []gs1.Element{{AI: "414", Value: string(e.GLN)}}
		if e.Extension != "" {
			els = append(els, gs1.Element{AI: "254", Value: e.Extension})
		}
		return els
	}
	return nil
}

// URI renders the EPC again (with its own prefix length).
func (e EPC) URI() (string, error) {
	switch e.Scheme {
	case SchemeSGTIN:
		return SGTINURI(e.GTIN, e.Serial, e.PrefixLen)
	case SchemeLGTIN:
		return LGTINURI(e.GTIN, e.Lot, e.PrefixLen)
	case SchemeSSCC:
		return SSCCURI(e.SSCC, e.PrefixLen)
	case SchemeSGLN:
		return SGLNURI(e.GLN, e.Extension, e.PrefixLen)
	}
	return "", fmt.Errorf("scheme %q: %w", e.Scheme, ErrEPC)
}

// EPCFromData picks the EPC of GS1 data: sgtin for (01)+(21), lgtin for
// (01)+(10) without serial, sscc for (00), sgln for (414) with optional
// (254).
func EPCFromData(d gs1.Data, prefixLen int) (string, error) {
	gt, hasGTIN := d.Value("01")
	switch {
	case hasGTIN:
		g, err := ParseGTIN(gt)
		if err != nil {
			return "", err
		}
		if s, ok := d.Value("21"); ok {
			return SGTINURI(g, s, prefixLen)
		}
		if l, ok := d.Value("10"); ok {
			return LGTINURI(g, l, prefixLen)
		}
		return "", fmt.Errorf("GTIN %s without serial or lot has no EPC URI here: %w", g, ErrEPC)
	}
	if s, ok := d.Value("00"); ok {
		return SSCCURI(SSCC(s), prefixLen)
	}
	if gl, ok := d.Value("414"); ok {
		ext, _ := d.Value("254")
		return SGLNURI(GLN(gl), ext, prefixLen)
	}
	return "", fmt.Errorf("the data has no (01), (00) or (414): %w", ErrEPC)
}

// EPCFromDigitalLink converts a GS1 Digital Link URI to an EPC URI, given
// the company-prefix length from master data.
func EPCFromDigitalLink(uri string, prefixLen int) (string, error) {
	d, err := gs1.ParseDigitalLink(uri)
	if err != nil {
		return "", err
	}
	return EPCFromData(d, prefixLen)
}

// DigitalLinkFromEPC converts an EPC URI to a GS1 Digital Link URI on base
// ("" means https://id.gs1.org).
func DigitalLinkFromEPC(uri, base string) (string, error) {
	e, err := ParseEPCURI(uri)
	if err != nil {
		return "", err
	}
	return gs1.Data{Elements: e.Elements()}.DigitalLink(base)
}
