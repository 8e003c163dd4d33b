package scan

import (
	"image"
	"image/draw"
)

// ToGray returns img as *image.Gray, converting (ITU-R 601 luma via the
// standard library) when it is not one already.
func ToGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	if y, ok := img.(*image.YCbCr); ok {
		// the Y plane is the luminance: no conversion needed
		b := y.Bounds()
		g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for row := 0; row < b.Dy(); row++ {
			off := y.YOffset(b.Min.X, b.Min.Y+row)
			copy(g.Pix[row*g.Stride:row*g.Stride+b.Dx()], y.Y[off:off+b.Dx()])
		}
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	// composite on white: transparent pixels are paper, not ink
	draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Over)
	return g
}
