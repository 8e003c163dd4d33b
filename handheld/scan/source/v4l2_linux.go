//go:build linux

package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"time"

	"github.com/blackjack/webcam"

	"github.com/custodyhq/custody/handheld/scan"
)

// fourcc builds a V4L2 pixel format code.
func fourcc(s string) webcam.PixelFormat {
	return webcam.PixelFormat(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

// V4L2 reads a Linux video device (e.g. /dev/video0). Only the luminance
// is used: GREY, YUYV, NV12/NV21 and MJPEG are supported.
type V4L2 struct {
	cam    *webcam.Webcam
	format webcam.PixelFormat
	w, h   int
}

var _ scan.Source = (*V4L2)(nil)

// OpenV4L2 opens dev and starts streaming at about w x h.
func OpenV4L2(dev string, w, h int) (*V4L2, error) {
	cam, err := webcam.Open(dev)
	if err != nil {
		return nil, fmt.Errorf("source: open %s: %w", dev, err)
	}
	supported := cam.GetSupportedFormats()
	var chosen webcam.PixelFormat
	for _, name := range []string{"GREY", "YUYV", "NV12", "NV21", "MJPG"} {
		if _, ok := supported[fourcc(name)]; ok {
			chosen = fourcc(name)
			break
		}
	}
	if chosen == 0 {
		cam.Close()
		return nil, fmt.Errorf("%w on %s", ErrFormat, dev)
	}
	f, gw, gh, err := cam.SetImageFormat(chosen, uint32(w), uint32(h))
	if err != nil {
		cam.Close()
		return nil, fmt.Errorf("source: set format: %w", err)
	}
	if err := cam.StartStreaming(); err != nil {
		cam.Close()
		return nil, fmt.Errorf("source: start streaming: %w", err)
	}
	return &V4L2{cam: cam, format: f, w: int(gw), h: int(gh)}, nil
}

// Next implements scan.Source.
func (v *V4L2) Next(ctx context.Context) (scan.Frame, error) {
	for {
		if err := ctx.Err(); err != nil {
			return scan.Frame{}, err
		}
		err := v.cam.WaitForFrame(1)
		var timeout *webcam.Timeout
		if errors.As(err, &timeout) {
			continue
		}
		if err != nil {
			return scan.Frame{}, fmt.Errorf("source: wait: %w", err)
		}
		raw, err := v.cam.ReadFrame()
		if err != nil {
			return scan.Frame{}, fmt.Errorf("source: read: %w", err)
		}
		if len(raw) == 0 {
			continue
		}
		return v.luma(raw)
	}
}

// luma extracts the Y plane into the source's own buffer.
func (v *V4L2) luma(raw []byte) (scan.Frame, error) {
	// each frame gets its own buffer: several decoding workers hold
	// frames at once
	n := v.w * v.h
	out := make([]byte, n)
	switch v.format {
	case fourcc("GREY"), fourcc("NV12"), fourcc("NV21"):
		if len(raw) < n {
			return scan.Frame{}, fmt.Errorf("%w: short frame", ErrFormat)
		}
		copy(out, raw[:n])
	case fourcc("YUYV"):
		if len(raw) < 2*n {
			return scan.Frame{}, fmt.Errorf("%w: short frame", ErrFormat)
		}
		for i := 0; i < n; i++ {
			out[i] = raw[2*i]
		}
	case fourcc("MJPG"):
		img, err := jpeg.Decode(bytes.NewReader(raw))
		if err != nil {
			return scan.Frame{}, fmt.Errorf("source: mjpeg: %w", err)
		}
		g := scan.ToGray(img)
		return scan.Frame{Y: g.Pix, W: g.Rect.Dx(), H: g.Rect.Dy(), Stride: g.Stride, At: time.Now()}, nil
	default:
		return scan.Frame{}, ErrFormat
	}
	return scan.Frame{Y: out, W: v.w, H: v.h, Stride: v.w, At: time.Now()}, nil
}

// Close implements scan.Source.
func (v *V4L2) Close() error {
	v.cam.StopStreaming()
	return v.cam.Close()
}
