package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/custodyhq/custody/handheld/scan"
)

type decodeLine struct {
	File      string  `json:"file"`
	OK        bool    `json:"ok"`
	Text      string  `json:"text,omitempty"`
	Symbology string  `json:"symbology,omitempty"`
	MS        float64 `json:"ms,omitempty"`
	Error     string  `json:"error,omitempty"`
}

func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func cmdDecode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	budget := fs.Duration("budget", 500*time.Millisecond, "time budget per image")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "custody-scan decode: no files")
		return 2
	}
	sc := scan.New(scan.Options{Budget: *budget, NoTracking: true})
	enc := json.NewEncoder(stdout)
	code := 0
	for _, path := range fs.Args() {
		line := decodeLine{File: path}
		img, err := loadImage(path)
		if err == nil {
			g := scan.ToGray(img)
			t0 := time.Now()
			var r scan.Result
			r, err = sc.DecodeGray(g)
			if err == nil {
				line.OK, line.Text, line.Symbology = true, r.Text, r.Symbology
				line.MS = float64(time.Since(t0).Microseconds()) / 1000
			}
		}
		if err != nil {
			line.Error = err.Error()
			code = 1
		}
		if err := enc.Encode(line); err != nil {
			return 1
		}
	}
	return code
}
