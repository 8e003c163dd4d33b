package synth

import (
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Entry is one frame of a benchmark set as stored in its manifest.
type Entry struct {
	File   string `json:"file"`
	Group  string `json:"group"`
	Size   string `json:"size"`
	Aimed  bool   `json:"aimed"` // symbol centre within ±10 % of the frame centre
	Text   string `json:"text"`
	Params Params `json:"params"`
}

// Manifest describes a generated set.
type Manifest struct {
	Seed    uint64  `json:"seed"`
	Entries []Entry `json:"entries"`
}

// ManifestName is the manifest's file name inside a set directory.
const ManifestName = "manifest.json"

// Size is a frame size.
type Size struct{ W, H int }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.W, s.H) }

// SetOptions configure Generate.
type SetOptions struct {
	Seed  uint64
	Count int // frames per group and size (sweeps use Count/2 per step, at least 1)
	Sizes []Size
	PGM   bool // also write frames as binary PGM (P5)
}

type sampler struct{ rng *rand.Rand }

func (s sampler) uni(a, b float64) float64 { return a + (b-a)*s.rng.Float64() }
func (s sampler) sign() float64 {
	if s.rng.IntN(2) == 0 {
		return -1
	}
	return 1
}

// base returns clean-label defaults.
func base(s sampler, sz Size, seed uint64) Params {
	return Params{
		W: sz.W, H: sz.H, Module: s.uni(4, 6), Rotation: s.uni(-5, 5),
		Light: int(s.uni(200, 235)), Contrast: int(s.uni(150, 190)),
		Gradient: s.uni(0, 0.1), Noise: s.uni(0, 3), Blur: s.uni(0, 0.5),
		OffX: s.uni(-0.05, 0.05), OffY: s.uni(-0.05, 0.05), Clutter: true, Seed: seed,
	}
}

// Groups lists the group names Generate produces, in order.
func Groups() []string {
	return []string{"clean", "mixed", "hard", "sweep-rotation", "sweep-keystone", "sweep-blur",
		"sweep-contrast", "sweep-noise", "sweep-module", "sweep-offset", "unaimed"}
}

// groupParams returns the parameter sets of a group for one frame size.
func groupParams(group string, s sampler, sz Size, count int, seed func() uint64) []Params {
	var out []Params
	steps := func(vals []float64, set func(*Params, float64)) {
		n := max(1, count/2)
		for _, v := range vals {
			for i := 0; i < n; i++ {
				p := base(s, sz, seed())
				set(&p, v)
				out = append(out, p)
			}
		}
	}
	switch group {
	case "clean":
		for i := 0; i < count; i++ {
			out = append(out, base(s, sz, seed()))
		}
	case "mixed":
		for i := 0; i < count; i++ {
			p := base(s, sz, seed())
			p.Module = s.uni(2.5, 6)
			p.Rotation = s.uni(0, 360)
			p.KeyX, p.KeyY = s.uni(0, 0.15), s.uni(0, 0.15)
			p.Blur = s.uni(0, 1.2)
			p.Contrast = int(s.uni(60, 190))
			p.Noise = s.uni(0, 12)
			p.Gradient = s.uni(0, 0.3)
			p.OffX, p.OffY = s.uni(-0.1, 0.1), s.uni(-0.1, 0.1)
			out = append(out, p)
		}
	case "hard":
		// several strong degradations at once; each factor's extreme is
		// covered alone by its sweep
		for i := 0; i < count; i++ {
			p := base(s, sz, seed())
			p.Module = s.uni(2, 4)
			p.Rotation = s.uni(0, 360)
			p.KeyX, p.KeyY = s.uni(0.1, 0.3), s.uni(0, 0.15)
			if s.rng.IntN(2) == 0 {
				p.KeyX, p.KeyY = p.KeyY, p.KeyX
			}
			p.Blur = s.uni(0.5, 1.2)
			p.Contrast = int(s.uni(40, 80))
			p.Light = int(s.uni(150, 220))
			p.Noise = s.uni(4, 12)
			p.Gradient = s.uni(0.1, 0.35)
			p.OffX, p.OffY = s.uni(-0.1, 0.1), s.uni(-0.1, 0.1)
			out = append(out, p)
		}
	case "sweep-rotation":
		steps([]float64{0, 10, 20, 30, 45, 60, 90, 135, 180, 270}, func(p *Params, v float64) { p.Rotation = v + s.uni(-1, 1) })
	case "sweep-keystone":
		steps([]float64{0, 0.1, 0.2, 0.3, 0.4}, func(p *Params, v float64) {
			if s.rng.IntN(2) == 0 {
				p.KeyX = v
			} else {
				p.KeyY = v
			}
		})
	case "sweep-blur":
		steps([]float64{0, 0.5, 1, 1.5, 2}, func(p *Params, v float64) { p.Blur = v })
	case "sweep-contrast":
		steps([]float64{20, 30, 40, 60, 100, 180}, func(p *Params, v float64) { p.Contrast = int(v) })
	case "sweep-noise":
		steps([]float64{0, 5, 10, 15, 20, 25, 30}, func(p *Params, v float64) { p.Noise = v })
	case "sweep-module":
		steps([]float64{1.5, 2, 2.5, 3, 4, 6, 8}, func(p *Params, v float64) { p.Module = v })
	case "sweep-offset":
		steps([]float64{0, 0.05, 0.1}, func(p *Params, v float64) {
			p.OffX, p.OffY = v*s.sign(), v*s.uni(-1, 1)
		})
	case "unaimed":
		for i := 0; i < count; i++ {
			p := base(s, sz, seed())
			p.Rotation = s.uni(0, 360)
			p.OffX, p.OffY = s.uni(0.12, 0.3)*s.sign(), s.uni(0.1, 0.25)*s.sign()
			out = append(out, p)
		}
	}
	// keep the symbol inside the frame: bound the module size by frame height
	for i := range out {
		limit := float64(sz.H) * 0.5 / 26
		if out[i].Module > limit {
			out[i].Module = limit
		}
	}
	return out
}

// Generate renders a benchmark set into dir (PNG frames and manifest.json).
func Generate(dir string, o SetOptions) (*Manifest, error) {
	if o.Count <= 0 {
		o.Count = 10
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []Size{{640, 480}, {1280, 720}, {1920, 1080}}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	s := sampler{rng}
	seed := func() uint64 { return rng.Uint64() }
	m := &Manifest{Seed: o.Seed}
	for _, g := range Groups() {
		for _, sz := range o.Sizes {
			for i, p := range groupParams(g, s, sz, o.Count, seed) {
				data := RandomGS1(rand.New(rand.NewPCG(p.Seed, 3)))
				f, err := Render(data, p)
				if err != nil {
					return nil, err
				}
				name := fmt.Sprintf("%s-%s-%03d.png", g, sz, i)
				if err := writePNG(filepath.Join(dir, name), f); err != nil {
					return nil, err
				}
				if o.PGM {
					if err := writePGM(filepath.Join(dir, strings.TrimSuffix(name, ".png")+".pgm"), f); err != nil {
						return nil, err
					}
				}
				aimed := g != "unaimed"
				m.Entries = append(m.Entries, Entry{File: name, Group: g, Size: sz.String(), Aimed: aimed, Text: f.Text, Params: p})
			}
		}
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("synth: manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	return m, nil
}

// LoadManifest reads dir/manifest.json.
func LoadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("synth: manifest: %w", err)
	}
	return &m, nil
}

func writePNG(path string, f *Frame) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(out, f.Image); err != nil {
		out.Close()
		return fmt.Errorf("synth: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

func writePGM(path string, f *Frame) error {
	b := f.Image.Bounds()
	hdr := fmt.Sprintf("P5\n%d %d\n255\n", b.Dx(), b.Dy())
	buf := make([]byte, 0, len(hdr)+b.Dx()*b.Dy())
	buf = append(buf, hdr...)
	for y := 0; y < b.Dy(); y++ {
		buf = append(buf, f.Image.Pix[y*f.Image.Stride:y*f.Image.Stride+b.Dx()]...)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}
