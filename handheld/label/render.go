package label

import (
	"image"
	"image/color"
)

// Render draws the symbol with module pixels per module and a quiet zone of
// quiet modules on every side, dark on white.
func Render(s *Symbol, module, quiet int) *image.Gray {
	if module < 1 {
		module = 1
	}
	if quiet < 0 {
		quiet = 0
	}
	w := (s.Cols + 2*quiet) * module
	h := (s.Rows + 2*quiet) * module
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 0; y < s.Rows; y++ {
		for x := 0; x < s.Cols; x++ {
			if !s.Dark(x, y) {
				continue
			}
			x0, y0 := (x+quiet)*module, (y+quiet)*module
			for yy := y0; yy < y0+module; yy++ {
				row := img.Pix[yy*img.Stride:]
				for xx := x0; xx < x0+module; xx++ {
					row[xx] = 0
				}
			}
		}
	}
	return img
}

// drawSymbol paints s onto dst with its top-left module corner at (x0, y0).
func drawSymbol(dst *image.Gray, s *Symbol, x0, y0, module int) {
	for y := 0; y < s.Rows; y++ {
		for x := 0; x < s.Cols; x++ {
			if !s.Dark(x, y) {
				continue
			}
			for yy := 0; yy < module; yy++ {
				for xx := 0; xx < module; xx++ {
					dst.SetGray(x0+x*module+xx, y0+y*module+yy, color.Gray{})
				}
			}
		}
	}
}
