// Package source provides frame sources for the scan pipeline: image
// files and folder replays (tests, demos), a push source that the Android
// camera glue feeds, and V4L2 cameras on Linux.
package source

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF frames
	_ "image/jpeg" // JPEG frames
	_ "image/png"  // PNG frames
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "golang.org/x/image/webp" // WebP frames

	"github.com/custodyhq/custody/handheld/scan"
)

var (
	// ErrClosed reports use of a closed source.
	ErrClosed = errors.New("source: closed")
	// ErrNoImages reports a folder without images.
	ErrNoImages = errors.New("source: no images")
	// ErrFormat reports a camera pixel format this package cannot read.
	ErrFormat = errors.New("source: unsupported pixel format")
)

// Files replays image files as frames, in order, Interval apart (0: as
// fast as they are consumed), Loop times over (0 or 1: once).
type Files struct {
	Paths    []string
	Interval time.Duration
	Loop     int

	i, pass int
	closed  bool
}

var _ scan.Source = (*Files)(nil)

// Folder returns a Files source over the images in dir, sorted by name.
func Folder(dir string, interval time.Duration) (*Files, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	var paths []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg", ".gif", ".webp":
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoImages, dir)
	}
	sort.Strings(paths)
	return &Files{Paths: paths, Interval: interval}, nil
}

// Next implements scan.Source.
func (f *Files) Next(ctx context.Context) (scan.Frame, error) {
	if f.closed {
		return scan.Frame{}, ErrClosed
	}
	if f.i >= len(f.Paths) {
		f.pass++
		if f.pass >= max(f.Loop, 1) || len(f.Paths) == 0 {
			return scan.Frame{}, io.EOF
		}
		f.i = 0
	}
	if f.Interval > 0 {
		t := time.NewTimer(f.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return scan.Frame{}, ctx.Err()
		case <-t.C:
		}
	}
	path := f.Paths[f.i]
	f.i++
	g, err := LoadGray(path)
	if err != nil {
		return scan.Frame{}, err
	}
	return scan.Frame{Y: g.Pix, W: g.Rect.Dx(), H: g.Rect.Dy(), Stride: g.Stride, At: time.Now()}, nil
}

// Close implements scan.Source.
func (f *Files) Close() error { f.closed = true; return nil }

// LoadGray decodes an image file (PNG, JPEG, GIF, WebP) to grayscale.
func LoadGray(path string) (*image.Gray, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("source: %s: %w", path, err)
	}
	return scan.ToGray(img), nil
}

// Push is the adapter for cameras that deliver frames by callback — the
// Android camera on the device build: its glue code calls Push with each
// frame's Y plane (YUV_420_888 plane 0 / NV21 luma) and Push copies it
// into a pooled buffer. When the decoders are busy the frame is dropped
// (Push returns false) rather than queued: a late frame is worth nothing
// to someone aiming a camera.
type Push struct {
	ch     chan scan.Frame
	pool   sync.Pool
	mu     sync.Mutex
	closed bool
}

var _ scan.Source = (*Push)(nil)

// NewPush returns a push source holding at most depth pending frames.
func NewPush(depth int) *Push {
	return &Push{ch: make(chan scan.Frame, max(depth, 1))}
}

// Push offers one frame; y is copied, so the caller may reuse it at once.
func (p *Push) Push(y []byte, w, h, stride int, at time.Time) bool {
	if w <= 0 || h <= 0 || stride < w || len(y) < (h-1)*stride+w {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	var buf []byte
	if b, ok := p.pool.Get().(*[]byte); ok && cap(*b) >= w*h {
		buf = (*b)[:w*h]
	} else {
		buf = make([]byte, w*h)
	}
	for r := 0; r < h; r++ {
		copy(buf[r*w:(r+1)*w], y[r*stride:r*stride+w])
	}
	f := scan.Frame{Y: buf, W: w, H: h, Stride: w, At: at}
	f.Release = func() { p.pool.Put(&buf) }
	select {
	case p.ch <- f:
		return true
	default:
		p.pool.Put(&buf)
		return false
	}
}

// Next implements scan.Source.
func (p *Push) Next(ctx context.Context) (scan.Frame, error) {
	select {
	case f, ok := <-p.ch:
		if !ok {
			return scan.Frame{}, io.EOF
		}
		return f, nil
	case <-ctx.Done():
		return scan.Frame{}, ctx.Err()
	}
}

// Close ends the source; Next returns io.EOF once pending frames are read.
func (p *Push) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.ch)
	}
	return nil
}
