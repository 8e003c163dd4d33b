package scan

import (
	"image"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/label"
)

func mirrorX(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[y*out.Stride+w-1-x] = g.Pix[y*g.Stride+x]
		}
	}
	return out
}

// TestMirroredAndTiny reads mirror-image symbols (square and rectangular)
// at four rotations, and symbols drawn with 1-pixel modules.
func TestMirroredAndTiny(t *testing.T) {
	data, _ := label.ParseElementString("(01)09506000134352(17)291231(10)LOT7(21)SER123")
	sq, err := label.EncodeGS1(data, label.Square)
	if err != nil {
		t.Fatal(err)
	}
	rect, err := label.EncodeGS1(data, label.Rectangle)
	if err != nil {
		t.Fatal(err)
	}
	dmre, err := label.EncodeGS1DMRE(data, 8)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Budget: 5 * time.Second, NoFallback: true, NoTracking: true})
	for _, sym := range []*label.Symbol{sq, rect, dmre} {
		g := mirrorX(label.Render(sym, 4, 2))
		for rot := 0; rot < 4; rot++ {
			r, err := s.DecodeGray(g)
			if err != nil || r.Text != string(data) || !r.Mirrored || r.Cols != sym.Cols || r.Rows != sym.Rows {
				t.Errorf("mirrored %dx%d at %d°: %+v %v", sym.Cols, sym.Rows, 90*rot, r, err)
			}
			g = rotate90(g)
		}
		r, err := s.DecodeGray(label.Render(sym, 4, 2))
		if err != nil || r.Mirrored {
			t.Errorf("%dx%d read as mirrored: %+v %v", sym.Cols, sym.Rows, r, err)
		}
	}
	for _, sym := range []*label.Symbol{sq, rect} {
		g := label.Render(sym, 1, 1)
		// twice on one Scanner: its enlargement buffer is reused
		for i := 0; i < 2; i++ {
			r, err := s.DecodeGray(g)
			if err != nil || r.Text != string(data) {
				t.Errorf("%dx%d with 1-pixel modules (%dx%d image), read %d: %+v %v", sym.Cols, sym.Rows, g.Rect.Dx(), g.Rect.Dy(), i+1, r, err)
			}
		}
	}
}
