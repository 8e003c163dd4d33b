package ui

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/custodyhq/custody/handheld/scan"
)

// previewW is the width of the preview image drawn from each frame.
const previewW = 320

// previewEvery is the shortest time between two preview images: 15 per
// second are plenty to aim with, and drawing fewer leaves the core to
// the decoder.
const previewEvery = 66 * time.Millisecond

// cameraView shows the camera's preview with an outline where a code
// was found, and reads codes on a goroutine of its own.
type cameraView struct {
	obj    fyne.CanvasObject
	img    *canvas.Image
	status *widget.Label
	qr     atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
	frames atomic.Int64 // frames decoded
	reads  atomic.Int64 // codes read
}

func (c *cameraView) setQR(on bool) { c.qr.Store(on) }

// toggleCamera turns the camera preview on or off.
func (u *UI) toggleCamera() {
	if u.cam != nil {
		u.stopCamera()
		return
	}
	u.startCamera()
}

// startCamera opens the camera and starts reading; it says so in the
// banner when there is none.
func (u *UI) startCamera() {
	if u.cam != nil {
		return
	}
	if u.cfg.Camera == nil {
		u.banner.set(refusal("this handheld has no camera set up: type the code, or use the scanner"))
		return
	}
	src, err := u.cfg.Camera()
	if err != nil {
		u.banner.set(refusal("the camera did not start: " + err.Error()))
		return
	}
	c := &cameraView{done: make(chan struct{})}
	c.img = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, previewW, previewW*9/16)))
	c.img.FillMode = canvas.ImageFillContain
	c.img.ScaleMode = canvas.ImageScaleFastest
	c.img.SetMinSize(fyne.NewSize(previewW, previewW*9/16))
	c.status = widget.NewLabel("aim at the code")
	c.status.Alignment = fyne.TextAlignCenter
	c.obj = container.NewBorder(nil, c.status, nil, nil, c.img)
	if u.cur != nil {
		c.setQR(u.cur.qr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	u.cam = c
	u.camBox.Objects = []fyne.CanvasObject{c.obj}
	u.camBox.Show()
	u.camBox.Refresh()
	go func() {
		defer close(c.done)
		defer src.Close()
		err := c.loop(ctx, src, func(s scan.Scan) { fyne.Do(func() { u.scanned(s) }) },
			func(img image.Image, msg string) {
				fyne.Do(func() {
					if img != nil {
						c.img.Image = img
						c.img.Refresh()
					}
					if msg != "" {
						c.status.SetText(msg)
					}
				})
			})
		if err != nil && !errors.Is(err, context.Canceled) {
			u.cfg.Log.Warn("camera stopped", "err", err)
			fyne.Do(func() { c.status.SetText("camera stopped: " + err.Error()) })
		}
	}()
}

// stopCamera stops the camera and waits for its goroutine.
func (u *UI) stopCamera() {
	c := u.cam
	if c == nil {
		return
	}
	u.cam = nil
	c.cancel()
	u.camBox.Hide()
	u.camBox.Objects = nil
	go func() { <-c.done }()
}

// WaitCamera blocks until the camera's source has ended (a replay played
// through) and its reads are handed to the screen; it returns the frames
// decoded and codes read.
func (u *UI) WaitCamera() (frames, reads int64) {
	c := u.cam
	if c == nil {
		return 0, 0
	}
	<-c.done
	return c.frames.Load(), c.reads.Load()
}

// loop reads frames until the source ends or ctx is done, hands each new
// code to found and a preview with the code's outline to show.
func (c *cameraView) loop(ctx context.Context, src scan.Source, found func(scan.Scan), show func(image.Image, string)) error {
	sc := scan.New(scan.Options{})
	dd := scan.NewDeduper(2 * time.Second)
	var lastPreview time.Time
	for {
		f, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			show(nil, "camera replay ended")
			return nil
		}
		if err != nil {
			return err
		}
		if f.At.IsZero() {
			f.At = time.Now()
		}
		var s scan.Scan
		var corners []image.Point
		ok := false
		if c.qr.Load() {
			s, corners, ok = readQR(f)
		} else if res, err := sc.DecodeY(f.Y, f.W, f.H, f.Stride); err == nil {
			s = scan.Scan{Text: res.Text, Symbology: res.Symbology, At: f.At, Origin: "camera"}
			corners = res.Corners[:]
			ok = true
		}
		c.frames.Add(1)
		now := time.Now()
		if now.Sub(lastPreview) >= previewEvery || ok {
			lastPreview = now
			img := preview(f, corners)
			msg := ""
			if ok {
				msg = "read: " + printable(s.Text)
			}
			show(img, msg)
		}
		if f.Release != nil {
			f.Release()
		}
		if ok && dd.Fresh(s.Text, f.At) {
			c.reads.Add(1)
			s.At = f.At
			found(s)
		}
	}
}

// readQR reads a QR code (the enrollment line) in a frame.
func readQR(f scan.Frame) (scan.Scan, []image.Point, bool) {
	g := &image.Gray{Pix: f.Y, Stride: f.Stride, Rect: image.Rect(0, 0, f.W, f.H)}
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(g)))
	if err != nil {
		return scan.Scan{}, nil, false
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return scan.Scan{}, nil, false
	}
	var pts []image.Point
	for _, p := range res.GetResultPoints() {
		pts = append(pts, image.Pt(int(p.GetX()), int(p.GetY())))
	}
	return scan.Scan{Text: res.GetText(), Symbology: "]Q1", At: f.At, Origin: "camera"}, pts, true
}

// preview scales a frame down to previewW wide and draws the outline of
// what was found on it, in a thick green line.
func preview(f scan.Frame, corners []image.Point) image.Image {
	w := previewW
	h := f.H * w / max(f.W, 1)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		sy := y * f.H / h
		row := f.Y[sy*f.Stride:]
		o := y * img.Stride
		for x := 0; x < w; x++ {
			v := row[x*f.W/w]
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = v, v, v, 0xff
			o += 4
		}
	}
	if len(corners) >= 2 {
		green := color.RGBA{0x00, 0xe0, 0x40, 0xff}
		scale := func(p image.Point) image.Point { return image.Pt(p.X*w/f.W, p.Y*h/f.H) }
		for i := range corners {
			a, b := scale(corners[i]), scale(corners[(i+1)%len(corners)])
			line(img, a, b, green)
		}
	}
	return img
}

// line draws a 3-pixel-wide line.
func line(img *image.RGBA, a, b image.Point, c color.RGBA) {
	dx, dy := b.X-a.X, b.Y-a.Y
	n := max(abs(dx), abs(dy), 1)
	for i := 0; i <= n; i++ {
		x, y := a.X+dx*i/n, a.Y+dy*i/n
		for oy := -1; oy <= 1; oy++ {
			for ox := -1; ox <= 1; ox++ {
				if (image.Point{x + ox, y + oy}).In(img.Rect) {
					img.SetRGBA(x+ox, y+oy, c)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// printable shows scanner data with GS as «GS».
func printable(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == 0x1d {
			out = append(out, []rune("‹GS›")...)
			continue
		}
		out = append(out, r)
	}
	if len(out) > 60 {
		return string(out[:57]) + "…"
	}
	return string(out)
}
