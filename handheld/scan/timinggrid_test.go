package scan

import (
	"image"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/shared/refdata"
)

// renderUneven draws sym with column i colW[i%len(colW)] pixels wide and
// row j rowH[j%len(rowH)] pixels high, with a quiet zone of quiet pixels:
// a label from a printer that feeds it unevenly.
func renderUneven(sym *label.Symbol, colW, rowH []int, quiet int) *image.Gray {
	xs := []int{quiet}
	for i := 0; i < sym.Cols; i++ {
		xs = append(xs, xs[i]+colW[i%len(colW)])
	}
	ys := []int{quiet}
	for j := 0; j < sym.Rows; j++ {
		ys = append(ys, ys[j]+rowH[j%len(rowH)])
	}
	img := image.NewGray(image.Rect(0, 0, xs[sym.Cols]+quiet, ys[sym.Rows]+quiet))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for j := 0; j < sym.Rows; j++ {
		for i := 0; i < sym.Cols; i++ {
			if !sym.Dark(i, j) {
				continue
			}
			for y := ys[j]; y < ys[j+1]; y++ {
				for x := xs[i]; x < xs[i+1]; x++ {
					img.Pix[y*img.Stride+x] = 0
				}
			}
		}
	}
	return img
}

// TestUnevenModules reads symbols whose module columns (and rows) have
// uneven widths, at four rotations: no homography fits them, the grid is
// taken from the timing edges.
func TestUnevenModules(t *testing.T) {
	tests := []struct {
		name       string
		n          int // characters encoded
		colW, rowH []int
	}{
		// columns narrowing from 8 to 4 pixels across the symbol
		{"16x16 narrowing", 12, []int{8, 8, 8, 8, 6, 6, 6, 6, 6, 6, 6, 6, 4, 4, 4, 4}, []int{6}},
		{"18x18 uneven columns", 16, []int{5, 8, 6, 4, 7}, []int{6}},
		{"22x22 uneven columns and rows", 30, []int{4, 7, 5, 8, 6, 4, 5}, []int{7, 4, 6, 5}},
	}
	s := New(Options{Budget: 5 * time.Second, NoFallback: true, NoTracking: true})
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
			g := renderUneven(sym, tc.colW, tc.rowH, 12)
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

// TestDistortedSample reads zxing-cpp's distorted.png (uneven module
// columns) at four rotations, from the reference data when present.
func TestDistortedSample(t *testing.T) {
	dir := refdata.Require(t, "datamatrix", "zxingcpp-1")
	var img sampleImage
	for _, im := range loadSamples(t, dir) {
		if im.name == "distorted.png" {
			img = im
		}
	}
	if img.img == nil {
		t.Skip("distorted.png not in the sample set")
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
