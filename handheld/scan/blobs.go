package scan

// Connected components of dark pixels, labelled on horizontal runs with
// union-find (8-connectivity). Only runs are stored, never a label image.

type run struct {
	x0, x1 int32 // [x0, x1)
	y      int32
	parent int32 // union-find parent (index into runs)
}

type blob struct {
	root                   int32
	count                  int // dark pixels
	minX, minY, maxX, maxY int
	sx, sy                 float64
}

type blobFinder struct {
	runs  []run
	rowAt []int32 // index of first run of each row, len h+1
	blobs []blob
	index []int32 // root -> blob index
	pts   []pt
	hull  []pt
}

func (b *blobFinder) find(i int32) int32 {
	for b.runs[i].parent != i {
		b.runs[i].parent = b.runs[b.runs[i].parent].parent
		i = b.runs[i].parent
	}
	return i
}

func (b *blobFinder) union(i, j int32) {
	ri, rj := b.find(i), b.find(j)
	if ri == rj {
		return
	}
	if ri < rj {
		b.runs[rj].parent = ri
	} else {
		b.runs[ri].parent = rj
	}
}

// label binarises img with the block thresholds and labels components.
func (b *blobFinder) label(img []uint8, w, h int, t *thresholder) {
	b.runs = b.runs[:0]
	b.rowAt = grow(b.rowAt, h+1)
	for y := 0; y < h; y++ {
		b.rowAt[y] = int32(len(b.runs))
		row := img[y*w : (y+1)*w]
		trow := t.thr[(y/blockSize)*t.bw:]
		inRun := false
		start := 0
		for x, v := range row {
			dark := v < trow[x/blockSize]
			if dark && !inRun {
				inRun, start = true, x
			} else if !dark && inRun {
				inRun = false
				b.runs = append(b.runs, run{x0: int32(start), x1: int32(x), y: int32(y), parent: int32(len(b.runs))})
			}
		}
		if inRun {
			b.runs = append(b.runs, run{x0: int32(start), x1: int32(w), y: int32(y), parent: int32(len(b.runs))})
		}
	}
	b.rowAt[h] = int32(len(b.runs))
	// connect runs of consecutive rows (8-connectivity)
	for y := 1; y < h; y++ {
		p, pe := b.rowAt[y-1], b.rowAt[y]
		c, ce := b.rowAt[y], b.rowAt[y+1]
		for c < ce && p < pe {
			rc, rp := &b.runs[c], &b.runs[p]
			if rp.x1 < rc.x0 { // rp ends before rc starts (touching diagonally counts)
				p++
				continue
			}
			if rc.x1 < rp.x0 {
				c++
				continue
			}
			b.union(c, p)
			if rp.x1 < rc.x1 {
				p++
			} else {
				c++
			}
		}
	}
	// gather blobs
	b.index = grow(b.index, len(b.runs))
	b.blobs = b.blobs[:0]
	for i := range b.runs {
		b.index[i] = -1
	}
	for i := range b.runs {
		r := &b.runs[i]
		root := b.find(int32(i))
		bi := b.index[root]
		if bi < 0 {
			bi = int32(len(b.blobs))
			b.index[root] = bi
			b.blobs = append(b.blobs, blob{root: root, minX: int(r.x0), minY: int(r.y), maxX: int(r.x1) - 1, maxY: int(r.y)})
		}
		bl := &b.blobs[bi]
		n := int(r.x1 - r.x0)
		bl.count += n
		bl.minX = min(bl.minX, int(r.x0))
		bl.maxX = max(bl.maxX, int(r.x1)-1)
		bl.maxY = max(bl.maxY, int(r.y))
		bl.sx += float64(n) * (float64(r.x0+r.x1) / 2)
		bl.sy += float64(n) * (float64(r.y) + 0.5)
	}
}

// hullOf returns the convex hull (pixel-corner coordinates) of a blob.
func (b *blobFinder) hullOf(bl *blob) []pt {
	b.pts = b.pts[:0]
	for y := bl.minY; y <= bl.maxY; y++ {
		first, last := int32(-1), int32(-1)
		for i := b.rowAt[y]; i < b.rowAt[y+1]; i++ {
			if b.find(i) != bl.root {
				continue
			}
			if first < 0 {
				first = i
			}
			last = i
		}
		if first < 0 {
			continue
		}
		fy := float64(y)
		x0, x1 := float64(b.runs[first].x0), float64(b.runs[last].x1)
		b.pts = append(b.pts, pt{x0, fy}, pt{x0, fy + 1}, pt{x1, fy}, pt{x1, fy + 1})
	}
	b.hull = convexHull(b.pts, b.hull)
	return b.hull
}
