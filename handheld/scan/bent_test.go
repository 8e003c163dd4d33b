package scan

import (
	"image"
	"math"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/shared/refdata"
)

// renderBent draws sym with modules of mod pixels and a quiet zone of
// quiet modules, its columns bowed: the column at fraction f across the
// symbol is drawn at f + a·sin(πf) (a label on a curved surface, the
// middle shifted by a of the width while the sides stay put). With blot,
// ink fills the light modules of the dashed top edge between columns 3
// and 9, so the columns cannot be counted along that edge.
func renderBent(sym *label.Symbol, mod, quiet int, a float64, blot bool) *image.Gray {
	flat := label.Render(sym, mod, quiet)
	if blot {
		x0 := quiet * mod
		for y := x0; y < x0+mod; y++ {
			for x := x0 + 3*mod; x < x0+10*mod; x++ {
				flat.Pix[y*flat.Stride+x] = 0
			}
		}
	}
	w, h := flat.Rect.Dx(), flat.Rect.Dy()
	x0, side := float64(quiet*mod), float64(sym.Cols*mod)
	out := image.NewGray(flat.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// invert f -> f + a·sin(πf) by a few fixed-point steps
			t := (float64(x) + 0.5 - x0) / side
			f := t
			if t > 0 && t < 1 {
				for k := 0; k < 20; k++ {
					f = t - a*math.Sin(math.Pi*f)
				}
			}
			sx := int(x0 + f*side)
			v := uint8(255)
			if sx >= 0 && sx < w {
				v = flat.Pix[y*flat.Stride+sx]
			}
			out.Pix[y*out.Stride+x] = v
		}
	}
	return out
}

// TestBentSymbol reads symbols whose middle columns are bowed by most of
// a module (and more) out of where the outline's homography puts them,
// at four rotations: with clean timing edges the grid comes from them,
// with a blotted edge and ink spread from the bend search.
func TestBentSymbol(t *testing.T) {
	tests := []struct {
		name string
		n    int     // characters encoded
		a    float64 // bow, a fraction of the width
		blot bool    // top edge blotted
	}{
		{"22x22 bowed right", 30, 0.04, false},
		{"26x26 bowed left", 40, -0.035, false},
		{"22x22 bowed right, blotted", 30, 0.04, true},
		{"26x26 bowed left, blotted", 40, -0.035, true},
		{"26x26 bowed right, blotted", 40, 0.05, true},
	}
	s := New(Options{Budget: 5 * time.Second, NoFallback: true, NoTracking: true})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.n)
			for i := range data {
				data[i] = byte('A' + i*7%26)
			}
			sym, err := label.EncodePlain(data, label.Square)
			if err != nil {
				t.Fatal(err)
			}
			g := renderBent(sym, 5, 3, tc.a, tc.blot)
			for rot := 0; rot < 4; rot++ {
				r, err := s.DecodeGray(g)
				if err != nil || r.Text != string(data) {
					t.Errorf("%dx%d at %d°: %q, %v", sym.Cols, sym.Rows, 90*rot, r.Text, err)
				}
				g = rotate90(g)
			}
		})
	}
}

// TestInkSpreadSample reads zxing-cpp's #794.png (a photo of a bent
// symbol with heavy ink spread) at four rotations, from the reference
// data when present.
func TestInkSpreadSample(t *testing.T) {
	dir := refdata.Require(t, "datamatrix", "zxingcpp-3")
	var img sampleImage
	for _, im := range loadSamples(t, dir) {
		if im.name == "#794.png" {
			img = im
		}
	}
	if img.img == nil {
		t.Skip("#794.png not in the sample set")
	}
	s := New(Options{Budget: 5 * time.Second, NoFallback: true, NoTracking: true})
	g := img.img
	for rot := 0; rot < 4; rot++ {
		r, err := s.DecodeGray(g)
		if err != nil || r.Text != img.want {
			t.Errorf("at %d°: %q, %v; want %q", 90*rot, r.Text, err, img.want)
		}
		g = rotate90(g)
	}
}
