package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
)

// cmdSamples reads folders of sample images (each image beside a .txt
// with its expected text, as zxing's and zxing-cpp's black-box folders
// are laid out) at 0°, 90°, 180° and 270° and prints the reads per
// rotation and the time per image. With --pgm it also writes every
// rotated image as PGM with a list for the external readers of
// scan/bench/compare-samples.sh.
func cmdSamples(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	fs.SetOutput(stderr)
	budget := fs.Duration("budget", 500*time.Millisecond, "time budget per image")
	pgm := fs.String("pgm", "", "write rotated images as PGM and list.tsv into this folder")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "custody-scan samples: no folders")
		return 2
	}
	var list *bufio.Writer
	if *pgm != "" {
		if err := os.MkdirAll(*pgm, 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		f, err := os.Create(filepath.Join(*pgm, "list.tsv"))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		list = bufio.NewWriter(f)
		defer list.Flush()
	}
	sc := scan.New(scan.Options{Budget: *budget, NoTracking: true})
	fmt.Fprintf(stdout, "%-14s %6s %5s %5s %5s %5s %9s %9s\n", "set", "images", "0°", "90°", "180°", "270°", "median ms", "cpu ms")
	for _, dir := range fs.Args() {
		set := filepath.Base(dir)
		imgs, err := sampleImages(dir)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		var reads [4]int
		var wall, cpu []time.Duration
		for _, im := range imgs {
			g := im.img
			for rot := 0; rot < 4; rot++ {
				c0, t0 := cpuTime(), time.Now()
				r, err := sc.DecodeGray(g)
				wall = append(wall, time.Since(t0))
				cpu = append(cpu, cpuTime()-c0)
				if err == nil && r.Text == im.want {
					reads[rot]++
				}
				if list != nil {
					name := fmt.Sprintf("%s-%d-%s", set, 90*rot, strings.TrimSuffix(im.name, filepath.Ext(im.name)))
					if err := writeGrayPGM(filepath.Join(*pgm, name+".pgm"), g); err != nil {
						fmt.Fprintln(stderr, err)
						return 1
					}
					fmt.Fprintf(list, "%s.png\t%s\t%d\ttrue\t%s\n", name, set, 90*rot, hex.EncodeToString([]byte(im.want)))
				}
				g = rotate90(g)
			}
		}
		fmt.Fprintf(stdout, "%-14s %6d %5d %5d %5d %5d %9.2f %9.2f\n", set, len(imgs), reads[0], reads[1], reads[2], reads[3], medianMS(wall), medianMS(cpu))
	}
	return 0
}

type sampleImage struct {
	name, want string
	img        *image.Gray
}

// sampleImages loads the images of dir that have a .txt expectation.
func sampleImages(dir string) ([]sampleImage, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []sampleImage
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		switch ext {
		case ".png", ".jpg", ".webp", ".gif":
		default:
			continue
		}
		want, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(e.Name(), ext)+".txt"))
		if err != nil {
			continue // binary or no expectation
		}
		img, err := loadImage(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, sampleImage{e.Name(), string(want), scan.ToGray(img)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// rotate90 returns g turned 90° clockwise.
func rotate90(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[x*out.Stride+(h-1-y)] = g.Pix[y*g.Stride+x]
		}
	}
	return out
}

func writeGrayPGM(path string, g *image.Gray) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "P5\n%d %d\n255\n", w, h)
	for y := 0; y < h; y++ {
		bw.Write(g.Pix[y*g.Stride : y*g.Stride+w])
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func medianMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2].Microseconds()) / 1000
}
