package scan

import (
	"math/rand/v2"
	"testing"

	"github.com/custodyhq/custody/handheld/scan/synth"
)

// benchFrames renders n frames of the "mixed" kind at w x h.
func benchFrames(b *testing.B, w, h, n int) []*synth.Frame {
	b.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	var out []*synth.Frame
	for i := 0; i < n; i++ {
		p := synth.Params{W: w, H: h, Module: 3 + 3*rng.Float64(), Rotation: 360 * rng.Float64(),
			KeyX: 0.1 * rng.Float64(), Blur: rng.Float64(), Light: 210, Contrast: 80 + rng.IntN(100),
			Noise: 6 * rng.Float64(), Gradient: 0.2 * rng.Float64(), OffX: 0.2*rng.Float64() - 0.1,
			OffY: 0.2*rng.Float64() - 0.1, Clutter: true, Seed: rng.Uint64()}
		f, err := synth.Render(synth.RandomGS1(rng), p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// BenchmarkDecode1280x720 measures one frame per iteration on one
// goroutine (run with GOMAXPROCS=1 for the single-core figure).
func BenchmarkDecode1280x720(b *testing.B) {
	frames := benchFrames(b, 1280, 720, 8)
	s := New(Options{NoTracking: true})
	b.ResetTimer()
	c0 := processCPU()
	miss := 0
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		r, err := s.DecodeGray(f.Image)
		if err != nil || r.Text != f.Text {
			miss++
		}
	}
	b.ReportMetric(float64(miss)/float64(b.N), "miss/op")
	b.ReportMetric(float64((processCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
