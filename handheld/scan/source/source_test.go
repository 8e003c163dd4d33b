package source_test

import (
	"context"
	"errors"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/scan/synth"
)

// TestFolderReplay replays a folder of frames through the Reader: three
// frames of one code and two of another give two scans.
func TestFolderReplay(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var want []string
	n := 0
	for c := 0; c < 2; c++ {
		data := synth.RandomGS1(rng)
		want = append(want, string(data))
		for k := 0; k < 3-c; k++ {
			f, err := synth.Render(data, synth.Params{W: 320, H: 240, Module: 3, Rotation: float64(20 * k), Light: 220, Contrast: 150, Seed: rng.Uint64()})
			if err != nil {
				t.Fatal(err)
			}
			fh, err := os.Create(filepath.Join(dir, string(rune('a'+n))+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(fh, f.Image); err != nil {
				t.Fatal(err)
			}
			fh.Close()
			n++
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	src, err := source.Folder(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Paths) != 5 {
		t.Fatalf("%d paths", len(src.Paths))
	}
	var got []scan.Event
	r := &scan.Reader{Source: src, Workers: 1, Options: scan.Options{Budget: 5 * time.Second}, Emit: func(e scan.Event) { got = append(got, e) }}
	if err := r.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Scan.Text != want[0] || got[1].Scan.Text != want[1] {
		t.Fatalf("got %+v", got)
	}
	if _, err := source.Folder(t.TempDir(), 0); !errors.Is(err, source.ErrNoImages) {
		t.Errorf("empty folder: %v", err)
	}
}

func TestPush(t *testing.T) {
	p := source.NewPush(1)
	y := make([]byte, 40*30)
	y[5] = 7
	if !p.Push(y, 40, 30, 40, time.Now()) {
		t.Fatal("first push refused")
	}
	if p.Push(y, 40, 30, 40, time.Now()) {
		t.Error("push beyond depth accepted (should drop)")
	}
	if p.Push(y[:10], 40, 30, 40, time.Now()) {
		t.Error("short buffer accepted")
	}
	y[5] = 9 // the source holds a copy
	f, err := p.Next(context.Background())
	if err != nil || f.W != 40 || f.H != 30 || f.Y[5] != 7 {
		t.Fatalf("frame %v %v", f.Y[:8], err)
	}
	f.Release()
	p.Close()
	if p.Push(y, 40, 30, 40, time.Now()) {
		t.Error("push after close accepted")
	}
	if _, err := p.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("after close: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := source.NewPush(1).Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
