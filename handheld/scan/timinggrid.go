package scan

import "math"

// Grid from the timing pattern. A symbol from a printer that feeds the
// label unevenly, or an image stretched unevenly, has module columns (or
// rows) of different widths; no homography puts every module centre where
// it is, and the timing alternation scored at evenly spaced modules does
// not even give the size. The dashed top and right edges show the extent
// of every column and every row: the size is their count, and each module
// is sampled at the centre of its own column and row (the columns measured
// along the top edge, the rows along the right edge, both in the
// outline's projective coordinates, so perspective is still followed).

// timingScratch holds the buffers of the timing-grid step.
type timingScratch struct {
	prof       []float64
	cols, rows []float64 // transitions found, fractions of the side
}

// timingGridMinContrast is the grey-level range a timing edge needs.
const timingGridMinContrast = 24

// edgeTransitions samples the top (top true) or right side of the unit
// square of h at inset d (a fraction of the other side) and returns the
// positions, as fractions of the side, of its dark/light transitions, or
// false when the edge is flat or starts with the wrong colour (the top
// edge starts dark at the left, the right edge light at the top). n is
// the number of samples along the side.
func edgeTransitions(g *grayView, h *homography, top bool, d float64, n int, ts *timingScratch, out []float64) ([]float64, bool) {
	out = out[:0]
	ts.prof = grow(ts.prof, n)
	prof := ts.prof[:n]
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range prof {
		t := (float64(i) + 0.5) / float64(n)
		var s float64
		// three samples across the module's thickness
		for _, k := range [3]float64{0.6, 1, 1.4} {
			var x, y float64
			if top {
				x, y = h.apply(t, k*d)
			} else {
				x, y = h.apply(1-k*d, t)
			}
			s += g.bilinear(x, y)
		}
		prof[i] = s / 3
		lo = math.Min(lo, prof[i])
		hi = math.Max(hi, prof[i])
	}
	if hi-lo < timingGridMinContrast {
		return out, false
	}
	mid := (lo + hi) / 2
	hyst := 0.15 * (hi - lo)
	dark := prof[0] < mid
	if dark != top {
		return out, false
	}
	for i := 1; i < n; i++ {
		v := prof[i]
		if dark && v > mid+hyst || !dark && v < mid-hyst {
			// the crossing of mid before i, interpolated
			j := i - 1
			for j > 0 && (prof[j] < mid) != dark {
				j--
			}
			a, b := prof[j], prof[j+1]
			f := 0.5
			if a != b {
				f = math.Max(0, math.Min(1, (mid-a)/(b-a)))
			}
			out = append(out, (float64(j)+0.5+f)/float64(n))
			dark = !dark
		}
	}
	return out, true
}

// evenEnough reports whether the m segments that the transitions tr cut
// [0, 1] into have widths within a factor of the mean: uneven columns of a
// badly fed printer, not noise splitting one module in two.
func evenEnough(tr []float64) bool {
	m := len(tr) + 1
	mean := 1 / float64(m)
	prev := 0.0
	for i := 0; i <= len(tr); i++ {
		next := 1.0
		if i < len(tr) {
			next = tr[i]
		}
		if w := next - prev; w < 0.4*mean || w > 2.5*mean {
			return false
		}
		prev = next
	}
	return true
}

// tryTimingGrid reads the symbol on the outline q (TL, TR, BR, BL) with
// the grid taken from its timing edges, for each size whose timing edges
// show exactly its count of columns and rows.
func (s *Scanner) tryTimingGrid(g *grayView, q [4]pt) (Result, bool) {
	h, ok := squareToQuad(q)
	if !ok {
		return Result{}, false
	}
	top := (q[0].dist(q[1]) + q[3].dist(q[2])) / 2
	right := (q[1].dist(q[2]) + q[0].dist(q[3])) / 2
	nTop := min(1024, max(64, int(3*top)))
	nRight := min(1024, max(64, int(3*right)))
	ts := &s.ts
	lastR, lastC := -1, -1
	okTop, okRight := false, false
	for _, sz := range scoredSizes() {
		c, r := sz[0], sz[1]
		if top/float64(c) < 1.5 || right/float64(r) < 1.5 {
			continue
		}
		asp, want := top/right, float64(c)/float64(r)
		if asp/want > rectAspectTol || want/asp > rectAspectTol {
			continue
		}
		// the top edge is read half a row inside, the right edge half a
		// column inside; a size shares them with others of its rows or
		// columns
		if r != lastR {
			ts.cols, okTop = edgeTransitions(g, &h, true, 0.5/float64(r), nTop, ts, ts.cols)
			lastR = r
		}
		if !okTop || len(ts.cols) != c-1 {
			continue
		}
		if c != lastC {
			ts.rows, okRight = edgeTransitions(g, &h, false, 0.5/float64(c), nRight, ts, ts.rows)
			lastC = c
		}
		if !okRight || len(ts.rows) != r-1 || !evenEnough(ts.cols) || !evenEnough(ts.rows) {
			continue
		}
		s.vals = sampleTimingGrid(g, &h, ts.cols, ts.rows, s.vals)
		res, ok := s.decodeVals(c, r)
		if !ok {
			continue
		}
		if c*r <= 144 {
			// as in decodeAt: the smallest symbols need a quiet zone
			gh, ok := gridHomography(q, c, r)
			if !ok || !quietRing(g, &gh, c, r, s.vals) {
				continue
			}
		}
		for k := range q {
			res.Corners[k] = imagePt(q[k])
		}
		return res, true
	}
	return Result{}, false
}

// sampleTimingGrid reads every module's mean intensity like sampleGrid,
// at the centres of the columns and rows that the transitions cols (top
// edge, left to right) and rows (right edge, top to bottom) delimit; h maps
// the unit square onto the outline.
func sampleTimingGrid(g *grayView, h *homography, cols, rows []float64, vals []float64) []float64 {
	c, r := len(cols)+1, len(rows)+1
	vals = grow(vals, c*r)
	bound := func(tr []float64, i int) float64 {
		switch {
		case i <= 0:
			return 0
		case i > len(tr):
			return 1
		}
		return tr[i-1]
	}
	const o = 0.22
	for j := 0; j < r; j++ {
		v0, v1 := bound(rows, j), bound(rows, j+1)
		v, dv := (v0+v1)/2, o*(v1-v0)
		for i := 0; i < c; i++ {
			u0, u1 := bound(cols, i), bound(cols, i+1)
			u, du := (u0+u1)/2, o*(u1-u0)
			x, y := h.apply(u, v)
			sum := 2 * g.bilinear(x, y)
			for _, d := range [4][2]float64{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
				x, y = h.apply(u+d[0]*du, v+d[1]*dv)
				sum += g.bilinear(x, y)
			}
			vals[j*c+i] = sum / 6
		}
	}
	return vals
}
