package ui

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/syncdev"
)

// qrFrame writes a 1280×720 camera frame showing line as a QR code, off
// centre, as a console screen would show it.
func qrFrame(t *testing.T, dir, line string) {
	t.Helper()
	m, err := qrcode.NewQRCodeWriter().Encode(line, gozxing.BarcodeFormat_QR_CODE, 300, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 1280, 720))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			v := uint8(245)
			if m.Get(x, y) {
				v = 30
			}
			img.SetGray(700+x, 200+y, colorGray(v))
		}
	}
	f, err := os.Create(filepath.Join(dir, "qr.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// A device that was never enrolled starts at enrollment; the camera
// reads the console's QR code and the enrollment runs with its line,
// showing progress; then sign-in. A bad line is refused in words.
func TestEnrollFromQRCode(t *testing.T) {
	base := newRig(t) // the engine the enrollment hands over
	a := test.NewTempApp(t)
	const line = "custody-hh enroll --server https://10.0.0.5:8081 --token tok-1 --ca-fingerprint ab12"
	dir := t.TempDir()
	qrFrame(t, dir, line)
	var got syncdev.EnrollConfig
	var steps []float64
	w := a.NewWindow("enroll")
	w.Resize(fyne.NewSize(480, 800))
	u, err := New(a, w, Config{Log: quiet(), Sound: base.cues,
		Camera: func() (scan.Source, error) { return source.Folder(dir, 0) },
		Enroll: func(_ context.Context, l string, progress func(float64, string)) (Engine, Sync, error) {
			cfg, err := syncdev.ParseEnrollLine(l)
			if err != nil {
				return nil, nil, err
			}
			got = cfg
			for _, f := range []float64{0.1, 0.4, 1} {
				progress(f, "step")
				steps = append(steps, f)
			}
			return base.eng, &Link{Dev: base.dev}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Stop)
	if u.Screen() != "enroll" {
		t.Fatalf("screen %s", u.Screen())
	}
	if got, _ := u.header.conn.Get(); got != "● NOT ENROLLED" {
		t.Fatalf("header %q", got)
	}
	// a line that is not one
	u.Fill("custody-hh enroll", "hello")
	u.Tap("Enroll with this line")
	u.Wait()
	if u.Kind() != "refused" || u.Screen() != "enroll" {
		t.Fatalf("bad line: %s %q", u.Kind(), u.Reason())
	}
	u.Tap("Read the QR code")
	frames, reads := u.WaitCamera()
	u.Wait()
	if frames != 1 || reads != 1 {
		t.Fatalf("camera: %d frames, %d reads", frames, reads)
	}
	if got.Server != "https://10.0.0.5:8081" || got.Token != "tok-1" || got.CAFingerprint != "ab12" || len(steps) != 3 {
		t.Fatalf("enrolled with %+v, progress %v", got, steps)
	}
	if u.Screen() != "signin" || u.Kind() != "done" {
		t.Fatalf("after enrolling: %s %s %q", u.Screen(), u.Kind(), u.Reason())
	}
}

func colorGray(v uint8) color.Gray { return color.Gray{Y: v} }
