package scan

import "math"

// Region-wise sampling. Symbols of 32 x 32 modules and more (and the
// longer rectangles) are made of data regions, each with its own solid L
// and dashed edges. On a curved surface (a vial, a pouch) or with lens
// distortion one homography for the whole symbol drifts by a module or
// more towards the middle; each region, small enough to be nearly flat,
// is re-fitted to its own border and sampled through its own homography.

// regionsOf returns how many data regions a cols x rows symbol has across
// and down (ISO/IEC 16022 table 7, ISO/IEC 21471 table 7).
func regionsOf(c, r int) (int, int) {
	if c == r {
		switch {
		case c <= 26:
			return 1, 1
		case c <= 52:
			return 2, 2
		case c <= 104:
			return 4, 4
		default:
			return 6, 6
		}
	}
	if c < r { // transposed (mirrored) rectangle
		v, h := regionsOf(r, c)
		return h, v
	}
	switch c {
	case 18, 26:
		return 1, 1
	case 32, 36, 40, 44, 48:
		return 2, 1
	case 64, 80, 88, 96:
		return 4, 1
	default: // 120, 144
		return 6, 1
	}
}

// regionScore is the contrast between the dark and the light modules of a
// region's own border (solid left and bottom, dashed top and right), the
// region being pc x pr modules on the quad q.
func regionScore(g *grayView, q [4]pt, pc, pr int) float64 {
	h, ok := gridHomography(q, pc, pr)
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
	for i := 0; i < pc; i++ {
		u := float64(i) + 0.5
		add(u, 0.5, i%2 == 0)
		add(u, float64(pr)-0.5, true)
	}
	for j := 1; j < pr-1; j++ {
		v := float64(j) + 0.5
		add(0.5, v, true)
		add(float64(pc)-0.5, v, j%2 == 1)
	}
	return light/float64(nl) - dark/float64(nd)
}

// refineRegion moves a region's corners to maximise regionScore, within
// about a module of where the whole symbol's homography put them.
func refineRegion(g *grayView, q [4]pt, pc, pr int) [4]pt {
	q, _ = climbCorners(q, pc, pr, [3]float64{0.3, 0.15, 0.07}, 0.15, 8, func(t [4]pt) float64 { return regionScore(g, t, pc, pr) })
	return q
}

// sampleRegions reads every module's mean intensity like sampleGrid, each
// data region through its own re-fitted homography. It reports false for
// a symbol of one region.
func sampleRegions(g *grayView, h *homography, c, r int, vals []float64) ([]float64, bool) {
	hr, vr := regionsOf(c, r)
	if hr*vr <= 1 || c%hr != 0 || r%vr != 0 {
		return vals, false
	}
	pc, pr := c/hr, r/vr
	vals = grow(vals, c*r)
	const o = 0.22
	for b := 0; b < vr; b++ {
		for a := 0; a < hr; a++ {
			u0, v0 := float64(a*pc), float64(b*pr)
			var q [4]pt
			for k, uv := range [4][2]float64{{u0, v0}, {u0 + float64(pc), v0}, {u0 + float64(pc), v0 + float64(pr)}, {u0, v0 + float64(pr)}} {
				x, y := h.apply(uv[0], uv[1])
				q[k] = pt{x, y}
			}
			q = refineRegion(g, q, pc, pr)
			rh, ok := gridHomography(q, pc, pr)
			if !ok {
				return vals, false
			}
			for j := 0; j < pr; j++ {
				for i := 0; i < pc; i++ {
					u, v := float64(i)+0.5, float64(j)+0.5
					x, y := rh.apply(u, v)
					s := 2 * g.bilinear(x, y)
					for _, d := range [4][2]float64{{-o, -o}, {o, -o}, {-o, o}, {o, o}} {
						x, y = rh.apply(u+d[0], v+d[1])
						s += g.bilinear(x, y)
					}
					vals[(b*pr+j)*c+a*pc+i] = s / 6
				}
			}
		}
	}
	return vals, true
}

// innerBordersDark reports whether the solid edges inside a symbol of
// several data regions (the left column and the bottom row of each
// region) are there, within a module of where the whole symbol's
// homography h puts them: most of each line darker than the threshold
// fitted to the symbol's own border. It is false for a size hypothesis
// that is not the symbol's, so that region-wise sampling, which costs
// more, is spent only on symbols that have the regions.
func innerBordersDark(g *grayView, h *homography, c, r int, vals []float64) bool {
	hr, vr := regionsOf(c, r)
	if hr*vr <= 1 || c%hr != 0 || r%vr != 0 {
		return false
	}
	pc, pr := c/hr, r/vr
	dark, light := borderPlanes(vals, c, r)
	// line reports the best fraction of dark samples along a line at
	// module position p (u when vertical), shifted by up to a module
	line := func(p float64, vertical bool) float64 {
		best := 0.0
		for _, d := range [...]float64{0, -0.5, 0.5, -1, 1} {
			n, nd := 0, 0
			m := c
			if vertical {
				m = r
			}
			for k := 0; k < m; k++ {
				u, v := float64(k)+0.5, p+d
				if vertical {
					u, v = p+d, float64(k)+0.5
				}
				x, y := h.apply(u, v)
				n++
				if g.bilinear(x, y) < (dark.at(u, v)+light.at(u, v))/2 {
					nd++
				}
			}
			best = math.Max(best, float64(nd)/float64(n))
		}
		return best
	}
	for a := 1; a < hr; a++ {
		if line(float64(a*pc)+0.5, true) < innerDarkMin {
			return false
		}
	}
	for b := 0; b < vr-1; b++ {
		if line(float64((b+1)*pr)-0.5, false) < innerDarkMin {
			return false
		}
	}
	return true
}

// innerDarkMin is the share of an inner solid edge that must be dark.
const innerDarkMin = 0.75
