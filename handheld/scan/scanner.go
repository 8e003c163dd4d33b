// Package scan reads GS1 DataMatrix symbols from camera frames. Its own
// detector finds candidate symbols anywhere in the frame, recovers rotation
// and perspective from the solid finder L and the dashed timing edges,
// samples the module grid with a threshold fitted to the border, and hands
// the bit matrix to gozxing's DataMatrix decoder (Reed-Solomon and
// bit-stream decoding). gozxing's own detector is the last fallback.
package scan

import (
	"errors"
	"fmt"
	"image"
	"math"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

var (
	// ErrNotFound reports a frame in which no symbol could be read.
	ErrNotFound = errors.New("scan: no DataMatrix found")
	// ErrFrame reports an unusable frame (bad dimensions or buffer).
	ErrFrame = errors.New("scan: invalid frame")
)

// Result is one decoded symbol.
type Result struct {
	// Text is the decoded data. For GS1 symbols the leading FNC1 (the
	// symbology flag) is removed and separators are GS (0x1D).
	Text string
	// Symbology is the AIM identifier: "]d2" for GS1 DataMatrix, "]d1"
	// for plain DataMatrix.
	Symbology string
	// Corners are the symbol corners in the frame: top-left, top-right,
	// bottom-right, bottom-left in symbol orientation (bottom-left is the
	// corner of the solid L).
	Corners [4]image.Point
	// Cols, Rows are the symbol size in modules.
	Cols, Rows int
	// Fallback is set when gozxing's own detector found the symbol.
	Fallback bool
	// Mirrored is set for a mirror-image symbol (printed to be read
	// through glass or film, or seen in a mirror).
	Mirrored bool
}

// GS1 reports whether the result is a GS1 DataMatrix.
func (r Result) GS1() bool { return r.Symbology == "]d2" }

// Raw is the read as a scanner sends it: the symbology identifier, then
// the data with GS as 0x1D.
func (r Result) Raw() []byte { return []byte(r.Symbology + r.Text) }

// Options tune a Scanner. The zero value is usable.
type Options struct {
	// Budget bounds the time spent on one frame; 0 means 40 ms.
	Budget time.Duration
	// NoFallback disables gozxing's own detector as the last resort.
	NoFallback bool
	// NoTracking disables searching the last symbol's region first.
	NoTracking bool
	// CaseBudget bounds DecodeAll on one frame; 0 means 400 ms.
	CaseBudget time.Duration
}

// Scanner decodes frames. It owns its scratch buffers, so one Scanner
// must not be used by two goroutines at once; use one per worker.
type Scanner struct {
	opt    Options
	dec    *decoder.Decoder
	down   []uint8
	thr    thresholder
	bf     blobFinder
	cands  []sizeCandidate
	buf    []float64
	vals   []float64
	order  []int
	hull   []pt
	chain  []pt
	es     edgeScratch
	ts     timingScratch
	bent   bentScratch
	tried  []placed
	padBuf []uint8
	bigBuf []uint8
	bits   map[[3]int]*gozxing.BitMatrix // by cols, rows, 1 for the mirror scratch
	last   image.Rectangle               // region of the last read, for tracking
}

// New returns a Scanner.
func New(opt Options) *Scanner {
	if opt.Budget <= 0 {
		opt.Budget = 40 * time.Millisecond
	}
	if opt.CaseBudget <= 0 {
		opt.CaseBudget = 400 * time.Millisecond
	}
	return &Scanner{opt: opt, dec: decoder.NewDecoder(), bits: map[[3]int]*gozxing.BitMatrix{}}
}

// DecodeImage decodes any image, converting it to grayscale first.
func (s *Scanner) DecodeImage(img image.Image) (Result, error) {
	return s.DecodeGray(ToGray(img))
}

// DecodeGray decodes a grayscale frame.
func (s *Scanner) DecodeGray(g *image.Gray) (Result, error) {
	b := g.Bounds()
	return s.DecodeY(g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], b.Dx(), b.Dy(), g.Stride)
}

// DecodeY decodes a raw luminance plane (e.g. the Y plane of a camera's
// YUV frame) of w x h pixels with the given row stride.
func (s *Scanner) DecodeY(y []byte, w, h, stride int) (Result, error) {
	if w < 8 || h < 8 || stride < w || len(y) < (h-1)*stride+w {
		return Result{}, fmt.Errorf("%w: %dx%d stride %d, %d bytes", ErrFrame, w, h, stride, len(y))
	}
	if max(w, h) < tinyFrame {
		return s.decodeTiny(y, w, h, stride)
	}
	g := &grayView{pix: y, w: w, h: h, stride: stride}
	deadline := time.Now().Add(s.opt.Budget)

	full := image.Rect(0, 0, w, h)
	// centre region: the aimed symbol is near the frame centre
	cw, ch := w/2+h/3, h*3/4
	centre := image.Rect((w-cw)/2, (h-ch)/2, (w+cw)/2, (h+ch)/2).Intersect(full)
	type pass struct {
		r image.Rectangle
		f int
	}
	var passes []pass
	if tr := s.last.Intersect(full); !s.opt.NoTracking && !tr.Empty() {
		passes = append(passes, pass{tr, 1})
	}
	// the half-resolution pass first: four times fewer pixels, sensor
	// noise halved; full resolution catches modules under 2 pixels
	f0 := 2
	if w*h < 160_000 {
		f0 = 1
	}
	passes = append(passes, pass{centre, f0}, pass{centre, 3 - f0}, pass{full, f0}, pass{full, 3 - f0})
	for i, p := range passes {
		if i > 0 && time.Now().After(deadline) {
			break
		}
		limit := maxBlobs
		if p.r == full {
			limit = 3 * maxBlobs
		}
		if r, ok := s.search(g, p.r, p.f, limit, deadline, nil); ok {
			s.track(r, full)
			return r, nil
		}
	}
	if w*h <= smallFrame && time.Now().Before(deadline) {
		// a tightly cropped symbol touches the frame edge: give it a
		// quiet zone and look again
		pg := s.pad(g)
		for _, f := range []int{1, 2} {
			if r, ok := s.search(pg, pg.bounds(), f, 3*maxBlobs, deadline, nil); ok {
				for k := range r.Corners {
					r.Corners[k] = r.Corners[k].Sub(image.Pt(padding, padding))
				}
				return r, nil
			}
		}
	}
	if !s.opt.NoFallback && (w*h <= smallFrame || time.Now().Before(deadline)) {
		if r, ok := s.fallback(g); ok {
			s.track(r, full)
			return r, nil
		}
	}
	s.last = image.Rectangle{}
	return Result{}, ErrNotFound
}

// decodeTiny decodes a frame under tinyFrame pixels a side (a symbol
// rendered with 1-pixel modules, a thumbnail) enlarged, pixels repeated,
// to at least tinyFrame: the finder needs modules of a few pixels.
func (s *Scanner) decodeTiny(y []byte, w, h, stride int) (Result, error) {
	k := (tinyFrame + max(w, h) - 1) / max(w, h)
	s.bigBuf = grow(s.bigBuf, w*k*h*k)
	for yy := 0; yy < h*k; yy++ {
		row := y[(yy/k)*stride:]
		out := s.bigBuf[yy*w*k : (yy+1)*w*k]
		for x := range out {
			out[x] = row[x/k]
		}
	}
	r, err := s.DecodeY(s.bigBuf, w*k, h*k, w*k)
	if err != nil {
		return r, err
	}
	for i := range r.Corners {
		r.Corners[i] = r.Corners[i].Div(k)
	}
	s.last = image.Rectangle{}
	return r, nil
}

// DecodeAll reads every symbol in a frame (an open case or tray seen from
// above): each read once, in no particular order. It returns ErrNotFound
// when nothing could be read.
func (s *Scanner) DecodeAll(g *image.Gray) ([]Result, error) {
	b := g.Bounds()
	return s.DecodeAllY(g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], b.Dx(), b.Dy(), g.Stride)
}

// DecodeAllY is DecodeAll on a raw luminance plane. The whole frame is
// searched at half resolution, then at full resolution for what is left
// (modules under 2 pixels), within Options.CaseBudget.
func (s *Scanner) DecodeAllY(y []byte, w, h, stride int) ([]Result, error) {
	if w < 16 || h < 16 || stride < w || len(y) < (h-1)*stride+w {
		return nil, fmt.Errorf("%w: %dx%d stride %d, %d bytes", ErrFrame, w, h, stride, len(y))
	}
	g := &grayView{pix: y, w: w, h: h, stride: stride}
	deadline := time.Now().Add(s.opt.CaseBudget)
	var out []Result
	for i, f := range []int{2, 1} {
		if i > 0 && time.Now().After(deadline) {
			break
		}
		s.search(g, g.bounds(), f, math.MaxInt, deadline, &out)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}

const (
	manyMinL      = 0.3       // solid-L confidence a candidate needs in DecodeAll
	manyFullShort = 80        // widest outline (pixels) DecodeAll examines at full resolution
	maxBlobs      = 12        // candidates examined per pass, nearest first
	smallFrame    = 512 * 512 // frames up to this size may be tight crops
	padding       = 16
	tinyFrame     = 64 // frames smaller than this a side are enlarged
	maxBent       = 2  // placements searched for a bend per outline
)

// pad copies g into a larger view with a white border.
func (s *Scanner) pad(g *grayView) *grayView {
	w, h := g.w+2*padding, g.h+2*padding
	s.padBuf = grow(s.padBuf, w*h)
	var hi uint8
	for y := 0; y < g.h; y++ {
		for _, v := range g.pix[y*g.stride : y*g.stride+g.w] {
			hi = max(hi, v)
		}
	}
	for i := range s.padBuf {
		s.padBuf[i] = hi
	}
	for y := 0; y < g.h; y++ {
		copy(s.padBuf[(y+padding)*w+padding:], g.pix[y*g.stride:y*g.stride+g.w])
	}
	return &grayView{pix: s.padBuf, w: w, h: h, stride: w}
}

func (s *Scanner) track(r Result, full image.Rectangle) {
	b := image.Rectangle{Min: r.Corners[0], Max: r.Corners[0].Add(image.Pt(1, 1))}
	for _, c := range r.Corners[1:] {
		b = b.Union(image.Rectangle{Min: c, Max: c.Add(image.Pt(1, 1))})
	}
	m := max(b.Dx(), b.Dy())/2 + 8
	s.last = b.Inset(-m).Intersect(full)
}

// search looks for symbols in region r at finder scale f. With all nil
// it returns the first read. Otherwise it adds every new read to *all,
// skips blobs inside symbols already read, and returns false.
func (s *Scanner) search(g *grayView, r image.Rectangle, f, limit int, deadline time.Time, all *[]Result) (Result, bool) {
	rw, rh := r.Dx()/f*f, r.Dy()/f*f
	if rw < 16 || rh < 16 {
		return Result{}, false
	}
	var dw, dh int
	s.down, dw, dh = downsample(g, r.Min.X, r.Min.Y, rw, rh, f, s.down)
	s.thr.compute(s.down, dw, dh, 10)
	s.bf.label(s.down, dw, dh, &s.thr)

	whole := r == g.bounds()
	// candidate blobs, nearest to the frame centre first
	minSide := max(5, 14/f)
	maxSide := max(dw, dh)
	if all != nil {
		// a frame of many codes: none is half the frame (a blob that big
		// is carton or shadow, and a false read there would hide others)
		maxSide /= 2
	}
	s.order = s.order[:0]
	for i := range s.bf.blobs {
		b := &s.bf.blobs[i]
		bw, bh := b.maxX-b.minX+1, b.maxY-b.minY+1
		if bw < minSide || bh < minSide || bw > maxSide || bh > maxSide {
			continue
		}
		// a long thin symbol (8 x 144) turned 45° fills little of its
		// bounding box; the hull fill below is the stricter test
		fill := float64(b.count) / float64(bw*bh)
		if fill < 0.05 || fill > 0.95 {
			continue
		}
		if b.count < minSide*minSide/2 {
			continue
		}
		if (!whole || all != nil) && (b.minX == 0 || b.minY == 0 || b.maxX == dw-1 || b.maxY == dh-1) {
			// cut by the region: the full-frame pass sees it whole; in a
			// frame of many codes, one cut by the frame edge is read in
			// the next frame
			continue
		}
		s.order = append(s.order, i)
	}
	cx, cy := float64(g.w)/2, float64(g.h)/2
	key := func(i int) float64 {
		b := &s.bf.blobs[i]
		x := float64(r.Min.X) + f64(f)*b.sx/float64(b.count)
		y := float64(r.Min.Y) + f64(f)*b.sy/float64(b.count)
		return math.Hypot(x-cx, y-cy) / math.Sqrt(float64(b.count*f*f))
	}
	for i := 1; i < len(s.order); i++ {
		for j := i; j > 0 && key(s.order[j]) < key(s.order[j-1]); j-- {
			s.order[j], s.order[j-1] = s.order[j-1], s.order[j]
		}
	}
	for n, i := range s.order {
		if n >= limit || n > 0 && time.Now().After(deadline) {
			break
		}
		b := &s.bf.blobs[i]
		if all != nil {
			c := pt{float64(r.Min.X) + f64(f)*b.sx/float64(b.count), float64(r.Min.Y) + f64(f)*b.sy/float64(b.count)}
			if insideAny(*all, c) {
				continue
			}
		}
		hull := s.bf.hullOf(b)
		q, ok := hullQuad(hull)
		if !ok {
			continue
		}
		if all != nil && f == 1 && shortSide(q) > manyFullShort {
			// at full resolution only symbols with modules under about
			// 3 pixels are left to find, and those are narrow
			continue
		}
		ha := hullArea(hull)
		if ha <= 0 || quadArea(q) < 0.75*ha || float64(b.count) > 0.97*ha || float64(b.count) < 0.2*ha {
			continue
		}
		for k := range q {
			q[k] = pt{float64(r.Min.X) + q[k].X*f64(f), float64(r.Min.Y) + q[k].Y*f64(f)}
		}
		s.hull = s.hull[:0]
		for _, p := range hull {
			s.hull = append(s.hull, pt{float64(r.Min.X) + p.X*f64(f), float64(r.Min.Y) + p.Y*f64(f)})
		}
		if res, ok := s.tryQuad(g, q, s.hull, 0.8*f64(f), all != nil); ok {
			if all == nil {
				return res, true
			}
			if !hasText(*all, res.Text) {
				*all = append(*all, res)
			}
		}
	}
	return Result{}, false
}

// shortSide is the mean length of the shorter pair of opposite sides.
func shortSide(q [4]pt) float64 {
	return math.Min(q[0].dist(q[1])+q[2].dist(q[3]), q[1].dist(q[2])+q[3].dist(q[0])) / 2
}

// insideAny reports whether p lies within the outline of one of rs.
func insideAny(rs []Result, p pt) bool {
	for _, r := range rs {
		in := true
		for k := 0; k < 4 && in; k++ {
			a, b := r.Corners[k], r.Corners[(k+1)%4]
			if cross(pt{float64(a.X), float64(a.Y)}, pt{float64(b.X), float64(b.Y)}, p) < 0 {
				in = false
			}
		}
		if in {
			return true
		}
	}
	return false
}

func hasText(rs []Result, text string) bool {
	for _, r := range rs {
		if r.Text == text {
			return true
		}
	}
	return false
}

func f64(i int) float64 { return float64(i) }

func hullArea(h []pt) float64 {
	var a float64
	for i := range h {
		j := (i + 1) % len(h)
		a += h[i].X*h[j].Y - h[j].X*h[i].Y
	}
	return math.Abs(a) / 2
}

// tryQuad decodes the symbol whose outline is approximately q (clockwise).
// With many, the frame holds many symbols among much else (an open case):
// outlines without a clear solid L are not worth sampling.
func (s *Scanner) tryQuad(g *grayView, q [4]pt, hull []pt, tol float64, many bool) (Result, bool) {
	for k := 0; k < 4; k++ {
		if q[k].dist(q[(k+1)%4]) < 10 {
			return Result{}, false
		}
	}
	oq, lconf, ok := orient(g, q)
	if !ok || many && lconf < manyMinL {
		return Result{}, false
	}
	var hyp [3][4]pt
	nh := 0
	hyp[nh] = oq
	nh++
	if hull != nil {
		hyp[nh], s.chain = fixOpenCorner(hull, oq, tol, s.chain)
		nh++
	}
	// parallelogram completion from the solid L
	hyp[nh] = oq
	hyp[nh][1] = oq[0].add(oq[2]).sub(oq[3])
	nh++
	if res, ok, best := s.tryHypotheses(g, hyp[:nh], nil); ok {
		return res, true
	} else if best < 0.35 || lconf < 0.25 {
		// nothing like a timing pattern or a solid L: not a symbol, not
		// worth the slower steps below
		return Result{}, false
	}
	// columns or rows of uneven widths: the grid from the timing edges
	for _, h := range hyp[:nh] {
		if res, ok := s.tryTimingGrid(g, h); ok {
			return res, true
		}
	}
	// re-fit each outline to the edges at full resolution (twice: the
	// first pass fixes the L, the second the timing sides)
	var ref [4][4]pt
	nr := 0
	for i, h := range hyp[:nh] {
		e1 := refineEdges(g, h, &s.es)
		if i == 0 && e1 != h {
			// the first pass fits the solid L well; complete it as a
			// parallelogram (exact without perspective)
			ref[nr] = e1
			ref[nr][1] = e1[0].add(e1[2]).sub(e1[3])
			nr++
		}
		e := refineEdges(g, e1, &s.es)
		if e != h {
			ref[nr] = e
			nr++
		}
	}
	s.tried = s.tried[:0]
	if res, ok, _ := s.tryHypotheses(g, ref[:nr], &s.tried); ok {
		return res, true
	}
	// last resort: trust the re-fitted L and search the open corner
	if nr > 0 {
		sq, c := searchOpenCorner(g, ref[0])
		if c.score > 0.5 {
			rq, score := refine(g, sq, c.cols, c.rows)
			if score >= 8 {
				if res, ok := s.decodeAt(g, rq, c.cols, c.rows); ok {
					return res, true
				}
			}
		}
	}
	// a bent symbol: the two best sizes on the re-fitted outlines
	for i, p := range s.tried {
		if i >= maxBent {
			break
		}
		// the border refinement pulls the corners of a bent symbol
		// towards a better fit of its bent edges; the outline as fitted
		// to the edges keeps the corners where they are
		if res, ok := s.tryBent(g, p.fitted, p.cols, p.rows); ok {
			return res, true
		}
		if res, ok := s.tryBent(g, p.q, p.cols, p.rows); ok {
			return res, true
		}
	}
	return Result{}, false
}

// placed is a symbol size on a refined outline that did not decode.
type placed struct {
	q, fitted  [4]pt // refined to the border; as the edges were fitted
	cols, rows int
}

// tryHypotheses scores symbol sizes for each outline hypothesis and tries
// to decode the best few; it also returns the best timing score seen and,
// into tried (when not nil), the placements that did not decode, best
// first.
func (s *Scanner) tryHypotheses(g *grayView, hyp [][4]pt, tried *[]placed) (Result, bool, float64) {
	type cand struct {
		sizeCandidate
		q [4]pt
	}
	var best [4]cand
	nb := 0
	for _, q := range hyp {
		s.cands = timingScores(g, q, s.cands, s.buf)
		for ci, c := range s.cands {
			if ci >= 3 {
				break
			}
			dup := false
			for i := 0; i < nb; i++ {
				if best[i].cols == c.cols && best[i].rows == c.rows {
					dup = true
					if c.score > best[i].score {
						best[i] = cand{c, q}
					}
				}
			}
			if dup {
				continue
			}
			if nb < len(best) {
				best[nb] = cand{c, q}
				nb++
			} else if c.score > best[nb-1].score {
				best[nb-1] = cand{c, q}
			}
			for i := nb - 1; i > 0 && best[i].score > best[i-1].score; i-- {
				best[i], best[i-1] = best[i-1], best[i]
			}
		}
	}
	for i := 1; i < nb; i++ {
		for j := i; j > 0 && best[j].score > best[j-1].score; j-- {
			best[j], best[j-1] = best[j-1], best[j]
		}
	}
	top := 0.0
	if nb > 0 {
		top = best[0].score
	}
	for _, c := range best[:nb] {
		if c.score < 0.2 {
			break
		}
		rq, score := refine(g, c.q, c.cols, c.rows)
		if score < 8 {
			continue
		}
		if res, ok := s.decodeAt(g, rq, c.cols, c.rows); ok {
			return res, true, top
		}
		if tried != nil {
			*tried = append(*tried, placed{rq, c.q, c.cols, c.rows})
		}
	}
	return Result{}, false, top
}

// decodeAt samples the grid and runs gozxing's decoder.
func (s *Scanner) decodeAt(g *grayView, q [4]pt, c, r int) (Result, bool) {
	h, ok := gridHomography(q, c, r)
	if !ok {
		return Result{}, false
	}
	s.vals = sampleGrid(g, &h, c, r, s.vals)
	res, ok := s.decodeVals(c, r)
	if !ok && innerBordersDark(g, &h, c, r, s.vals) {
		// a symbol of several data regions on a curved or distorted
		// surface: each region through its own homography
		if s.vals, ok = sampleRegions(g, &h, c, r, s.vals); ok {
			res, ok = s.decodeVals(c, r)
		}
	}
	if !ok {
		return Result{}, false
	}
	if res.Cols*res.Rows <= 144 && !quietRing(g, &h, c, r, s.vals) {
		// the smallest symbols have so few error codewords that a patch
		// of a bigger symbol can decode by chance; a real one has a
		// light quiet zone
		return Result{}, false
	}
	for k := range q {
		res.Corners[k] = image.Pt(int(math.Round(q[k].X)), int(math.Round(q[k].Y)))
	}
	return res, true
}

// quietRing reports whether the ring half a module outside the symbol
// looks like a quiet zone: nearly all of it lighter than the threshold
// fitted to the border, and little of it far brighter than the light
// modules (a patch inside a bigger symbol, next to its real quiet zone,
// has a border of much less contrast than the paper around).
func quietRing(g *grayView, h *homography, c, r int, vals []float64) bool {
	dark, light := borderPlanes(vals, c, r)
	n, lit, glare := 0, 0, 0
	at := func(u, v float64) {
		x, y := h.apply(u, v)
		d, l := dark.at(u, v), light.at(u, v)
		val := g.bilinear(x, y)
		n++
		if val > (d+l)/2 {
			lit++
		}
		if val > l+(l-d) {
			glare++
		}
	}
	for i := 0; i < c; i++ {
		at(float64(i)+0.5, -0.5)
		at(float64(i)+0.5, float64(r)+0.5)
	}
	for j := 0; j < r; j++ {
		at(-0.5, float64(j)+0.5)
		at(float64(c)+0.5, float64(j)+0.5)
	}
	return lit*20 >= n*17 && glare*4 <= n
}

// decodeVals thresholds the sampled modules in s.vals (c x r) and runs
// gozxing's decoder, as read and, for a mirror image, reflected.
func (s *Scanner) decodeVals(c, r int) (Result, bool) {
	dark, light := borderPlanes(s.vals, c, r)
	bm := s.bitMatrix(c, r, 0)
	// a mirrored symbol, its L put at the bottom left, is the true one
	// reflected about the anti-diagonal: r x c
	// (a mirrored read needs 14 x 14 modules or more: the smallest sizes
	// have too few error codewords to rule out a chance decode both ways)
	normal, mirrored := validSize(c, r), validSize(r, c) && c*r >= 14*14
	var mm *gozxing.BitMatrix
	if mirrored {
		mm = s.bitMatrix(r, c, 1)
	}
	for _, bias := range [...]float64{0, -0.12, 0.12} {
		bitsFrom(s.vals, c, r, dark, light, bias, bm)
		var dr *common.DecoderResult
		var err error
		mirror := false
		if normal {
			dr, err = s.dec.Decode(bm)
		}
		if (!normal || err != nil) && mirrored {
			antiTranspose(bm, mm, c, r)
			dr, err = s.dec.Decode(mm)
			mirror = true
		}
		if dr == nil || err != nil {
			continue
		}
		res, ok := resultFrom(dr)
		if !ok {
			continue
		}
		res.Cols, res.Rows, res.Mirrored = c, r, mirror
		if mirror {
			res.Cols, res.Rows = r, c
		}
		return res, true
	}
	return Result{}, false
}

// bitMatrix is the Scanner's scratch matrix number k of c x r modules.
func (s *Scanner) bitMatrix(c, r, k int) *gozxing.BitMatrix {
	bm := s.bits[[3]int{c, r, k}]
	if bm == nil {
		bm, _ = gozxing.NewBitMatrix(c, r)
		s.bits[[3]int{c, r, k}] = bm
	}
	return bm
}

// antiTranspose writes into dst (r x c) the reflection of src (c x r)
// about its anti-diagonal: dst(x, y) = src(c-1-y, r-1-x).
func antiTranspose(src, dst *gozxing.BitMatrix, c, r int) {
	dst.Clear()
	for y := 0; y < c; y++ {
		for x := 0; x < r; x++ {
			if src.Get(c-1-y, r-1-x) {
				dst.Set(x, y)
			}
		}
	}
}

// resultFrom makes a Result of a decode. It reports false for a symbol
// using ECI whose text cannot be rebuilt (see eciText).
func resultFrom(dr *common.DecoderResult) (Result, bool) {
	mod := dr.GetSymbologyModifier()
	text, ok := symbolText(mod, dr.GetText(), dr.GetRawBytes())
	return Result{Text: text, Symbology: fmt.Sprintf("]d%d", mod)}, ok
}

// symbolText is the text of a symbol with AIM modifier mod as the
// bit-stream decoder gave it, rebuilt from the data codewords when the
// symbol uses ECI (modifiers 4, 5, 6), with the GS1 flag removed.
func symbolText(mod int, text string, codewords []byte) (string, bool) {
	if mod >= 4 && mod <= 6 {
		t, ok := eciText(codewords)
		if !ok {
			return "", false
		}
		text = t
	}
	if mod == 2 || mod == 5 {
		// FNC1 in first position is the GS1 flag, not data
		if len(text) > 0 && text[0] == 0x1D {
			text = text[1:]
		}
	}
	return text, true
}

// fallback runs gozxing's own detector on the whole frame.
func (s *Scanner) fallback(g *grayView) (Result, bool) {
	img := &image.Gray{Pix: g.pix, Stride: g.stride, Rect: image.Rect(0, 0, g.w, g.h)}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return Result{}, false
	}
	res, err := datamatrix.NewDataMatrixReader().Decode(bmp, nil)
	if err != nil {
		return Result{}, false
	}
	sym, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_SYMBOLOGY_IDENTIFIER].(string)
	mod := 0
	if len(sym) == 3 {
		mod = int(sym[2] - '0')
	}
	text, ok := symbolText(mod, res.GetText(), res.GetRawBytes())
	if !ok {
		return Result{}, false
	}
	out := Result{Text: text, Symbology: sym, Fallback: true}
	for k, p := range res.GetResultPoints() {
		if k < 4 {
			out.Corners[k] = image.Pt(int(p.GetX()), int(p.GetY()))
		}
	}
	return out, true
}
