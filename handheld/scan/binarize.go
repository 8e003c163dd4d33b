package scan

import "image"

// Finder-stage image preparation: an f x f box-downsampled copy of the
// region of interest (which also averages sensor noise down by f) and a
// block-adaptive threshold with a noise-aware flatness test.

const blockSize = 8

// grayView is a read-only 8-bit view of a frame (the camera's Y plane).
type grayView struct {
	pix          []byte
	w, h, stride int
}

func (g *grayView) bounds() image.Rectangle { return image.Rect(0, 0, g.w, g.h) }

// downsample writes the f x f box average of src's region (x0,y0,w,h) into
// dst (w/f x h/f) and returns its size.
func downsample(src *grayView, x0, y0, w, h, f int, dst []uint8) ([]uint8, int, int) {
	dw, dh := w/f, h/f
	dst = grow(dst, dw*dh)
	if f == 1 {
		for y := 0; y < dh; y++ {
			copy(dst[y*dw:(y+1)*dw], src.pix[(y0+y)*src.stride+x0:])
		}
		return dst, dw, dh
	}
	area := f * f
	for y := 0; y < dh; y++ {
		out := dst[y*dw : (y+1)*dw]
		base := (y0+y*f)*src.stride + x0
		if f == 2 {
			r0 := src.pix[base : base+2*dw]
			r1 := src.pix[base+src.stride : base+src.stride+2*dw]
			for x := range out {
				out[x] = uint8((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
			}
			continue
		}
		for x := range out {
			s := 0
			for yy := 0; yy < f; yy++ {
				row := src.pix[base+yy*src.stride+x*f:]
				for xx := 0; xx < f; xx++ {
					s += int(row[xx])
				}
			}
			out[x] = uint8(s / area)
		}
	}
	return dst, dw, dh
}

func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// thresholder holds per-block statistics and thresholds.
type thresholder struct {
	bw, bh           int
	bmin, bmax, bavg []uint8
	thr              []uint8
	hist             [256]int
}

// compute fills per-block thresholds for img (w x h). Blocks whose 3x3
// neighbourhood is flat relative to the frame's noise get threshold 0, so
// they binarise as light (paper, carton, quiet zone).
func (t *thresholder) compute(img []uint8, w, h int, minContrast int) {
	bw, bh := (w+blockSize-1)/blockSize, (h+blockSize-1)/blockSize
	t.bw, t.bh = bw, bh
	n := bw * bh
	t.bmin, t.bmax, t.bavg, t.thr = grow(t.bmin, n), grow(t.bmax, n), grow(t.bavg, n), grow(t.thr, n)
	for by := 0; by < bh; by++ {
		y0, y1 := by*blockSize, min(by*blockSize+blockSize, h)
		for bx := 0; bx < bw; bx++ {
			x0, x1 := bx*blockSize, min(bx*blockSize+blockSize, w)
			mn, mx, sum := 255, 0, 0
			for y := y0; y < y1; y++ {
				row := img[y*w+x0 : y*w+x1]
				for _, v := range row {
					iv := int(v)
					sum += iv
					if iv < mn {
						mn = iv
					}
					if iv > mx {
						mx = iv
					}
				}
			}
			i := by*bw + bx
			t.bmin[i], t.bmax[i] = uint8(mn), uint8(mx)
			t.bavg[i] = uint8(sum / ((y1 - y0) * (x1 - x0)))
		}
	}
	// noise: a low percentile of block ranges (a frame has flat areas;
	// a tight crop of a symbol has few, hence the cap below)
	for i := range t.hist {
		t.hist[i] = 0
	}
	for i := 0; i < n; i++ {
		t.hist[int(t.bmax[i])-int(t.bmin[i])]++
	}
	med, acc := 0, 0
	for v := 0; v < 256; v++ {
		acc += t.hist[v]
		if acc*5 >= n {
			med = v
			break
		}
	}
	flat := min(max(minContrast, med+med/2+4), 80)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			mn, mx := 255, 0
			for yy := max(by-1, 0); yy <= min(by+1, bh-1); yy++ {
				for xx := max(bx-1, 0); xx <= min(bx+1, bw-1); xx++ {
					j := yy*bw + xx
					mn = min(mn, int(t.bmin[j]))
					mx = max(mx, int(t.bmax[j]))
				}
			}
			i := by*bw + bx
			if mx-mn < flat {
				t.thr[i] = 0
				continue
			}
			sum, cnt := 0, 0
			for yy := max(by-2, 0); yy <= min(by+2, bh-1); yy++ {
				for xx := max(bx-2, 0); xx <= min(bx+2, bw-1); xx++ {
					sum += int(t.bavg[yy*bw+xx])
					cnt++
				}
			}
			t.thr[i] = uint8(sum / cnt)
		}
	}
}
