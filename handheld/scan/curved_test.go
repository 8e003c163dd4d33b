package scan

import (
	"image"
	"math"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/label"
)

// wrapOnCylinder renders a flat label as seen wrapped round a vial whose
// axis is vertical: a column at arc length s from the middle appears at
// R·sin(s/R), so modules shrink towards the sides.
func wrapOnCylinder(flat *image.Gray, radius float64) *image.Gray {
	w, h := flat.Rect.Dx(), flat.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	cx := float64(w) / 2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := (float64(x) + 0.5 - cx) / radius
			v := uint8(255)
			if math.Abs(d) < 1 {
				sx := cx + radius*math.Asin(d)
				if ix := int(sx); ix >= 0 && ix < w {
					v = flat.Pix[y*flat.Stride+ix]
				}
			}
			out.Pix[y*out.Stride+x] = v
		}
	}
	return out
}

// TestCurvedMultiRegion reads symbols of 2x2 and 4x4 data regions wrapped
// round a vial (the symbol spans ±36° of it), where one homography for the
// whole symbol is a module out towards the sides.
func TestCurvedMultiRegion(t *testing.T) {
	s := New(Options{Budget: 5 * time.Second, NoFallback: true, NoTracking: true})
	for _, n := range []int{160, 400} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte('A' + i%26)
		}
		sym, err := label.EncodePlain(data, label.Square)
		if err != nil {
			t.Fatal(err)
		}
		flat := label.Render(sym, 5, 4)
		g := wrapOnCylinder(flat, 0.85*float64(sym.Cols*5))
		for rot := 0; rot < 4; rot++ {
			r, err := s.DecodeGray(g)
			if err != nil || r.Text != string(data) {
				t.Errorf("%dx%d on a vial at %d°: %v", sym.Cols, sym.Rows, 90*rot, err)
			}
			g = rotate90(g)
		}
	}
}
