package label

import (
	"errors"
	"fmt"
	"testing"

	"github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

// TestEncodeGS1DMRE encodes in every DMRE row count and must decode back
// through gozxing's decoder at the expected size.
func TestEncodeGS1DMRE(t *testing.T) {
	data := []byte("0109506000134352\x1d10LOT7")
	dec := decoder.NewDecoder()
	for _, tc := range []struct{ rows, cols int }{{8, 48}, {12, 64}, {16, 64}, {20, 36}, {22, 48}, {24, 48}, {26, 40}} {
		t.Run(fmt.Sprint(tc.rows), func(t *testing.T) {
			sym, err := EncodeGS1DMRE(data, tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			if sym.Cols != tc.cols || sym.Rows != tc.rows {
				t.Fatalf("size %dx%d, want %dx%d", sym.Cols, sym.Rows, tc.cols, tc.rows)
			}
			r, err := dec.Decode(sym.BitMatrix())
			if err != nil {
				t.Fatal(err)
			}
			if got := r.GetText(); got != "\x1d"+string(data) {
				t.Fatalf("decoded %q", got)
			}
		})
	}
	long := []byte("0109506000134352\x1d21ABCDEFGHIJKLMNOPQRST\x1d10LOT12345678")
	sym, err := EncodeGS1DMRE(long, 8)
	if err != nil {
		t.Fatal(err)
	}
	if sym.Cols <= 48 {
		t.Fatalf("long data in %dx%d", sym.Cols, sym.Rows)
	}
	if _, err := EncodeGS1DMRE(make([]byte, 200), 8); !errors.Is(err, ErrTooLong) {
		t.Fatalf("too long: %v", err)
	}
}
