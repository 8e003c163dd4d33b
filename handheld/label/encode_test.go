package label

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

func TestParseElementString(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"(01)09506000134352(17)261231(10)A1(21)S1", "010950600013435217261231" + "10A1\x1d21S1", false},
		{"(01)09506000134352(21)ABC(10)L1", "0109506000134352" + "21ABC\x1d10L1", false},
		{"(00)106141411234567897", "00106141411234567897", false},
		{"(01)0950600013435", "010950600013435", false},
		{"01)1", "", true},
		{"(01", "", true},
		{"(0A)1", "", true},
		{"(01)", "", true},
		{"(10)A B", "", true},
	}
	for _, tc := range tests {
		got, err := ParseElementString(tc.in)
		if tc.err {
			if !errors.Is(err, ErrElementString) {
				t.Errorf("%q: err = %v, want ErrElementString", tc.in, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// decodeBits decodes a symbol's module matrix with gozxing's decoder.
func decodeBits(t *testing.T, s *Symbol) (string, int) {
	t.Helper()
	r, err := decoder.NewDecoder().Decode(s.BitMatrix())
	if err != nil {
		t.Fatalf("decode %dx%d: %v", s.Cols, s.Rows, err)
	}
	return r.GetText(), r.GetSymbologyModifier()
}

func TestEncodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const cs82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	for i := 0; i < 300; i++ {
		var b []byte
		b = append(b, "01"...)
		for j := 0; j < 14; j++ {
			b = append(b, byte('0'+rng.IntN(10)))
		}
		b = append(b, "17"...)
		b = append(b, "261231"...)
		for f := 0; f < 1+rng.IntN(3); f++ {
			if f > 0 {
				b = append(b, GS)
			}
			b = append(b, []string{"10", "21", "240", "712"}[rng.IntN(4)]...)
			n := 1 + rng.IntN(20)
			for j := 0; j < n; j++ {
				b = append(b, cs82[rng.IntN(len(cs82))])
			}
		}
		shape := []Shape{Square, Rectangle, AnyShape}[i%3]
		s, err := EncodeGS1(b, shape)
		if errors.Is(err, ErrTooLong) && shape == Rectangle {
			continue
		}
		if err != nil {
			t.Fatalf("encode %q: %v", b, err)
		}
		text, mod := decodeBits(t, s)
		if mod != 2 {
			t.Errorf("symbology modifier %d, want 2 (GS1)", mod)
		}
		// gozxing reports the leading FNC1 as GS.
		if text != "\x1d"+string(b) {
			t.Errorf("round trip: got %q want %q", text, b)
		}
	}
}

func TestEncodePlain(t *testing.T) {
	in := []byte("Hello, DataMatrix 12345 \xe9")
	s, err := EncodePlain(in, Square)
	if err != nil {
		t.Fatal(err)
	}
	text, mod := decodeBits(t, s)
	if mod != 1 {
		t.Errorf("modifier %d, want 1", mod)
	}
	if !bytes.Equal([]byte(text), []byte("Hello, DataMatrix 12345 \u00e9")) && text != string(in) {
		t.Errorf("got %q", text)
	}
}

func TestEncodeLimits(t *testing.T) {
	if _, err := EncodeGS1(nil, Square); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := EncodeGS1(bytes.Repeat([]byte("a"), 3000), Square); !errors.Is(err, ErrTooLong) {
		t.Errorf("too long: %v", err)
	}
}

// TestRenderDecodesWithGozxing checks the rendered image, not only the
// module matrix, reads back through gozxing's own reader.
func TestRenderDecodesWithGozxing(t *testing.T) {
	data, err := ParseElementString("(01)09506000134352(17)261231(10)LOT42(21)SERIAL0001")
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range []Shape{Square, Rectangle} {
		s, err := EncodeGS1(data, shape)
		if err != nil {
			t.Fatal(err)
		}
		img := Render(s, 6, 4)
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		r, err := datamatrix.NewDataMatrixReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil {
			t.Fatalf("shape %d: %v", shape, err)
		}
		if r.GetText() != "\x1d"+string(data) {
			t.Errorf("got %q", r.GetText())
		}
	}
}
