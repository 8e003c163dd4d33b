// Package replay makes camera frames of given scans — each a GS1
// DataMatrix rendered as a camera would see it on a pack (a little
// rotated, blurred and noisy, with label text beside it) — and writes
// them to a folder that a replay camera plays back. Tests, demos and
// benchmarks use it in place of a camera.
package replay

import (
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/custodyhq/custody/handheld/scan/synth"
)

// ErrScan reports a scan that cannot be drawn.
var ErrScan = errors.New("replay: cannot draw scan")

// Options shape the frames.
type Options struct {
	W, H   int     // frame size (default 1280×720)
	Module float64 // module size in pixels (default 7)
	Seed   uint64
}

// Data strips the symbology identifier from raw scanner data: what the
// symbol itself encodes.
func Data(raw []byte) []byte {
	s := string(raw)
	if len(s) >= 3 && s[0] == ']' {
		s = s[3:]
	}
	return []byte(strings.TrimPrefix(s, "\x1d"))
}

// Frame renders one scan as a camera frame.
func Frame(raw []byte, i int, o Options) (*synth.Frame, error) {
	if o.W == 0 || o.H == 0 {
		o.W, o.H = 1280, 720
	}
	if o.Module == 0 {
		o.Module = 7
	}
	d := Data(raw)
	if len(d) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrScan)
	}
	sign := float64(1 - 2*(i%2))
	p := synth.Params{W: o.W, H: o.H, Module: o.Module, Rotation: sign * float64(3+i%7), KeyX: 0.04, Blur: 0.6,
		Light: 215, Contrast: 150, Gradient: 0.2, Noise: 2, OffX: sign * 0.08, OffY: -sign * 0.05, Clutter: true,
		Seed: o.Seed + uint64(i)}
	f, err := synth.Render(d, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScan, err)
	}
	return f, nil
}

// WriteFolder writes one PNG per scan into dir, named so that they play
// in order, and returns their paths.
func WriteFolder(dir string, scans [][]byte, o Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for i, raw := range scans {
		f, err := Frame(raw, i, o)
		if err != nil {
			return nil, fmt.Errorf("scan %d: %w", i, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("frame-%04d.png", i))
		fh, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		err = png.Encode(fh, f.Image)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
