package scan

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// Extended Channel Interpretation. A symbol may switch the character set
// of the bytes that follow (codeword 241 and an ECI number: 3 for
// ISO-8859-1, 7 for ISO-8859-5, 26 for UTF-8, …). The bit-stream decoder
// only notes that an ECI is present and passes the ECI number on as if it
// were text, so the text of such a symbol is rebuilt here from its data
// codewords, each segment converted from its character set to UTF-8.

// Codewords of the ASCII encodation (ISO/IEC 16022 table 2).
const (
	cwPad        = 129
	cwDigits     = 130 // 130 … 229: two digits 00 … 99
	cwBase256    = 231
	cwFNC1       = 232
	cwUpperShift = 235
	cwECI        = 241
)

// eciText rebuilds the text of a symbol that uses ECI from its data
// codewords. It handles the ASCII and Base 256 encodations; for anything
// else (C40, Text, X12, EDIFACT, structured append, reader programming)
// or an ECI without a known character set it reports false, and the
// symbol is better not read than read with the wrong characters.
func eciText(cw []byte) (string, bool) {
	var out strings.Builder
	var seg []byte
	var enc encoding.Encoding = charmap.ISO8859_1 // until an ECI says otherwise
	flush := func() bool {
		if len(seg) == 0 {
			return true
		}
		var s string
		if enc == nil { // UTF-8 as it is
			if !utf8.Valid(seg) {
				return false
			}
			s = string(seg)
		} else {
			b, err := enc.NewDecoder().Bytes(seg)
			if err != nil {
				return false
			}
			s = string(b)
		}
		out.WriteString(s)
		seg = seg[:0]
		return true
	}
	for i := 0; i < len(cw); i++ {
		c := int(cw[i])
		switch {
		case c >= 1 && c <= 128:
			seg = append(seg, byte(c-1))
		case c == cwPad:
			i = len(cw)
		case c >= cwDigits && c < cwDigits+100:
			d := c - cwDigits
			seg = append(seg, byte('0'+d/10), byte('0'+d%10))
		case c == cwFNC1:
			seg = append(seg, 0x1D)
		case c == cwUpperShift:
			if i+1 >= len(cw) {
				return "", false
			}
			i++
			seg = append(seg, cw[i]-1+128)
		case c == cwECI:
			n, used, ok := eciNumber(cw[i+1:])
			if !ok {
				return "", false
			}
			i += used
			if !flush() {
				return "", false
			}
			e, known := eciCharset(n)
			if !known {
				return "", false
			}
			enc = e
		case c == cwBase256:
			data, used, ok := base256(cw, i+1)
			if !ok {
				return "", false
			}
			seg = append(seg, data...)
			i += used
		default:
			return "", false
		}
	}
	if !flush() {
		return "", false
	}
	return out.String(), true
}

// eciNumber reads the ECI number after codeword 241 (ISO/IEC 16022
// 5.4.3.2): one, two or three codewords. It returns the number and the
// codewords used.
func eciNumber(cw []byte) (int, int, bool) {
	if len(cw) == 0 {
		return 0, 0, false
	}
	c1 := int(cw[0])
	switch {
	case c1 >= 1 && c1 <= 127:
		return c1 - 1, 1, true
	case c1 >= 128 && c1 <= 191 && len(cw) >= 2:
		return (c1-128)*254 + int(cw[1]) - 1 + 127, 2, true
	case c1 >= 192 && c1 <= 207 && len(cw) >= 3:
		return (c1-192)*64516 + (int(cw[1])-1)*254 + int(cw[2]) - 1 + 16383, 3, true
	}
	return 0, 0, false
}

// base256 reads a Base 256 segment whose length codeword is at cw[at]
// (ISO/IEC 16022 5.2.9; codewords are randomised by their 1-based
// position). It returns the bytes and the codewords used.
func base256(cw []byte, at int) ([]byte, int, bool) {
	unrand := func(i int) int {
		v := int(cw[i]) - (149*(i+1))%255 - 1
		if v < 0 {
			v += 256
		}
		return v
	}
	if at >= len(cw) {
		return nil, 0, false
	}
	n, pos := unrand(at), at+1
	switch {
	case n == 0:
		n = len(cw) - pos
	case n >= 250:
		if pos >= len(cw) {
			return nil, 0, false
		}
		n = 250*(n-249) + unrand(pos)
		pos++
	}
	if pos+n > len(cw) {
		return nil, 0, false
	}
	out := make([]byte, n)
	for k := range out {
		out[k] = byte(unrand(pos + k))
	}
	return out, pos + n - at, true
}

// eciCharset is the character set of ECI number n, nil for UTF-8 (taken
// as it is); known is false for ECIs not in use for text here.
func eciCharset(n int) (enc encoding.Encoding, known bool) {
	switch n {
	case 0, 2:
		return charmap.CodePage437, true
	case 1, 3, 27, 170: // ISO-8859-1; ASCII is a subset
		return charmap.ISO8859_1, true
	case 4, 5, 6, 7, 8, 9, 10, 11, 12: // ISO-8859-2 … -10
		return [...]encoding.Encoding{charmap.ISO8859_2, charmap.ISO8859_3, charmap.ISO8859_4,
			charmap.ISO8859_5, charmap.ISO8859_6, charmap.ISO8859_7, charmap.ISO8859_8,
			charmap.ISO8859_9, charmap.ISO8859_10}[n-4], true
	case 15, 16, 17, 18: // ISO-8859-13 … -16
		return [...]encoding.Encoding{charmap.ISO8859_13, charmap.ISO8859_14, charmap.ISO8859_15,
			charmap.ISO8859_16}[n-15], true
	case 21, 22, 23, 24:
		return [...]encoding.Encoding{charmap.Windows1250, charmap.Windows1251, charmap.Windows1252,
			charmap.Windows1256}[n-21], true
	case 26:
		return nil, true
	}
	return nil, false
}
