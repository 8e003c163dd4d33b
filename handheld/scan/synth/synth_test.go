package synth

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestRenderDeterministic(t *testing.T) {
	data := RandomGS1(rand.New(rand.NewPCG(1, 1)))
	p := Params{W: 200, H: 160, Module: 3, Rotation: 30, KeyX: 0.2, Blur: 0.7, Light: 200, Contrast: 120, Gradient: 0.2, Noise: 5, Clutter: true, Seed: 9}
	a, err := Render(data, p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(data, p)
	if !bytes.Equal(a.Image.Pix, b.Image.Pix) || a.Text != string(data) {
		t.Error("render is not deterministic")
	}
	// the symbol centre is where the parameters put it
	cx := (a.Corners[0][0] + a.Corners[2][0]) / 2
	cy := (a.Corners[0][1] + a.Corners[2][1]) / 2
	if cx < 80 || cx > 120 || cy < 60 || cy > 100 {
		t.Errorf("centre %v,%v", cx, cy)
	}
	if _, err := Render(data, Params{W: 10, H: 10}); !errors.Is(err, ErrParams) {
		t.Errorf("bad params: %v", err)
	}
}

func TestGenerateAndLoad(t *testing.T) {
	dir := t.TempDir()
	m, err := Generate(dir, SetOptions{Seed: 3, Count: 1, Sizes: []Size{{160, 120}}, PGM: true})
	if err != nil {
		t.Fatal(err)
	}
	back, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Entries) != len(m.Entries) || len(m.Entries) < len(Groups()) {
		t.Fatalf("%d entries, loaded %d", len(m.Entries), len(back.Entries))
	}
	for _, e := range back.Entries {
		if e.Text == "" || e.Size != "160x120" || (e.Group == "unaimed") == e.Aimed {
			t.Errorf("entry %+v", e)
		}
	}
}
