package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/custodyhq/custody/handheld/label"
)

// CaseParams describe a frame of an open case or tray seen from above:
// Count unit codes on a grid of pack tops, each turned at random, some of
// them partly covered by a patch.
type CaseParams struct {
	W, H    int
	Count   int
	Covered int // how many codes a patch partly covers
	Seed    uint64
	// Data, when set, are the codes' GS1 data (GS as 0x1D, no leading
	// FNC1) and Count is len(Data); otherwise codes are random.
	Data [][]byte
}

// CaseCode is one code in a case frame.
type CaseCode struct {
	Text     string
	Centre   [2]float64 // in the frame
	Module   float64    // pixels
	Rotation float64    // degrees
	Cols     int
	Rows     int
	Covered  bool
}

// CaseFrame is a rendered case frame with every code it shows.
type CaseFrame struct {
	Image *image.Gray
	Codes []CaseCode
}

// caseCode is a code's geometry while rendering: label plane (modules) to
// frame (pixels) and back.
type caseCode struct {
	sym       *label.Symbol
	fwd, inv  mat3
	quiet     float64
	cover     [4]float64 // strip u0, v0, u1, v1 in modules (empty when none)
	coverTone float64
}

// RenderCase draws a case frame. Codes are GS1 DataMatrix (square, and
// one in six a DMRE rectangle as on vials) of 3.5 to 5.5 pixel modules.
func RenderCase(p CaseParams) (*CaseFrame, error) {
	if p.Data != nil {
		p.Count = len(p.Data)
	}
	if p.W < 320 || p.H < 240 || p.Count <= 0 || p.Covered > p.Count {
		return nil, fmt.Errorf("%w: case %+v", ErrParams, p)
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x5bd1e995))
	// grid close to the frame's aspect
	cols := int(math.Ceil(math.Sqrt(float64(p.Count) * float64(p.W) / float64(p.H))))
	rows := (p.Count + cols - 1) / cols
	cw, ch := float64(p.W)/float64(cols), float64(p.H)/float64(rows)
	covered := rng.Perm(p.Count)[:p.Covered]
	isCovered := func(i int) bool {
		for _, c := range covered {
			if c == i {
				return true
			}
		}
		return false
	}
	out := &CaseFrame{Image: image.NewGray(image.Rect(0, 0, p.W, p.H))}
	codes := make([]caseCode, 0, p.Count)
	for i := 0; i < p.Count; i++ {
		data := RandomGS1(rng)
		if p.Data != nil {
			data = p.Data[i]
		}
		var sym *label.Symbol
		var err error
		if rng.IntN(6) == 0 {
			sym, err = label.EncodeGS1DMRE(data, []int{12, 16}[rng.IntN(2)])
		} else {
			sym, err = label.EncodeGS1(data, label.Square)
		}
		if err != nil {
			return nil, fmt.Errorf("synth: encode: %w", err)
		}
		c, r := float64(sym.Cols), float64(sym.Rows)
		const quiet = 3
		// the label (with its quiet zone) turned at any angle fits its cell
		span := math.Hypot(c+2*quiet, r+2*quiet)
		mod := math.Min(0.92*math.Min(cw, ch)/span, 5.5)
		mod = math.Max(3.5, mod*(0.8+0.2*rng.Float64()))
		rot := 360 * rng.Float64()
		cx := (float64(i%cols)+0.5)*cw + 0.06*cw*(2*rng.Float64()-1)
		cy := (float64(i/cols)+0.5)*ch + 0.06*ch*(2*rng.Float64()-1)
		th := rot * math.Pi / 180
		cs, sn := math.Cos(th), math.Sin(th)
		fwd := mat3{1, 0, cx, 0, 1, cy, 0, 0, 1}.mul(mat3{mod * cs, -mod * sn, 0, mod * sn, mod * cs, 0, 0, 0, 1}).mul(mat3{1, 0, -c / 2, 0, 1, -r / 2, 0, 0, 1})
		inv, ok := fwd.inv()
		if !ok {
			return nil, fmt.Errorf("%w: singular transform", ErrParams)
		}
		cc := caseCode{sym: sym, fwd: fwd, inv: inv, quiet: quiet}
		code := CaseCode{Text: string(data), Centre: [2]float64{cx, cy}, Module: mod, Rotation: rot, Cols: sym.Cols, Rows: sym.Rows}
		if isCovered(i) {
			// a patch (tape, a label scrap, glare) over 8 to 12 % of the
			// symbol, inside its border: the finder L and the timing
			// edges stay visible
			area := (0.08 + 0.04*rng.Float64()) * c * r
			pw := math.Min(c-4, math.Sqrt(area)*(0.7+0.6*rng.Float64()))
			ph := math.Min(r-4, area/pw)
			u0 := 2 + (c-4-pw)*rng.Float64()
			v0 := 2 + (r-4-ph)*rng.Float64()
			cc.cover = [4]float64{u0, v0, u0 + pw, v0 + ph}
			cc.coverTone = 0.55 + 0.45*rng.Float64()
			code.Covered = true
		}
		codes = append(codes, cc)
		out.Codes = append(out.Codes, code)
	}
	// carton floor, then each label over it
	buf := make([]float64, p.W*p.H)
	var tex [64 * 64]float32
	for i := range tex {
		tex[i] = float32(rng.Float64())
	}
	const texScale = 0.08
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			cu, cv := float64(x)*texScale, float64(y)*texScale
			iu, iv := math.Floor(cu), math.Floor(cv)
			fu, fv := cu-iu, cv-iv
			at := func(a, b float64) float64 { return float64(tex[(int(a)&63)*64+(int(b)&63)]) }
			n := at(iu, iv)*(1-fu)*(1-fv) + at(iu+1, iv)*fu*(1-fv) + at(iu, iv+1)*(1-fu)*fv + at(iu+1, iv+1)*fu*fv
			buf[y*p.W+x] = 0.4 + 0.25*n
		}
	}
	sub := [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	for _, cc := range codes {
		c, r := float64(cc.sym.Cols), float64(cc.sym.Rows)
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, uv := range [4][2]float64{{-cc.quiet, -cc.quiet}, {c + cc.quiet, -cc.quiet}, {c + cc.quiet, r + cc.quiet}, {-cc.quiet, r + cc.quiet}} {
			x, y := cc.fwd.apply(uv[0], uv[1])
			x0, y0, x1, y1 = math.Min(x0, x), math.Min(y0, y), math.Max(x1, x), math.Max(y1, y)
		}
		for y := max(0, int(y0)); y <= min(p.H-1, int(y1)); y++ {
			for x := max(0, int(x0)); x <= min(p.W-1, int(x1)); x++ {
				var acc float64
				hit := 0
				for _, s := range sub {
					u, v := cc.inv.apply(float64(x)+s[0], float64(y)+s[1])
					refl, ok := cc.reflect(u, v)
					if !ok {
						continue
					}
					acc += refl
					hit++
				}
				if hit > 0 {
					i := y*p.W + x
					buf[i] = (acc + float64(4-hit)*buf[i]) / 4
				}
			}
		}
	}
	light := 200 + 30*rng.Float64()
	contrast := 120 + 60*rng.Float64()
	dark := light - contrast
	ga := rng.Float64() * 2 * math.Pi
	gx, gy := math.Cos(ga), math.Sin(ga)
	diag := math.Hypot(float64(p.W), float64(p.H))
	grad := 0.2 * rng.Float64()
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			t := ((float64(x)-float64(p.W)/2)*gx + (float64(y)-float64(p.H)/2)*gy) / diag
			i := y*p.W + x
			buf[i] = (dark + buf[i]*contrast) * (1 - grad*(t+0.5))
		}
	}
	gaussBlur(buf, p.W, p.H, 0.4+0.4*rng.Float64())
	noise := 1 + 3*rng.Float64()
	for i, v := range buf {
		v += rng.NormFloat64() * noise
		out.Image.Pix[i] = uint8(math.Max(0, math.Min(255, math.Round(v))))
	}
	return out, nil
}

// reflect is the label's reflectance at (u, v) in modules; false outside
// the label.
func (cc *caseCode) reflect(u, v float64) (float64, bool) {
	c, r := float64(cc.sym.Cols), float64(cc.sym.Rows)
	if u < -cc.quiet || v < -cc.quiet || u >= c+cc.quiet || v >= r+cc.quiet {
		return 0, false
	}
	if cv := cc.cover; cv[2] > cv[0] && u >= cv[0] && u < cv[2] && v >= cv[1] && v < cv[3] {
		return cc.coverTone, true
	}
	if u >= 0 && v >= 0 && u < c && v < r && cc.sym.Dark(int(u), int(v)) {
		return 0, true
	}
	return 1, true
}
