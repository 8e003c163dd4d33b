package scan

import (
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/refdata"
)

// rotate90 returns img rotated by 90° clockwise.
func rotate90(g *image.Gray) *image.Gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[x*out.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
		}
	}
	return out
}

// TestZXingBlackbox reads zxing's DataMatrix black-box images (real
// renderings and photos) at 0°, 90°, 180° and 270°.
func TestZXingBlackbox(t *testing.T) {
	dir := refdata.Require(t, "datamatrix", "zxing-blackbox-1")
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no images in %s: %v", dir, err)
	}
	for _, opt := range []Options{{Budget: 5 * time.Second}, {Budget: 5 * time.Second, NoFallback: true}} {
		testBlackbox(t, files, opt)
	}
}

func testBlackbox(t *testing.T, files []string, opt Options) {
	s := New(opt)
	for _, f := range files {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".png") + ".txt")
		if err != nil {
			continue // no expectation
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		g := ToGray(img)
		for rot := 0; rot < 360; rot += 90 {
			r, err := s.DecodeGray(g)
			if err != nil {
				t.Errorf("%s at %d° (%+v): %v", filepath.Base(f), rot, opt, err)
			} else if r.Text != string(want) {
				t.Errorf("%s at %d°: got %q want %q", filepath.Base(f), rot, r.Text, want)
			}
			g = rotate90(g)
		}
	}
}
