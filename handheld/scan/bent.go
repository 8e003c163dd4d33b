package scan

import (
	"image"
	"math"
	"sort"
)

// A bent symbol: a label on a curved or creased surface, or seen through
// a lens that distorts, has its middle columns (or rows) up to a module
// away from where the outline's homography puts them, while its sides are
// where they should be. Heavy ink spread can also leave the dashed edges
// too solid to measure column by column (see timinggrid.go). The module
// positions are then searched as a smooth bend of the outline's
// coordinates, u' = u + a·sin(πu) + b·sin(2πu) across (and the same for v
// down): zero at the sides, one bow or an S. The bend kept is the one
// under which the sampled modules are most clearly dark or light; the
// decoder's error correction is the judge.

const (
	bendMax     = 0.08 // largest bend coefficient searched, a fraction of the side
	bendCoarse  = 0.02 // coarse search step
	bendSeeds   = 3    // coarse cells climbed from
	bendSamples = 700  // modules a sharpness is measured on, at most
)

// bend is one bend of a side: u' = u + a·sin(πu) + b·sin(2πu).
type bend struct{ a, b float64 }

func (w bend) at(u float64) float64 {
	return u + w.a*math.Sin(math.Pi*u) + w.b*math.Sin(2*math.Pi*u)
}

// bentScratch holds the module threshold of the bend search.
type bentScratch struct {
	sorted    []float64 // module values, sorted
	mid, half float64   // threshold and half the contrast
}

// tryBent reads the c x r symbol on the outline q (TL, TR, BR, BL) under
// the bend across and the bend down that make its modules sharpest.
func (s *Scanner) tryBent(g *grayView, q [4]pt, c, r int) (Result, bool) {
	if c*r <= 144 {
		// small symbols do not bend by a module, and have too few
		// error codewords for a search
		return Result{}, false
	}
	h, ok := squareToQuad(q)
	if !ok {
		return Result{}, false
	}
	gh, ok := gridHomography(q, c, r)
	if !ok {
		return Result{}, false
	}
	// one threshold and contrast for the whole symbol, from the spread
	// of its module values as the outline gives them (a heavy ink spread
	// leaves the border's light modules too dark to fit planes to)
	s.vals = sampleGrid(g, &gh, c, r, s.vals)
	bs := &s.bent
	bs.sorted = append(bs.sorted[:0], s.vals[:c*r]...)
	sort.Float64s(bs.sorted)
	lo, hi := bs.sorted[len(bs.sorted)/10], bs.sorted[len(bs.sorted)*9/10]
	if hi-lo < 16 {
		return Result{}, false
	}
	bs.mid, bs.half = (lo+hi)/2, (hi-lo)/2
	for _, across := range s.bestBends(g, &h, c, r, bend{}, bend{}, true) {
		var down bend
		if ds := s.bestBends(g, &h, c, r, across, bend{}, false); len(ds) > 0 {
			down = ds[0]
		}
		for _, w := range [...][2]bend{{across, down}, {across, {}}} {
			s.vals = sampleBent(g, &h, c, r, w[0], w[1], s.vals)
			if res, ok := s.decodeVals(c, r); ok {
				for k := range q {
					res.Corners[k] = imagePt(q[k])
				}
				return res, true
			}
			if down == (bend{}) {
				break
			}
		}
	}
	return Result{}, false
}

// bestBends searches the bends across (or down, when searchAcross is
// false) that maximise sharpness, the other one held: a coarse grid, then
// a finer climb from each of its best few cells. It returns them best
// first (the straight outline among them only when nothing beats it).
func (s *Scanner) bestBends(g *grayView, h *homography, c, r int, across, down bend, searchAcross bool) []bend {
	score := func(w bend) float64 {
		if searchAcross {
			return s.sharpness(g, h, c, r, w, down, true)
		}
		return s.sharpness(g, h, c, r, across, w, false)
	}
	type scored struct {
		w bend
		v float64
	}
	var top [bendSeeds]scored
	for i := range top {
		top[i].v = -1
	}
	insert := func(x scored) {
		for i := range top {
			if x.v > top[i].v {
				copy(top[i+1:], top[i:len(top)-1])
				top[i] = x
				return
			}
		}
	}
	base := score(bend{})
	for a := -bendMax; a <= bendMax+1e-9; a += bendCoarse {
		for b := -bendMax; b <= bendMax+1e-9; b += bendCoarse {
			w := bend{a, b}
			insert(scored{w, score(w)})
		}
	}
	var out []bend
	for _, t := range top {
		if t.v < 0 {
			continue
		}
		for _, step := range [...]float64{bendCoarse / 2, bendCoarse / 4} {
			for moved := true; moved; {
				moved = false
				for _, d := range [...][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					w := bend{t.w.a + d[0]*step, t.w.b + d[1]*step}
					if v := score(w); v > t.v {
						t, moved = scored{w, v}, true
					}
				}
			}
		}
		if t.v > base+0.005 {
			out = append(out, t.w)
		}
	}
	return out
}

// sharpness is the mean distance of the inner modules, each sampled once
// at its centre under the bends, from their threshold, relative to the
// contrast: near 1 when every module is clearly dark or light, lower when
// samples straddle module edges.
func (s *Scanner) sharpness(g *grayView, h *homography, c, r int, across, down bend, searchAcross bool) float64 {
	bs := &s.bent
	// a large symbol is judged on a subset of its modules
	k := 1
	for (c-2)*(r-2) > bendSamples*k*k {
		k++
	}
	// each module is the mean of its centre and two points a quarter
	// module either side along the searched direction: all three agree
	// only when the grid is on the module
	du, dv := 0.25, 0.0
	if !searchAcross {
		du, dv = 0, 0.25
	}
	fc, fr := float64(c), float64(r)
	var sum float64
	n := 0
	for j := 1; j < r-1; j += k {
		for i := 1; i < c-1; i += k {
			u, v := float64(i)+0.5, float64(j)+0.5
			// the points are a quarter of the outline's module apart
			// wherever the bend puts the module: a bend that squeezes
			// modules must not bring them closer together
			bu, bv := across.at(u/fc), down.at(v/fr)
			var m float64
			for _, o := range [3]float64{-1, 0, 1} {
				x, y := h.apply(bu+o*du/fc, bv+o*dv/fr)
				m += g.bilinear(x, y)
			}
			sum += math.Min(1, math.Abs(m/3-bs.mid)/bs.half)
			n++
		}
	}
	return sum / float64(n)
}

// sampleBent reads every module's mean intensity like sampleGrid, through
// h (the unit square onto the outline) and the bends.
func sampleBent(g *grayView, h *homography, c, r int, across, down bend, vals []float64) []float64 {
	vals = grow(vals, c*r)
	const o = 0.22
	fc, fr := float64(c), float64(r)
	for j := 0; j < r; j++ {
		for i := 0; i < c; i++ {
			u, v := float64(i)+0.5, float64(j)+0.5
			x, y := h.apply(across.at(u/fc), down.at(v/fr))
			sum := 2 * g.bilinear(x, y)
			for _, d := range [4][2]float64{{-o, -o}, {o, -o}, {-o, o}, {o, o}} {
				x, y = h.apply(across.at((u+d[0])/fc), down.at((v+d[1])/fr))
				sum += g.bilinear(x, y)
			}
			vals[j*c+i] = sum / 6
		}
	}
	return vals
}

// imagePt rounds p to the nearest pixel.
func imagePt(p pt) image.Point {
	return image.Pt(int(math.Round(p.X)), int(math.Round(p.Y)))
}
