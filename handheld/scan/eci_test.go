package scan

import (
	"testing"

	"github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

// randomised255 is a Base 256 codeword as written at 1-based position pos.
func randomised255(v byte, pos int) byte {
	return byte((int(v) + (149*pos)%255 + 1) % 256)
}

// base256Segment is the codewords of a Base 256 segment (latch, length,
// data) that starts at 0-based index at of the symbol's codewords.
func base256Segment(at int, data []byte) []byte {
	out := []byte{cwBase256, randomised255(byte(len(data)), at+2)}
	for i, b := range data {
		out = append(out, randomised255(b, at+3+i))
	}
	return out
}

// TestECIText rebuilds the text of symbols that switch character sets.
// The bit-stream decoder passes the ECI number on as a character and
// leaves ISO-8859-x bytes as they are ("\xb6\a\xb6" for the first case).
func TestECIText(t *testing.T) {
	utf8Seg := append([]byte{cwECI, 27}, base256Segment(2, []byte("Grüße"))...) // ECI 26, UTF-8 bytes
	tests := []struct {
		name string
		cw   []byte
		want string
		ok   bool
	}{
		{"Latin-1 then ECI 7 (ISO-8859-5)", []byte{cwUpperShift, 0xB6 - 127, cwECI, 8, cwUpperShift, 0xB6 - 127}, "¶Ж", true},
		{"digits, FNC1 and padding", []byte{cwECI, 4, 'A' + 1, cwDigits + 12, cwFNC1, 'z' + 1, cwPad, 55}, "A12\x1dz", true},
		{"UTF-8 in Base 256", utf8Seg, "Grüße", true},
		{"C40 is not rebuilt", []byte{cwECI, 4, 230, 1, 2}, "", false},
		{"unknown ECI", []byte{cwECI, 100, 'A' + 1}, "", false},
		{"ECI number cut off", []byte{'A' + 1, cwECI}, "", false},
		{"Base 256 longer than the symbol", []byte{cwBase256, randomised255(9, 2), 1}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := eciText(tc.cw)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("eciText = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestResultFromECI: a decode of an ECI symbol yields the rebuilt text;
// one without ECI keeps the decoder's text.
func TestResultFromECI(t *testing.T) {
	tests := []struct {
		name string
		cw   []byte
		want string
		sym  string
	}{
		{"ECI", []byte{cwUpperShift, 0xB6 - 127, cwECI, 8, cwUpperShift, 0xB6 - 127}, "¶Ж", "]d4"},
		{"GS1 without ECI", []byte{cwFNC1, cwDigits + 1, cwDigits + 0, 'A' + 1}, "0100A", "]d2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dr, err := decoder.DecodedBitStreamParser_decode(tc.cw)
			if err != nil {
				t.Fatal(err)
			}
			res, ok := resultFrom(dr)
			if !ok || res.Text != tc.want || res.Symbology != tc.sym {
				t.Fatalf("resultFrom = %q %s %v; want %q %s", res.Text, res.Symbology, ok, tc.want, tc.sym)
			}
		})
	}
}
