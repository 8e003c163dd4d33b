package scan

import "math"

// pt is a point in image pixel coordinates (pixel centres at +0.5).
type pt struct{ X, Y float64 }

func (a pt) sub(b pt) pt        { return pt{a.X - b.X, a.Y - b.Y} }
func (a pt) add(b pt) pt        { return pt{a.X + b.X, a.Y + b.Y} }
func (a pt) scale(f float64) pt { return pt{a.X * f, a.Y * f} }
func (a pt) dist(b pt) float64  { return math.Hypot(a.X-b.X, a.Y-b.Y) }
func cross(o, a, b pt) float64  { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }

// homography maps symbol module coordinates (u, v) to image coordinates.
type homography [9]float64

func (h *homography) apply(u, v float64) (float64, float64) {
	w := h[6]*u + h[7]*v + h[8]
	return (h[0]*u + h[1]*v + h[2]) / w, (h[3]*u + h[4]*v + h[5]) / w
}

// squareToQuad returns the homography taking the unit square corners
// (0,0),(1,0),(1,1),(0,1) to q[0..3] (Heckbert's closed form).
func squareToQuad(q [4]pt) (homography, bool) {
	x0, y0, x1, y1, x2, y2, x3, y3 := q[0].X, q[0].Y, q[1].X, q[1].Y, q[2].X, q[2].Y, q[3].X, q[3].Y
	dx3 := x0 - x1 + x2 - x3
	dy3 := y0 - y1 + y2 - y3
	if dx3 == 0 && dy3 == 0 {
		return homography{x1 - x0, x2 - x1, x0, y1 - y0, y2 - y1, y0, 0, 0, 1}, true
	}
	dx1, dx2 := x1-x2, x3-x2
	dy1, dy2 := y1-y2, y3-y2
	den := dx1*dy2 - dx2*dy1
	if math.Abs(den) < 1e-12 {
		return homography{}, false
	}
	a13 := (dx3*dy2 - dx2*dy3) / den
	a23 := (dx1*dy3 - dx3*dy1) / den
	return homography{
		x1 - x0 + a13*x1, x3 - x0 + a23*x3, x0,
		y1 - y0 + a13*y1, y3 - y0 + a23*y3, y0,
		a13, a23, 1,
	}, true
}

// gridHomography maps module coordinates of a cols x rows symbol (u in
// [0,cols], v in [0,rows], v down) onto the quad q (TL, TR, BR, BL).
func gridHomography(q [4]pt, cols, rows int) (homography, bool) {
	h, ok := squareToQuad(q)
	if !ok {
		return h, false
	}
	// compose with scaling (u/cols, v/rows)
	sx, sy := 1/float64(cols), 1/float64(rows)
	h[0] *= sx
	h[3] *= sx
	h[6] *= sx
	h[1] *= sy
	h[4] *= sy
	h[7] *= sy
	return h, true
}

// convexHull returns the hull of pts in counter-clockwise order (image
// coordinates, y down: clockwise on screen). pts is reordered.
func convexHull(pts []pt, out []pt) []pt {
	out = out[:0]
	if len(pts) < 3 {
		return append(out, pts...)
	}
	sortPts(pts)
	for _, p := range pts {
		for len(out) >= 2 && cross(out[len(out)-2], out[len(out)-1], p) <= 0 {
			out = out[:len(out)-1]
		}
		out = append(out, p)
	}
	lower := len(out) + 1
	for i := len(pts) - 2; i >= 0; i-- {
		p := pts[i]
		for len(out) >= lower && cross(out[len(out)-2], out[len(out)-1], p) <= 0 {
			out = out[:len(out)-1]
		}
		out = append(out, p)
	}
	return out[:len(out)-1]
}

func sortPts(p []pt) {
	// insertion sort is fast on run endpoints, which arrive nearly sorted by y;
	// sort by x then y with a simple shell sort to stay allocation-free.
	n := len(p)
	for gap := n / 2; gap > 0; gap /= 2 {
		for i := gap; i < n; i++ {
			t := p[i]
			j := i
			for ; j >= gap && less(t, p[j-gap]); j -= gap {
				p[j] = p[j-gap]
			}
			p[j] = t
		}
	}
}

func less(a, b pt) bool { return a.X < b.X || (a.X == b.X && a.Y < b.Y) }

// hullQuad picks four hull vertices spanning the largest quadrilateral:
// the longest diagonal, then the farthest points on either side of it.
// The result is ordered clockwise on screen.
func hullQuad(h []pt) ([4]pt, bool) {
	var q [4]pt
	if len(h) < 4 {
		return q, false
	}
	// longest diagonal (O(n^2) over hull vertices, n is small)
	bi, bj, best := 0, 0, -1.0
	for i := range h {
		for j := i + 1; j < len(h); j++ {
			d := (h[i].X-h[j].X)*(h[i].X-h[j].X) + (h[i].Y-h[j].Y)*(h[i].Y-h[j].Y)
			if d > best {
				best, bi, bj = d, i, j
			}
		}
	}
	a, c := h[bi], h[bj]
	var b, d pt
	bmax, dmin := 0.0, 0.0
	for _, p := range h {
		s := cross(a, c, p)
		if s > bmax {
			bmax, b = s, p
		}
		if s < dmin {
			dmin, d = s, p
		}
	}
	if bmax == 0 || dmin == 0 {
		return q, false
	}
	// a, b, c, d: with cross(a,c,b) > 0 the order a->b->c is clockwise on
	// screen (y down) when... normalise by signed area below.
	q = [4]pt{a, b, c, d}
	if quadArea(q) < 0 {
		q = [4]pt{a, d, c, b}
	}
	return q, true
}

// quadArea is the signed area; positive for clockwise order on screen.
func quadArea(q [4]pt) float64 {
	var s float64
	for i := 0; i < 4; i++ {
		j := (i + 1) % 4
		s += q[i].X*q[j].Y - q[j].X*q[i].Y
	}
	return s / 2
}

// lineIntersect intersects line a1-a2 with line b1-b2.
func lineIntersect(a1, a2, b1, b2 pt) (pt, bool) {
	d1, d2 := a2.sub(a1), b2.sub(b1)
	den := d1.X*d2.Y - d1.Y*d2.X
	if math.Abs(den) < 1e-9 {
		return pt{}, false
	}
	t := ((b1.X-a1.X)*d2.Y - (b1.Y-a1.Y)*d2.X) / den
	return a1.add(d1.scale(t)), true
}

// distToLine is the distance from p to the line through a and b.
func distToLine(p, a, b pt) float64 {
	l := a.dist(b)
	if l == 0 {
		return p.dist(a)
	}
	return math.Abs(cross(a, b, p)) / l
}

// supportEnd walks the hull chain from its first vertex and returns the
// farthest vertex whose line from the start keeps every vertex in between
// within tol: the end of the straight edge starting at chain[0].
func supportEnd(chain []pt, tol float64) pt {
	best := chain[1]
	for j := 2; j < len(chain); j++ {
		ok := true
		for i := 1; i < j; i++ {
			if distToLine(chain[i], chain[0], chain[j]) > tol {
				ok = false
				break
			}
		}
		if !ok {
			break
		}
		best = chain[j]
	}
	return best
}

// fixOpenCorner recomputes the top-right corner, whose module is light and
// so clipped off the dark blob's hull, as the intersection of the top and
// right timing edges. hull must be clockwise on screen and contain the
// other corners as vertices.
func fixOpenCorner(hull []pt, q [4]pt, tol float64, chain []pt) ([4]pt, []pt) {
	iTL, iBR := -1, -1
	for i, p := range hull {
		if p == q[0] {
			iTL = i
		}
		if p == q[2] {
			iBR = i
		}
	}
	if iTL < 0 || iBR < 0 {
		return q, chain
	}
	chain = chain[:0]
	for i := iTL; ; i = (i + 1) % len(hull) {
		chain = append(chain, hull[i])
		if i == iBR || len(chain) > len(hull) {
			break
		}
	}
	if len(chain) < 3 {
		return q, chain
	}
	topEnd := supportEnd(chain, tol)
	// reverse for the right edge, walking up from BR
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	rightEnd := supportEnd(chain, tol)
	tr, ok := lineIntersect(q[0], topEnd, q[2], rightEnd)
	if !ok || tr.dist(q[1]) > 0.25*q[0].dist(q[2]) {
		return q, chain
	}
	q[1] = tr
	return q, chain
}
