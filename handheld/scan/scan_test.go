package scan

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/handheld/scan/synth"
	"github.com/custodyhq/custody/shared/gs1"
)

func TestSquareToQuad(t *testing.T) {
	q := [4]pt{{10, 20}, {110, 25}, {120, 140}, {5, 130}}
	h, ok := squareToQuad(q)
	if !ok {
		t.Fatal("singular")
	}
	for k, uv := range [4][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
		x, y := h.apply(uv[0], uv[1])
		if math.Abs(x-q[k].X) > 1e-9 || math.Abs(y-q[k].Y) > 1e-9 {
			t.Errorf("corner %d: (%v,%v) want %v", k, x, y, q[k])
		}
	}
}

// TestSampler samples a rendered symbol through a known grid and must get
// every module right, including the threshold fitted to the border.
func TestSampler(t *testing.T) {
	data, _ := label.ParseElementString("(01)09506000134352(17)291231(10)LOT7(21)SER123")
	sym, err := label.EncodeGS1(data, label.Square)
	if err != nil {
		t.Fatal(err)
	}
	const mod, quiet = 5, 3
	img := label.Render(sym, mod, quiet)
	// dim and add a gradient so the fitted threshold matters
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			v := float64(img.Pix[y*img.Stride+x])*0.3 + 60 + 0.3*float64(x)
			img.Pix[y*img.Stride+x] = uint8(v)
		}
	}
	g := &grayView{pix: img.Pix, w: img.Rect.Dx(), h: img.Rect.Dy(), stride: img.Stride}
	o := float64(quiet * mod)
	L := float64(sym.Cols * mod)
	q := [4]pt{{o, o}, {o + L, o}, {o + L, o + L}, {o, o + L}}
	h, _ := gridHomography(q, sym.Cols, sym.Rows)
	vals := sampleGrid(g, &h, sym.Cols, sym.Rows, nil)
	dark, light := borderPlanes(vals, sym.Cols, sym.Rows)
	bm := sym.BitMatrix()
	bm.Clear()
	bitsFrom(vals, sym.Cols, sym.Rows, dark, light, 0, bm)
	for y := 0; y < sym.Rows; y++ {
		for x := 0; x < sym.Cols; x++ {
			if bm.Get(x, y) != sym.Dark(x, y) {
				t.Fatalf("module %d,%d wrong", x, y)
			}
		}
	}
}

// TestFinderSynthetic checks the located corners against the rendered
// ground truth at several rotations and a keystone.
func TestFinderSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := New(Options{Budget: 5 * time.Second, NoFallback: true})
	for _, rot := range []float64{0, 17, 45, 90, 133, 180, 251, 300} {
		p := synth.Params{W: 640, H: 480, Module: 4, Rotation: rot, KeyX: 0.1, Light: 220, Contrast: 160,
			Blur: 0.4, Noise: 3, OffX: 0.05, OffY: -0.04, Clutter: true, Seed: rng.Uint64()}
		data := synth.RandomGS1(rng)
		f, err := synth.Render(data, p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.DecodeGray(f.Image)
		if err != nil {
			t.Errorf("rotation %v: %v", rot, err)
			continue
		}
		if r.Text != string(data) || r.Symbology != "]d2" || r.Fallback {
			t.Errorf("rotation %v: got %q %s fallback=%v", rot, r.Text, r.Symbology, r.Fallback)
		}
		for k := range r.Corners {
			dx := float64(r.Corners[k].X) - f.Corners[k][0]
			dy := float64(r.Corners[k].Y) - f.Corners[k][1]
			if math.Hypot(dx, dy) > 0.75*p.Module+1 {
				t.Errorf("rotation %v corner %d at %v, want %v", rot, k, r.Corners[k], f.Corners[k])
			}
		}
	}
}

// TestPropertyRandomPayloads: random GS1 payloads, encoded, rendered with
// random transforms within the clean-to-moderate range, must decode to
// exactly the payload.
func TestPropertyRandomPayloads(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	s := New(Options{Budget: 5 * time.Second, NoFallback: true})
	n := 30
	if testing.Short() {
		n = 8
	}
	for i := 0; i < n; i++ {
		data := synth.RandomGS1(rng)
		p := synth.Params{W: 640, H: 480, Module: 3 + 3*rng.Float64(), Rotation: 360 * rng.Float64(),
			KeyX: 0.15 * rng.Float64(), KeyY: 0.1 * rng.Float64(), Blur: 0.8 * rng.Float64(),
			Light: 170 + rng.IntN(60), Contrast: 80 + rng.IntN(80), Gradient: 0.2 * rng.Float64(),
			Noise: 6 * rng.Float64(), OffX: 0.2*rng.Float64() - 0.1, OffY: 0.2*rng.Float64() - 0.1,
			Clutter: rng.IntN(2) == 0, Seed: rng.Uint64()}
		f, err := synth.Render(data, p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.DecodeGray(f.Image)
		if err != nil || r.Text != string(data) {
			t.Errorf("payload %q params %+v: got %q, %v", data, p, r.Text, err)
		}
	}
}

func TestPlainDataMatrix(t *testing.T) {
	sym, err := label.EncodePlain([]byte("HELLO-123"), label.Square)
	if err != nil {
		t.Fatal(err)
	}
	img := label.Render(sym, 6, 6)
	r, err := New(Options{}).DecodeGray(img)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "HELLO-123" || r.Symbology != "]d1" || r.GS1() {
		t.Errorf("got %q %s", r.Text, r.Symbology)
	}
}

func TestDecodeYErrors(t *testing.T) {
	s := New(Options{})
	if _, err := s.DecodeY(make([]byte, 10), 100, 100, 100); !errors.Is(err, ErrFrame) {
		t.Errorf("short buffer: %v", err)
	}
	blank := make([]byte, 320*240)
	for i := range blank {
		blank[i] = 200
	}
	if _, err := s.DecodeY(blank, 320, 240, 320); !errors.Is(err, ErrNotFound) {
		t.Errorf("blank: %v", err)
	}
}

func TestDeduper(t *testing.T) {
	d := NewDeduper(time.Second)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		text string
		at   time.Duration
		want bool
	}{
		{"A", 0, true}, {"A", 300 * time.Millisecond, false}, {"B", 400 * time.Millisecond, true},
		{"A", 1200 * time.Millisecond, false}, // still seen at 300 ms… then 1200: within 1 s of last read
		{"A", 3 * time.Second, true},
	}
	for i, st := range steps {
		if got := d.Fresh(st.text, t0.Add(st.at)); got != st.want {
			t.Errorf("step %d (%s at %v): %v", i, st.text, st.at, got)
		}
	}
}

type sliceSource struct {
	frames []Frame
	i      int
}

func (s *sliceSource) Next(ctx context.Context) (Frame, error) {
	if s.i >= len(s.frames) {
		return Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}
func (s *sliceSource) Close() error { return nil }

// TestReader runs frames through two workers: repeated frames of one code
// are one scan, and each scan gets the GS1 verdict.
func TestReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	var frames []Frame
	var texts []string
	t0 := time.Now()
	for c := 0; c < 2; c++ {
		data := synth.RandomGS1(rng)
		texts = append(texts, string(data))
		for k := 0; k < 3; k++ {
			f, err := synth.Render(data, synth.Params{W: 320, H: 240, Module: 3, Rotation: float64(10 * k), Light: 220, Contrast: 160, Seed: rng.Uint64()})
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, Frame{Y: f.Image.Pix, W: 320, H: 240, Stride: f.Image.Stride, At: t0.Add(time.Duration(len(frames)) * 100 * time.Millisecond)})
		}
	}
	plain, _ := label.EncodePlain([]byte("NOT-GS1"), label.Square)
	pimg := label.Render(plain, 4, 10)
	frames = append(frames, Frame{Y: pimg.Pix, W: pimg.Rect.Dx(), H: pimg.Rect.Dy(), Stride: pimg.Stride, At: t0.Add(time.Second)})

	var events []Event
	r := &Reader{Source: &sliceSource{frames: frames}, Workers: 2, Window: 5 * time.Second,
		Checker: GS1Checker{Want: gs1.WantUnit, Policy: gs1.Policy{Today: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		Options: Options{Budget: 5 * time.Second},
		Emit:    func(e Event) { events = append(events, e) }}
	if err := r.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3 (two codes + plain): %+v", len(events), events)
	}
	got := map[string]Event{}
	for _, e := range events {
		got[e.Scan.Text] = e
	}
	for _, tx := range texts {
		e, ok := got[tx]
		if !ok || e.Verdict.Status != Accepted {
			t.Errorf("%q: %+v", tx, e)
		}
		if p, ok := e.Verdict.Product.(gs1.Product); !ok || p.Serial == "" {
			t.Errorf("%q: product %+v", tx, e.Verdict.Product)
		}
	}
	if e := got["NOT-GS1"]; e.Verdict.Status != Refused || e.Verdict.Reason == "" {
		t.Errorf("plain DataMatrix not refused: %+v", e)
	}
}

func FuzzDecodeY(f *testing.F) {
	f.Add([]byte{0, 255, 0, 255}, uint8(20), uint8(20))
	f.Add(make([]byte, 600), uint8(30), uint8(20))
	f.Fuzz(func(t *testing.T, b []byte, w, h uint8) {
		W, H := int(w)+16, int(h)+16
		buf := make([]byte, W*H)
		for i := range buf {
			if len(b) > 0 {
				buf[i] = b[i%len(b)]
			}
		}
		s := New(Options{Budget: 50 * time.Millisecond, NoFallback: true})
		r, err := s.DecodeY(buf, W, H, W)
		if err == nil && r.Symbology == "" {
			t.Fatal("result without symbology")
		}
	})
}
