// Package synth renders camera-like frames of a GS1 DataMatrix pack label
// for benchmarks and property tests: a label with text on a textured
// carton, seen through a homography (rotation, keystone, scale), with blur,
// an illumination gradient, reduced contrast and sensor noise. Every frame
// comes with the exact text it must decode to and the parameters used.
package synth

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/custodyhq/custody/handheld/label"
)

var (
	// ErrParams reports parameters that cannot be rendered.
	ErrParams = errors.New("synth: invalid parameters")
)

// Params describe one frame.
type Params struct {
	W, H     int     `json:"-"`
	Module   float64 `json:"module_px"`    // module size in pixels at the symbol centre
	Rotation float64 `json:"rotation_deg"` // in-plane rotation
	KeyX     float64 `json:"keystone_x"`   // 0..0.5: 1 - (short side / long side) along x
	KeyY     float64 `json:"keystone_y"`
	Blur     float64 `json:"blur_sigma"`  // Gaussian sigma in pixels
	Light    int     `json:"light"`       // grey level of the label paper
	Contrast int     `json:"contrast"`    // paper minus ink grey levels
	Gradient float64 `json:"gradient"`    // 0..1 illumination fall-off across the frame
	Noise    float64 `json:"noise_sigma"` // Gaussian sensor noise, grey levels
	OffX     float64 `json:"offset_x"`    // symbol centre offset, fraction of frame width
	OffY     float64 `json:"offset_y"`    // fraction of frame height
	Clutter  bool    `json:"clutter"`     // label text next to the code
	// DMRERows, when set, encodes a rectangular extension (DMRE) symbol
	// of that many rows (8 gives the long thin vial codes) instead of a
	// square one.
	DMRERows int    `json:"dmre_rows,omitempty"`
	Seed     uint64 `json:"seed"`
}

// Frame is a rendered frame with its expected decode.
type Frame struct {
	Image  *image.Gray
	Text   string // expected text: GS1 data, GS as 0x1D, no leading FNC1
	Params Params
	// Corners are the symbol's outer corners in the frame (top-left,
	// top-right, bottom-right, bottom-left in symbol orientation).
	Corners [4][2]float64
}

// RandomGS1 returns random GS1 data for a pack: (01) GTIN with check
// digit, (17) expiry, (10) lot and (21) serial from character set 82.
func RandomGS1(rng *rand.Rand) []byte {
	const cs = "0123456789ABCDEFGHJKLMNPRSTUVWXYZabcdefghijkmnpqrstuvwxyz-./"
	gtin := make([]byte, 13)
	gtin[0] = '0'
	for i := 1; i < 13; i++ {
		gtin[i] = byte('0' + rng.IntN(10))
	}
	sum := 0
	for i := 12; i >= 0; i-- {
		d := int(gtin[i] - '0')
		if (12-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	gtin = append(gtin, byte('0'+(10-sum%10)%10))
	b := append([]byte("01"), gtin...)
	b = append(b, fmt.Sprintf("17%02d%02d%02d", 26+rng.IntN(8), 1+rng.IntN(12), rng.IntN(29))...)
	rnd := func(n int) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = cs[rng.IntN(len(cs))]
		}
		return out
	}
	lot := rnd(3 + rng.IntN(8))
	ser := rnd(6 + rng.IntN(15))
	if rng.IntN(2) == 0 {
		b = append(b, "10"...)
		b = append(b, lot...)
		b = append(b, label.GS)
		b = append(b, "21"...)
		b = append(b, ser...)
	} else {
		b = append(b, "21"...)
		b = append(b, ser...)
		b = append(b, label.GS)
		b = append(b, "10"...)
		b = append(b, lot...)
	}
	return b
}

// scene is the label plane in module units: the symbol occupies
// [0,cols]x[0,rows]; label paper and text around it; carton outside.
type scene struct {
	sym                *label.Symbol
	lx0, ly0, lx1, ly1 float64 // label paper
	text               *image.Gray
	tx0, ty0, tscale   float64 // text bitmap origin (modules) and modules per text pixel
	carton             [64 * 64]float32
	cartonScale        float64
}

func (s *scene) reflect(u, v float64) float64 {
	if u >= 0 && v >= 0 && u < float64(s.sym.Cols) && v < float64(s.sym.Rows) {
		if s.sym.Dark(int(u), int(v)) {
			return 0
		}
		return 1
	}
	if u >= s.lx0 && u < s.lx1 && v >= s.ly0 && v < s.ly1 {
		if s.text != nil {
			tx := int((u - s.tx0) / s.tscale)
			ty := int((v - s.ty0) / s.tscale)
			if tx >= 0 && ty >= 0 && tx < s.text.Rect.Dx() && ty < s.text.Rect.Dy() {
				return float64(s.text.Pix[ty*s.text.Stride+tx]) / 255
			}
		}
		return 1
	}
	// carton: bilinear value noise plus fine fibres
	cu, cv := u*s.cartonScale, v*s.cartonScale
	iu, iv := math.Floor(cu), math.Floor(cv)
	fu, fv := cu-iu, cv-iv
	at := func(a, b float64) float64 {
		return float64(s.carton[(int(a)&63)*64+(int(b)&63)])
	}
	n := at(iu, iv)*(1-fu)*(1-fv) + at(iu+1, iv)*fu*(1-fv) + at(iu, iv+1)*(1-fu)*fv + at(iu+1, iv+1)*fu*fv
	return 0.45 + 0.25*n
}

// Render draws one frame for data with the given parameters.
func Render(data []byte, p Params) (*Frame, error) {
	if p.W < 32 || p.H < 32 || p.Module <= 0.5 || p.Contrast <= 0 || p.Light <= 0 || p.Light > 255 {
		return nil, fmt.Errorf("%w: %+v", ErrParams, p)
	}
	var sym *label.Symbol
	var err error
	if p.DMRERows > 0 {
		sym, err = label.EncodeGS1DMRE(data, p.DMRERows)
	} else {
		sym, err = label.EncodeGS1(data, label.Square)
	}
	if err != nil {
		return nil, fmt.Errorf("synth: encode: %w", err)
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	sc := &scene{sym: sym, cartonScale: 0.35}
	for i := range sc.carton {
		sc.carton[i] = float32(rng.Float64())
	}
	c, r := float64(sym.Cols), float64(sym.Rows)
	const quiet = 3
	sc.lx0, sc.ly0 = -quiet, -quiet
	sc.lx1, sc.ly1 = c+quiet, r+quiet
	if p.Clutter {
		lines := []string{"PARACETAMOL 500mg", "30 TABLETS  Rx", "LOT " + strconv.Itoa(rng.IntN(99999)), "EXP 12/2028", "SN " + strconv.Itoa(rng.IntN(1e9))}
		sc.text = textBitmap(lines)
		// text lines are 2.2 modules tall, starting 2.5 modules right of the code
		sc.tscale = 2.2 / 15
		sc.tx0 = c + 2.5
		sc.ty0 = -0.5
		sc.lx1 = sc.tx0 + float64(sc.text.Rect.Dx())*sc.tscale + quiet
		sc.ly1 = math.Max(r+quiet, sc.ty0+float64(sc.text.Rect.Dy())*sc.tscale+1)
	}

	// forward homography: scene (modules) -> frame (pixels)
	L := math.Max(c, r) * p.Module
	kx := keyCoef(p.KeyX) / L
	ky := keyCoef(p.KeyY) / L
	th := p.Rotation * math.Pi / 180
	cs, sn := math.Cos(th), math.Sin(th)
	cx := float64(p.W)/2 + p.OffX*float64(p.W)
	cy := float64(p.H)/2 + p.OffY*float64(p.H)
	// point in centred pixel coords q = R*S*(u-c/2, v-r/2); projective
	// divide w = 1 + kx*qx + ky*qy; frame = q/w + centre.
	A := mat3{
		p.Module * cs, -p.Module * sn, 0,
		p.Module * sn, p.Module * cs, 0,
		0, 0, 1,
	}
	T0 := mat3{1, 0, -c / 2, 0, 1, -r / 2, 0, 0, 1}
	P := mat3{1, 0, 0, 0, 1, 0, kx, ky, 1}
	T1 := mat3{1, 0, cx, 0, 1, cy, 0, 0, 1}
	F := T1.mul(P.mul(A.mul(T0)))
	Hinv, ok := F.inv()
	if !ok {
		return nil, fmt.Errorf("%w: singular transform", ErrParams)
	}

	img := image.NewGray(image.Rect(0, 0, p.W, p.H))
	buf := make([]float64, p.W*p.H)
	// illumination gradient direction
	ga := rng.Float64() * 2 * math.Pi
	gx, gy := math.Cos(ga), math.Sin(ga)
	diag := math.Hypot(float64(p.W), float64(p.H))
	dark := float64(p.Light - p.Contrast)
	sub := [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			var acc float64
			for _, s := range sub {
				u, v := Hinv.apply(float64(x)+s[0], float64(y)+s[1])
				acc += sc.reflect(u, v)
			}
			refl := acc / 4
			t := ((float64(x)-float64(p.W)/2)*gx + (float64(y)-float64(p.H)/2)*gy) / diag
			illum := 1 - p.Gradient*(t+0.5)
			buf[y*p.W+x] = (dark + refl*float64(p.Contrast)) * illum
		}
	}
	if p.Blur > 0.05 {
		gaussBlur(buf, p.W, p.H, p.Blur)
	}
	for i, v := range buf {
		if p.Noise > 0 {
			v += rng.NormFloat64() * p.Noise
		}
		img.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(v))))
	}
	f := &Frame{Image: img, Text: string(data), Params: p}
	for i, pt := range [4][2]float64{{0, 0}, {c, 0}, {c, r}, {0, r}} {
		f.Corners[i][0], f.Corners[i][1] = F.apply(pt[0], pt[1])
	}
	return f, nil
}

// keyCoef converts a keystone fraction k (short/long = 1-k) to the
// projective coefficient over the symbol size.
func keyCoef(k float64) float64 {
	if k <= 0 {
		return 0
	}
	a := k / (2 - k)
	return 2 * a
}

func textBitmap(lines []string) *image.Gray {
	face := basicfont.Face7x13
	w := 0
	for _, l := range lines {
		w = max(w, font.MeasureString(face, l).Ceil())
	}
	img := image.NewGray(image.Rect(0, 0, w, 15*len(lines)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.Black, Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(0, 15*i+12)
		d.DrawString(l)
	}
	return img
}

func gaussBlur(buf []float64, w, h int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	var sum float64
	for i := -rad; i <= rad; i++ {
		k[i+rad] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
		sum += k[i+rad]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float64, len(buf))
	for y := 0; y < h; y++ {
		row := buf[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var a float64
			for i := -rad; i <= rad; i++ {
				xx := min(max(x+i, 0), w-1)
				a += row[xx] * k[i+rad]
			}
			tmp[y*w+x] = a
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var a float64
			for i := -rad; i <= rad; i++ {
				yy := min(max(y+i, 0), h-1)
				a += tmp[yy*w+x] * k[i+rad]
			}
			buf[y*w+x] = a
		}
	}
}

type mat3 [9]float64

func (a mat3) mul(b mat3) mat3 {
	var c mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[i*3+j] = a[i*3]*b[j] + a[i*3+1]*b[3+j] + a[i*3+2]*b[6+j]
		}
	}
	return c
}

func (a mat3) apply(x, y float64) (float64, float64) {
	w := a[6]*x + a[7]*y + a[8]
	return (a[0]*x + a[1]*y + a[2]) / w, (a[3]*x + a[4]*y + a[5]) / w
}

func (a mat3) inv() (mat3, bool) {
	det := a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
	if math.Abs(det) < 1e-12 {
		return mat3{}, false
	}
	d := 1 / det
	return mat3{
		(a[4]*a[8] - a[5]*a[7]) * d, (a[2]*a[7] - a[1]*a[8]) * d, (a[1]*a[5] - a[2]*a[4]) * d,
		(a[5]*a[6] - a[3]*a[8]) * d, (a[0]*a[8] - a[2]*a[6]) * d, (a[2]*a[3] - a[0]*a[5]) * d,
		(a[3]*a[7] - a[4]*a[6]) * d, (a[1]*a[6] - a[0]*a[7]) * d, (a[0]*a[4] - a[1]*a[3]) * d,
	}, true
}
