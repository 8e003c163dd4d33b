package scan

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/scan/synth"
)

// TestDMRE reads rectangular extension symbols, long thin vial codes
// (8 x 48 … 8 x 144) included, at rotations all round the circle, with
// some keystone, blur and noise.
func TestDMRE(t *testing.T) {
	rng := rand.New(rand.NewPCG(21471, 1))
	s := New(Options{Budget: 5 * time.Second, NoTracking: true, NoFallback: true})
	for _, rows := range []int{8, 12, 16, 20, 22, 24, 26} {
		for rot := 0.0; rot < 360; rot += 37.5 {
			data := synth.RandomGS1(rng)
			if rows == 8 && rng.IntN(2) == 0 {
				data = data[:16] // (01) only: the shortest, 8 x 48
			}
			p := synth.Params{W: 1280, H: 720, Module: 3.5 + rng.Float64(), Rotation: rot + 5*rng.Float64(),
				KeyX: 0.08 * rng.Float64(), Blur: 0.6 * rng.Float64(), Light: 210, Contrast: 90 + rng.IntN(80),
				Noise: 3 * rng.Float64(), Gradient: 0.15 * rng.Float64(), Clutter: true, DMRERows: rows,
				Seed: rng.Uint64()}
			f, err := synth.Render(data, p)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%d rows at %.0f°", rows, p.Rotation)
			r, err := s.DecodeGray(f.Image)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if r.Text != f.Text {
				t.Errorf("%s: got %q want %q", name, r.Text, f.Text)
			}
			if r.Rows != rows {
				t.Errorf("%s: read as %dx%d", name, r.Cols, r.Rows)
			}
		}
	}
}
