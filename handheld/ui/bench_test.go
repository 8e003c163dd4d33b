package ui

import (
	"context"
	"image"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/replay"
	"github.com/custodyhq/custody/shared/demo"
)

// BenchmarkScanToBanner is a typed scan's way through the UI layer to
// the verdict on screen: the scan field, the wedge parser, the engine
// (receipt of a unit against the ASN, a durable Badger commit), the
// banner and the sound cue; p50 and p99 are per scan, to the banner.
// The task's progress refresh that follows each scan (off the UI
// goroutine) is waited for before the next scan but not counted:
// refresh-ms is its own mean.
func BenchmarkScanToBanner(b *testing.B) {
	p := demo.DefaultParams()
	p.Pallets, p.CasesPerPallet, p.UnitsPerCase = 2, 20, 50 // 2,000 units to receive
	r := newRigWith(b, p)
	te := &timedEngine{Engine: r.eng}
	r.u.eng = te
	r.signIn("op1")
	r.tap("Receive")
	r.tap(demo.ASNUS)
	var scans [][]byte
	for _, it := range r.fx.ASN(demo.ASNUS).Items {
		if !it.Key.IsContainer() {
			scans = append(scans, r.fx.ScanOf(it.Key))
		}
	}
	var lat []time.Duration
	var total time.Duration
	i := 0
	for b.Loop() {
		raw := scans[i%len(scans)]
		i++
		t := time.Now()
		r.scan(raw)
		lat = append(lat, r.u.verdictAt.Sub(t))
		total += time.Since(t)
		if i <= len(scans) && r.u.Kind() != "accepted" {
			b.Fatalf("scan %d: %s %q", i, r.u.Kind(), r.u.Reason())
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	b.ReportMetric(float64((total-sum).Microseconds())/1000/float64(len(lat)), "refresh-ms")
	slices.Sort(te.lat)
	b.ReportMetric(float64(te.lat[len(te.lat)*99/100].Microseconds())/1000, "engine-p99-ms")
}

// timedEngine times the engine's Scan: the part of the way to the
// banner that is the engine's (parse, rules, durable commit).
type timedEngine struct {
	*engine.Engine
	lat []time.Duration
}

func (t *timedEngine) Scan(raw []byte) (engine.Step, error) {
	s := time.Now()
	st, err := t.Engine.Scan(raw)
	t.lat = append(t.lat, time.Since(s))
	return st, err
}

// memSource plays frames held in memory, as a camera hands them over.
type memSource struct {
	frames []*image.Gray
	i, n   int
}

func (m *memSource) Next(ctx context.Context) (scan.Frame, error) {
	if m.i >= m.n {
		return scan.Frame{}, io.EOF
	}
	g := m.frames[m.i%len(m.frames)]
	m.i++
	return scan.Frame{Y: g.Pix, W: g.Rect.Dx(), H: g.Rect.Dy(), Stride: g.Stride, At: time.Now()}, nil
}

func (m *memSource) Close() error { return nil }

// BenchmarkCameraPreview is the camera goroutine at 1280×720: every
// frame decoded (our detector, then gozxing), a preview image with the
// outline drawn at most every 66 ms, new codes handed on. Run with
// -cpu 1 for one core. Half the frames hold a code, half only a pack's
// printed text and background.
func BenchmarkCameraPreview(b *testing.B) {
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	var frames []*image.Gray
	for i, u := range fx.Snapshot.Units[:8] {
		f, err := replay.Frame(fx.ScanOf(u.Key), i, replay.Options{Seed: 5})
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, f.Image)
		empty := *f.Image
		empty.Pix = slices.Clone(f.Image.Pix)
		// cover the code: a frame of label and background only
		for y := 0; y < empty.Rect.Dy(); y++ {
			for x := 0; x < empty.Rect.Dx()/2; x++ {
				empty.Pix[y*empty.Stride+x] = 200
			}
		}
		frames = append(frames, &empty)
	}
	var c cameraView
	reads := 0
	n := 0
	for b.Loop() {
		n++
	}
	src := &memSource{frames: frames, n: n}
	b.ResetTimer()
	start := time.Now()
	err = c.loop(context.Background(), src, func(scan.Scan) { reads++ }, func(image.Image, string) {})
	el := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "frames/s")
	b.ReportMetric(float64(c.frames.Load()), "frames")
	_ = reads
}
