package event

import (
	"fmt"
	"strings"
)

// Key names a subject: a unit or case (GTIN-14 + serial) or a logistic
// unit (SSCC-18). It is the GS1 element string without separators,
// "01"+GTIN+"21"+serial or "00"+SSCC, so keys of one GTIN sort together.
type Key string

const (
	gtinLen  = 14
	ssccLen  = 18
	maxSerie = 20
)

// SGTIN is the key of the unit or case with this GTIN-14 and serial.
func SGTIN(gtin, serial string) Key { return Key("01" + gtin + "21" + serial) }

// SSCC is the key of the logistic unit with this SSCC-18.
func SSCC(sscc string) Key { return Key("00" + sscc) }

// ParseKey checks a key's shape (not its check digits: those belong to
// the scan).
func ParseKey(s string) (Key, error) {
	k := Key(s)
	if err := k.Validate(); err != nil {
		return "", err
	}
	return k, nil
}

// Validate reports whether k is well formed.
func (k Key) Validate() error {
	s := string(k)
	switch {
	case strings.HasPrefix(s, "00"):
		if len(s) != 2+ssccLen || !allDigits(s[2:]) {
			return fmt.Errorf("%w: %q: an SSCC has 18 digits", ErrKey, s)
		}
	case strings.HasPrefix(s, "01"):
		if len(s) < 2+gtinLen+2+1 || !allDigits(s[2:2+gtinLen]) || s[2+gtinLen:2+gtinLen+2] != "21" {
			return fmt.Errorf("%w: %q: want 01+GTIN-14+21+serial", ErrKey, s)
		}
		if n := len(s) - (2 + gtinLen + 2); n > maxSerie {
			return fmt.Errorf("%w: %q: serial longer than 20", ErrKey, s)
		}
	default:
		return fmt.Errorf("%w: %q: want 00+SSCC or 01+GTIN+21+serial", ErrKey, s)
	}
	return nil
}

// IsSSCC reports whether k names a logistic unit.
func (k Key) IsSSCC() bool { return strings.HasPrefix(string(k), "00") }

// IsContainer reports whether k names something that holds other things:
// an SSCC, or a GTIN whose packaging indicator (first digit) is 1–8.
func (k Key) IsContainer() bool {
	if k.IsSSCC() {
		return true
	}
	g := k.GTIN()
	return len(g) == gtinLen && g[0] >= '1' && g[0] <= '8'
}

// GTIN is the GTIN-14 of an SGTIN key ("" for an SSCC).
func (k Key) GTIN() string {
	if len(k) < 2+gtinLen || !strings.HasPrefix(string(k), "01") {
		return ""
	}
	return string(k[2 : 2+gtinLen])
}

// Serial is the serial of an SGTIN key ("" for an SSCC).
func (k Key) Serial() string {
	if len(k) <= 2+gtinLen+2 || !strings.HasPrefix(string(k), "01") {
		return ""
	}
	return string(k[2+gtinLen+2:])
}

// SSCCValue is the SSCC of an SSCC key ("" otherwise).
func (k Key) SSCCValue() string {
	if !k.IsSSCC() {
		return ""
	}
	return string(k[2:])
}

// String is the bracketed human-readable form, "(01)…(21)…" or "(00)…".
func (k Key) String() string {
	if k.IsSSCC() {
		return "(00)" + k.SSCCValue()
	}
	if g := k.GTIN(); g != "" {
		return "(01)" + g + "(21)" + k.Serial()
	}
	return string(k)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
