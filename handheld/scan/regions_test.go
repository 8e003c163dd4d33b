package scan

import (
	"image"
	"testing"

	"github.com/custodyhq/custody/handheld/label"
)

// TestInnerBordersDark: the inner solid edges are found on a flat and on
// a curved symbol of several regions, and not where a size hypothesis
// puts them on data: a symbol of one region taken for one of 2x2 or
// 4x4, a 2x2 symbol taken for one of 4x4 (region-wise sampling is then
// skipped).
func TestInnerBordersDark(t *testing.T) {
	tests := []struct {
		name   string
		n      int // characters encoded
		curved bool
		c, r   int // size hypothesis; 0 for the symbol's own
		want   bool
	}{
		{"2x2 regions, flat", 160, false, 0, 0, true},
		{"2x2 regions, curved", 160, true, 0, 0, true},
		{"4x4 regions, flat", 400, false, 0, 0, true},
		{"4x4 regions, curved", 400, true, 0, 0, true},
		{"one region as 2x2", 30, false, 32, 32, false},
		{"one region as 2x2, curved", 30, true, 36, 36, false},
		{"one region as 4x4", 30, false, 64, 64, false},
		{"2x2 regions as 4x4", 160, false, 64, 64, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.n)
			for i := range data {
				data[i] = byte('A' + i%26)
			}
			sym, err := label.EncodePlain(data, label.Square)
			if err != nil {
				t.Fatal(err)
			}
			const mod, quiet = 5, 4
			img := label.Render(sym, mod, quiet)
			if tc.curved {
				img = wrapOnCylinder(img, 0.85*float64(sym.Cols*mod))
			}
			g := viewOf(img)
			c, r := sym.Cols, sym.Rows
			if tc.c > 0 {
				c, r = tc.c, tc.r
			}
			lo, hi := float64(quiet*mod), float64((quiet+sym.Cols)*mod)
			h, ok := gridHomography([4]pt{{lo, lo}, {hi, lo}, {hi, hi}, {lo, hi}}, c, r)
			if !ok {
				t.Fatal("no homography")
			}
			vals := sampleGrid(g, &h, c, r, nil)
			if got := innerBordersDark(g, &h, c, r, vals); got != tc.want {
				t.Errorf("%dx%d symbol as %dx%d: %v, want %v", sym.Cols, sym.Rows, c, r, got, tc.want)
			}
		})
	}
}

func viewOf(img *image.Gray) *grayView {
	return &grayView{pix: img.Pix, w: img.Rect.Dx(), h: img.Rect.Dy(), stride: img.Stride}
}
