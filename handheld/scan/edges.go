package scan

import (
	"math"
	"sort"
)

// Edge refinement: the blob hull locates a symbol to within a pixel or two
// of the finder scale, too coarse for 2-pixel modules. Each side is
// re-measured at full resolution by scanning across it, finding the
// outermost dark-to-light transition with sub-pixel interpolation, and
// fitting a line; corners are the intersections of adjacent lines. The top
// and right (timing) sides only keep the outermost transitions, which lie
// on dark timing modules.

type edgeScratch struct {
	prof []float64
	offs []float64
	pts  []pt
}

// refineEdges returns the oriented quad (TL, TR, BR, BL) with its sides
// re-fitted, or q unchanged when a side cannot be measured.
func refineEdges(g *grayView, q [4]pt, es *edgeScratch) [4]pt {
	var lines [4][2]pt // point, direction
	c := q[0].add(q[1]).add(q[2]).add(q[3]).scale(0.25)
	for k := 0; k < 4; k++ {
		a, b := q[k], q[(k+1)%4]
		// sides: 0 top (timing), 1 right (timing), 2 bottom (L), 3 left (L)
		timing := k < 2
		l, ok := fitSide(g, a, b, c, timing, es)
		if !ok {
			return q
		}
		lines[k] = l
	}
	var out [4]pt
	for k := 0; k < 4; k++ {
		prev := lines[(k+3)%4]
		cur := lines[k]
		p, ok := lineIntersect(prev[0], prev[0].add(prev[1]), cur[0], cur[0].add(cur[1]))
		if !ok || p.dist(q[k]) > 0.2*q[0].dist(q[2]) {
			return q
		}
		out[k] = p
	}
	return out
}

func fitSide(g *grayView, a, b, centre pt, timing bool, es *edgeScratch) ([2]pt, bool) {
	L := a.dist(b)
	if L < 8 {
		return [2]pt{}, false
	}
	dir := b.sub(a).scale(1 / L)
	n := pt{dir.Y, -dir.X}
	mid := a.add(b).scale(0.5)
	if (mid.sub(centre)).X*n.X+(mid.sub(centre)).Y*n.Y < 0 {
		n = n.scale(-1)
	}
	reach := math.Min(14, math.Max(3, 0.07*L))
	const step = 0.5
	ns := int(2*reach/step) + 1
	es.prof = grow(es.prof, ns)
	es.pts = es.pts[:0]
	es.offs = es.offs[:0]
	const nscan = 28
	for i := 0; i < nscan; i++ {
		t := 0.06 + 0.88*(float64(i)+0.5)/nscan
		p := a.add(b.sub(a).scale(t))
		mn, mx := math.Inf(1), math.Inf(-1)
		for j := 0; j < ns; j++ {
			o := -reach + float64(j)*step
			q := p.add(n.scale(o))
			v := g.bilinear(q.X-0.7*dir.X, q.Y-0.7*dir.Y) + g.bilinear(q.X, q.Y) + g.bilinear(q.X+0.7*dir.X, q.Y+0.7*dir.Y)
			es.prof[j] = v / 3
			mn = math.Min(mn, es.prof[j])
			mx = math.Max(mx, es.prof[j])
		}
		if mx-mn < 8 {
			continue
		}
		thr := (mn + mx) / 2
		// outermost crossing from dark (inside) to light (outside)
		for j := ns - 1; j > 0; j-- {
			if es.prof[j] >= thr && es.prof[j-1] < thr {
				f := (thr - es.prof[j-1]) / (es.prof[j] - es.prof[j-1])
				o := -reach + (float64(j-1)+f)*step
				es.offs = append(es.offs, o)
				es.pts = append(es.pts, p.add(n.scale(o)))
				break
			}
		}
	}
	if len(es.pts) < 6 {
		return [2]pt{}, false
	}
	// select inliers: around the median for solid sides, the outermost
	// cluster for timing sides
	sorted := append(es.prof[:0:0], es.offs...)
	sort.Float64s(sorted)
	ref := sorted[len(sorted)/2]
	if timing {
		ref = sorted[len(sorted)*3/4]
	}
	var sx, sy, sxx, syy, sxy, w float64
	for i, p := range es.pts {
		if math.Abs(es.offs[i]-ref) > 1.2 {
			continue
		}
		sx += p.X
		sy += p.Y
		w++
	}
	if w < 4 {
		return [2]pt{}, false
	}
	mx, my := sx/w, sy/w
	for i, p := range es.pts {
		if math.Abs(es.offs[i]-ref) > 1.2 {
			continue
		}
		dx, dy := p.X-mx, p.Y-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	// principal direction
	th := 0.5 * math.Atan2(2*sxy, sxx-syy)
	d := pt{math.Cos(th), math.Sin(th)}
	if d.X*dir.X+d.Y*dir.Y < 0 {
		d = d.scale(-1)
	}
	// reject fits that turned too far from the hull side
	if d.X*dir.X+d.Y*dir.Y < 0.98 {
		return [2]pt{}, false
	}
	return [2]pt{{mx, my}, d}, true
}
