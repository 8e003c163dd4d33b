package scan

import (
	"math"

	"github.com/makiuchi-d/gozxing"
)

// Symbol geometry: orientation from the solid L, module counts from the
// dashed timing edges, corner refinement against the known border pattern,
// and module sampling with a threshold fitted to the border.

// symbolSizes are the ECC 200 symbol sizes (cols, rows).
func symbolSizes() [][2]int {
	return [][2]int{
		{10, 10}, {12, 12}, {14, 14}, {16, 16}, {18, 18}, {20, 20}, {22, 22}, {24, 24}, {26, 26},
		{32, 32}, {36, 36}, {40, 40}, {44, 44}, {48, 48}, {52, 52}, {64, 64}, {72, 72}, {80, 80},
		{88, 88}, {96, 96}, {104, 104}, {120, 120}, {132, 132}, {144, 144},
		{18, 8}, {32, 8}, {26, 12}, {36, 12}, {36, 16}, {48, 16},
		// DMRE (ISO/IEC 21471): long thin and wider rectangles
		{48, 8}, {64, 8}, {80, 8}, {96, 8}, {120, 8}, {144, 8}, {64, 12}, {88, 12}, {64, 16},
		{36, 20}, {44, 20}, {64, 20}, {48, 22}, {48, 24}, {64, 24}, {40, 26}, {48, 26}, {64, 26},
	}
}

// scoredSizes are the sizes the timing edges are scored for: every
// symbol size, and each rectangle transposed (how a mirrored rectangle
// appears once its solid L is put at the bottom left).
func scoredSizes() [][2]int {
	out := symbolSizes()
	for _, sz := range out {
		if sz[0] != sz[1] {
			out = append(out, [2]int{sz[1], sz[0]})
		}
	}
	return out
}

// validSize reports whether c x r is an ECC 200 size as read (not
// transposed).
func validSize(c, r int) bool {
	for _, sz := range symbolSizes() {
		if sz[0] == c && sz[1] == r {
			return true
		}
	}
	return false
}

// bilinear samples g at image position (x, y) (pixel centres at +0.5).
func (g *grayView) bilinear(x, y float64) float64 {
	x -= 0.5
	y -= 0.5
	if x < 0 {
		x = 0
	}
	if y < 0 {
		y = 0
	}
	if x > float64(g.w-1) {
		x = float64(g.w - 1)
	}
	if y > float64(g.h-1) {
		y = float64(g.h - 1)
	}
	ix, iy := int(x), int(y)
	fx, fy := x-float64(ix), y-float64(iy)
	ix1, iy1 := min(ix+1, g.w-1), min(iy+1, g.h-1)
	r0, r1 := g.pix[iy*g.stride:], g.pix[iy1*g.stride:]
	a := float64(r0[ix])*(1-fx) + float64(r0[ix1])*fx
	b := float64(r1[ix])*(1-fx) + float64(r1[ix1])*fx
	return a*(1-fy) + b*fy
}

// orient reorders a clockwise quad so that q[3] (bottom-left) is the corner
// where the two solid finder edges meet: TL, TR, BR, BL.
//
// The second result is a confidence that the quad has a solid L: how much
// darker its two darkest adjacent sides are than the other two, relative
// to the contrast against the surround (about 0.5 for a symbol).
func orient(g *grayView, q [4]pt) ([4]pt, float64, bool) {
	h, ok := squareToQuad(q)
	if !ok {
		return q, 0, false
	}
	// mean intensity just inside each side, at several insets (symbols
	// have 8 to 144 modules a side); the darkest inset counts. Insets are
	// fractions of the shorter side, so that a long thin rectangle (8x144)
	// is probed within its first module on every side.
	wl := (q[0].dist(q[1]) + q[2].dist(q[3])) / 2
	hl := (q[1].dist(q[2]) + q[3].dist(q[0])) / 2
	short := math.Min(wl, hl)
	if short <= 0 {
		return q, 0, false
	}
	iu, iv := short/wl, short/hl // inset scale across sides 1, 3 and 0, 2
	const n = 48
	var side [4]float64
	for s := 0; s < 4; s++ {
		side[s] = math.Inf(1)
		for _, inset := range [...]float64{0.006, 0.012, 0.024, 0.04} {
			var sum float64
			for i := 0; i < n; i++ {
				t := 0.1 + 0.8*(float64(i)+0.5)/n
				var u, v float64
				switch s {
				case 0: // q0->q1
					u, v = t, inset*iv
				case 1:
					u, v = 1-inset*iu, t
				case 2:
					u, v = t, 1-inset*iv
				case 3:
					u, v = inset*iu, t
				}
				x, y := h.apply(u, v)
				sum += g.bilinear(x, y)
			}
			side[s] = math.Min(side[s], sum/n)
		}
	}
	// corner k is between side k-1 and side k
	best, bk := math.Inf(1), 0
	for k := 0; k < 4; k++ {
		if v := side[(k+3)%4] + side[k]; v < best {
			best, bk = v, k
		}
	}
	// surround: just outside the quad
	var out float64
	const no = 64
	ou, ov := 0.03*iu, 0.03*iv
	if math.Max(wl, hl) > 1.5*short {
		// rectangles have 8 to 26 modules across: reach past the border
		ou, ov = 0.08*iu, 0.08*iv
	}
	for i := 0; i < no; i++ {
		t := (float64(i) + 0.5) / no
		var u, v float64
		switch i % 4 {
		case 0:
			u, v = t, -ov
		case 1:
			u, v = 1+ou, t
		case 2:
			u, v = t, 1+ov
		case 3:
			u, v = -ou, t
		}
		x, y := h.apply(u, v)
		out += g.bilinear(x, y)
	}
	out /= no
	lmean := best / 2
	tmean := (side[(bk+1)%4] + side[(bk+2)%4]) / 2
	conf := 0.0
	if out-lmean > 4 {
		conf = (tmean - lmean) / (out - lmean)
	}
	// BL = q[bk]; TL, TR, BR follow clockwise.
	return [4]pt{q[(bk+1)%4], q[(bk+2)%4], q[(bk+3)%4], q[bk]}, conf, true
}

// sizeCandidate is a symbol size with its timing-pattern score.
type sizeCandidate struct {
	cols, rows int
	score      float64
}

// rectAspectTol is how far a rectangle's outline may be from the
// proportions of a size (keystone, foreshortening) for that size to be
// scored.
const rectAspectTol = 1.5

// timingScores scores every symbol size by correlating the intensity
// profiles half a module inside the top and right edges with their
// expected alternation. q is oriented (TL, TR, BR, BL).
func timingScores(g *grayView, q [4]pt, out []sizeCandidate, buf []float64) []sizeCandidate {
	out = out[:0]
	top := q[0].dist(q[1])
	right := q[1].dist(q[2])
	for _, sz := range scoredSizes() {
		c, r := sz[0], sz[1]
		if top/float64(c) < 1.1 || right/float64(r) < 1.1 {
			continue
		}
		// quick aspect filter: a rectangle must look like one
		asp := top / right
		want := float64(c) / float64(r)
		tol := 1.9
		if c != r {
			// rectangles come in many proportions (1.5 to 18): the
			// outline's own tells them apart
			tol = rectAspectTol
		}
		if asp/want > tol || want/asp > tol {
			continue
		}
		h, ok := gridHomography(q, c, r)
		if !ok {
			continue
		}
		s := profileScore(g, &h, c, r, true, buf) + profileScore(g, &h, c, r, false, buf)
		out = append(out, sizeCandidate{c, r, s})
	}
	// sort descending by score (few elements)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].score > out[j-1].score; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// profileScore correlates the module means along a timing edge (top if
// top, else right) with the expected alternation; 1 is a perfect match.
func profileScore(g *grayView, h *homography, c, r int, top bool, buf []float64) float64 {
	m := c
	if !top {
		m = r
	}
	buf = grow(buf, m)
	var mean float64
	for i := 0; i < m; i++ {
		var sum float64
		for _, a := range [3]float64{0.3, 0.5, 0.7} {
			for _, b := range [3]float64{0.3, 0.5, 0.7} {
				var x, y float64
				if top {
					x, y = h.apply(float64(i)+a, b)
				} else {
					x, y = h.apply(float64(c)-b, float64(i)+a)
				}
				sum += g.bilinear(x, y)
			}
		}
		buf[i] = sum / 9
		mean += buf[i]
	}
	mean /= float64(m)
	var corr, vv float64
	for i := 0; i < m; i++ {
		dark := i%2 == 0
		if !top {
			dark = i%2 == 1
		}
		d := buf[i] - mean
		vv += d * d
		if dark {
			corr -= d
		} else {
			corr += d
		}
	}
	if vv == 0 {
		return 0
	}
	return corr / math.Sqrt(vv*float64(m))
}

// borderScore is the contrast between the border modules and quiet ring
// expected light and those expected dark, for a candidate placement.
func borderScore(g *grayView, q [4]pt, c, r int) float64 {
	h, ok := gridHomography(q, c, r)
	if !ok {
		return -1e9
	}
	var light, dark float64
	var nl, nd int
	add := func(u, v float64, isDark bool) {
		x, y := h.apply(u, v)
		val := g.bilinear(x, y)
		if isDark {
			dark += val
			nd++
		} else {
			light += val
			nl++
		}
	}
	fc, fr := float64(c), float64(r)
	for i := 0; i < c; i++ {
		u := float64(i) + 0.5
		add(u, 0.5, i%2 == 0)
		add(u, fr-0.5, true)
		add(u, -0.5, false)
		add(u, fr+0.5, false)
	}
	for j := 1; j < r-1; j++ {
		v := float64(j) + 0.5
		add(0.5, v, true)
		add(fc-0.5, v, j%2 == 1)
		add(-0.5, v, false)
		add(fc+0.5, v, false)
	}
	return light/float64(nl) - dark/float64(nd)
}

// refine moves the corners to maximise borderScore, coarse to fine.
func refine(g *grayView, q [4]pt, c, r int) ([4]pt, float64) {
	return climbCorners(q, c, r, [3]float64{0.5, 0.25, 0.1}, 0.2, 6, func(t [4]pt) float64 { return borderScore(g, t, c, r) })
}

// climbCorners moves one corner at a time by a step in eight directions
// while score improves, the step a fraction of a module (each of steps,
// at least minStep pixels), at most iters rounds a step. It returns the
// corners and their score.
func climbCorners(q [4]pt, c, r int, steps [3]float64, minStep float64, iters int, score func([4]pt) float64) ([4]pt, float64) {
	mod := (q[0].dist(q[1])/float64(c) + q[1].dist(q[2])/float64(r)) / 2
	best := score(q)
	dirs := [8]pt{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {0.7, 0.7}, {-0.7, -0.7}, {0.7, -0.7}, {-0.7, 0.7}}
	for _, stepF := range steps {
		step := math.Max(stepF*mod, minStep)
		for iter := 0; iter < iters; iter++ {
			improved := false
			for k := 0; k < 4; k++ {
				for _, d := range dirs {
					t := q
					t[k] = t[k].add(d.scale(step))
					if s := score(t); s > best {
						best, q, improved = s, t, true
					}
				}
			}
			if !improved {
				break
			}
		}
	}
	return q, best
}

// plane is a least-squares fit z = a + b*u + c*v.
type plane struct{ a, b, c float64 }

type planeFit struct{ n, su, sv, suu, svv, suv, sz, suz, svz float64 }

func (p *planeFit) add(u, v, z float64) {
	p.n++
	p.su += u
	p.sv += v
	p.suu += u * u
	p.svv += v * v
	p.suv += u * v
	p.sz += z
	p.suz += u * z
	p.svz += v * z
}

func (p *planeFit) solve() plane {
	// normal equations, 3x3 by Cramer's rule
	a := [3][3]float64{{p.n, p.su, p.sv}, {p.su, p.suu, p.suv}, {p.sv, p.suv, p.svv}}
	b := [3]float64{p.sz, p.suz, p.svz}
	det := det3(a)
	if math.Abs(det) < 1e-9 {
		return plane{a: p.sz / math.Max(p.n, 1)}
	}
	var x [3]float64
	for i := 0; i < 3; i++ {
		m := a
		for r := 0; r < 3; r++ {
			m[r][i] = b[r]
		}
		x[i] = det3(m) / det
	}
	return plane{x[0], x[1], x[2]}
}

func det3(m [3][3]float64) float64 {
	return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
}

func (p plane) at(u, v float64) float64 { return p.a + p.b*u + p.c*v }

// sampleGrid reads every module's mean intensity into vals (row-major).
func sampleGrid(g *grayView, h *homography, c, r int, vals []float64) []float64 {
	vals = grow(vals, c*r)
	const o = 0.22
	for j := 0; j < r; j++ {
		for i := 0; i < c; i++ {
			u, v := float64(i)+0.5, float64(j)+0.5
			var s float64
			x, y := h.apply(u, v)
			s += 2 * g.bilinear(x, y)
			for _, d := range [4][2]float64{{-o, -o}, {o, -o}, {-o, o}, {o, o}} {
				x, y = h.apply(u+d[0], v+d[1])
				s += g.bilinear(x, y)
			}
			vals[j*c+i] = s / 6
		}
	}
	return vals
}

// borderPlanes fits the dark and light levels over the symbol from the
// border modules, whose colours are known.
func borderPlanes(vals []float64, c, r int) (dark, light plane) {
	var d, l planeFit
	put := func(i, j int, isDark bool) {
		z := vals[j*c+i]
		if isDark {
			d.add(float64(i), float64(j), z)
		} else {
			l.add(float64(i), float64(j), z)
		}
	}
	for i := 0; i < c; i++ {
		put(i, 0, i%2 == 0)
		put(i, r-1, true)
	}
	for j := 1; j < r-1; j++ {
		put(0, j, true)
		put(c-1, j, j%2 == 1)
	}
	return d.solve(), l.solve()
}

// bitsFrom thresholds sampled values into a bit matrix; bias shifts the
// threshold towards dark (<0) or light (>0) as a fraction of the contrast.
func bitsFrom(vals []float64, c, r int, dark, light plane, bias float64, bm *gozxing.BitMatrix) {
	bm.Clear()
	for j := 0; j < r; j++ {
		for i := 0; i < c; i++ {
			fu, fv := float64(i), float64(j)
			d, l := dark.at(fu, fv), light.at(fu, fv)
			t := (d+l)/2 + bias*(l-d)
			if vals[j*c+i] < t {
				bm.Set(i, j)
			}
		}
	}
}

// quickTiming is a cheap timing score: one sample per timing module,
// correlated with the expected alternation on both timing edges.
func quickTiming(g *grayView, h *homography, c, r int) float64 {
	var sum, sum2, corr float64
	n := 0
	add := func(u, v float64, dark bool) {
		x, y := h.apply(u, v)
		val := g.bilinear(x, y)
		sum += val
		sum2 += val * val
		if dark {
			corr -= val
		} else {
			corr += val
		}
		n++
	}
	for i := 0; i < c; i++ {
		add(float64(i)+0.5, 0.5, i%2 == 0)
	}
	for j := 1; j < r; j++ {
		add(float64(c)-0.5, float64(j)+0.5, j%2 == 1)
	}
	mean := sum / float64(n)
	vv := sum2 - float64(n)*mean*mean
	if vv <= 0 {
		return 0
	}
	// corr is relative to the mean because dark and light counts differ
	// by at most one
	return corr / math.Sqrt(vv*float64(n))
}

// searchOpenCorner trusts TL, BR and BL (the solid L) and searches the
// top-right corner on a grid around its estimate for the position and
// symbol size whose timing edges alternate best.
func searchOpenCorner(g *grayView, q [4]pt) ([4]pt, sizeCandidate) {
	side := (q[0].dist(q[3]) + q[2].dist(q[3])) / 2
	est := q[0].add(q[2]).sub(q[3])
	best := sizeCandidate{score: -1}
	bestQ := q
	for _, sz := range symbolSizes() {
		c, r := sz[0], sz[1]
		mod := math.Min(q[2].dist(q[3])/float64(c), q[0].dist(q[3])/float64(r))
		if mod < 1.1 {
			continue
		}
		asp := q[2].dist(q[3]) / q[0].dist(q[3])
		want := float64(c) / float64(r)
		if asp/want > 1.6 || want/asp > 1.6 {
			continue
		}
		R := 0.15 * side
		step := math.Max(1, mod/2)
		for dy := -R; dy <= R; dy += step {
			for dx := -R; dx <= R; dx += step {
				t := q
				t[1] = pt{est.X + dx, est.Y + dy}
				h, ok := gridHomography(t, c, r)
				if !ok {
					continue
				}
				if s := quickTiming(g, &h, c, r); s > best.score {
					best = sizeCandidate{c, r, s}
					bestQ = t
				}
			}
		}
	}
	return bestQ, best
}
