package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"strings"
	"time"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/handheld/scan"
)

// labelWriter is what both label kinds offer.
type labelWriter interface {
	PNG() (*image.Gray, error)
	PDF(io.Writer) error
}

func writeLabel(l labelWriter, out string, stderr io.Writer) int {
	if out == "" {
		fmt.Fprintln(stderr, "custody-scan: -o FILE (.png or .pdf) is required")
		return 2
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(stderr, "custody-scan:", err)
		return 1
	}
	// every label must read back through our reader (gozxing's decoder
	// already checked its symbol when it was laid out)
	img, err := l.PNG()
	if err == nil {
		if _, derr := scan.New(scan.Options{Budget: time.Second}).DecodeGray(img); derr != nil {
			err = fmt.Errorf("label does not read back: %w", derr)
		}
	}
	if err == nil {
		switch strings.ToLower(out[strings.LastIndexByte(out, '.')+1:]) {
		case "png":
			err = png.Encode(f, img)
		case "pdf":
			err = l.PDF(f)
		default:
			err = fmt.Errorf("unknown output type %q (want .png or .pdf)", out)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		fmt.Fprintln(stderr, "custody-scan:", err)
		return 1
	}
	return 0
}

func cmdLabel(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("label", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gs1 := fs.String("gs1", "", "bracketed element string, e.g. (01)…(17)…(10)…(21)…")
	out := fs.String("o", "", "output file (.png or .pdf)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *gs1 == "" {
		fmt.Fprintln(stderr, "custody-scan label: --gs1 is required")
		return 2
	}
	return writeLabel(label.Product{Element: *gs1}, *out, stderr)
}

func cmdSSCC(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sscc-label", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var l label.SSCC
	fs.StringVar(&l.SSCC, "sscc", "", "SSCC-18")
	fs.StringVar(&l.GTIN, "gtin", "", "content GTIN-14")
	fs.IntVar(&l.Count, "count", 0, "item count")
	fs.StringVar(&l.Lot, "lot", "", "lot")
	fs.StringVar(&l.Expiry, "expiry", "", "expiry YYMMDD")
	fs.StringVar(&l.From, "from", "", "ship from")
	fs.StringVar(&l.To, "to", "", "ship to")
	out := fs.String("o", "", "output file (.png or .pdf)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return writeLabel(l, *out, stderr)
}
