package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/synth"
)

func cmdSynth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output directory")
	seed := fs.Uint64("seed", 1, "random seed")
	count := fs.Int("count", 10, "frames per group and size")
	sizes := fs.String("sizes", "640x480,1280x720,1920x1080", "frame sizes")
	pgm := fs.Bool("pgm", false, "also write each frame as binary PGM (for the C/C++ comparison readers)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "custody-scan synth: -o DIR is required")
		return 2
	}
	var sz []synth.Size
	for _, s := range strings.Split(*sizes, ",") {
		w, h, ok := strings.Cut(strings.TrimSpace(s), "x")
		wi, e1 := strconv.Atoi(w)
		hi, e2 := strconv.Atoi(h)
		if !ok || e1 != nil || e2 != nil || wi < 64 || hi < 64 {
			fmt.Fprintf(stderr, "custody-scan synth: bad size %q\n", s)
			return 2
		}
		sz = append(sz, synth.Size{W: wi, H: hi})
	}
	m, err := synth.Generate(*out, synth.SetOptions{Seed: *seed, Count: *count, Sizes: sz, PGM: *pgm})
	if err != nil {
		fmt.Fprintln(stderr, "custody-scan synth:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d frames and %s to %s\n", len(m.Entries), synth.ManifestName, *out)
	return 0
}

// benchRow is one line of the bench report.
type benchRow struct {
	Group        string  `json:"group"`
	Size         string  `json:"size"`
	Frames       int     `json:"frames"`
	Read         int     `json:"read"`
	Rate         float64 `json:"rate"`
	MedianMS     float64 `json:"median_ms"`
	MedianCPUMS  float64 `json:"median_cpu_ms"`
	BaselineRead int     `json:"gozxing_read"`
	BaselineRate float64 `json:"gozxing_rate"`
	BaselineMS   float64 `json:"gozxing_median_ms"`
}

type benchReport struct {
	Rows       []benchRow `json:"rows"`
	AimedRate  float64    `json:"aimed_rate"`
	AimedBase  float64    `json:"aimed_gozxing_rate"`
	Failed     []string   `json:"failed"`
	GOMAXPROCS string     `json:"gomaxprocs"`
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	noBase := fs.Bool("no-baseline", false, "skip gozxing-alone baseline")
	group := fs.String("group", "", "only groups with this prefix")
	budget := fs.Duration("budget", 250*time.Millisecond, "time budget per frame")
	list := fs.Bool("list", false, "only print FILE<TAB>GROUP<TAB>SIZE<TAB>AIMED<TAB>hex(TEXT) per frame, for external readers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "custody-scan bench: DIR required")
		return 2
	}
	dir := fs.Arg(0)
	m, err := synth.LoadManifest(dir)
	if err != nil {
		fmt.Fprintln(stderr, "custody-scan bench:", err)
		return 1
	}
	if *list {
		for _, e := range m.Entries {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%v\t%x\n", e.File, e.Group, e.Size, e.Aimed, e.Text)
		}
		return 0
	}
	sc := scan.New(scan.Options{Budget: *budget, NoTracking: true})
	type acc struct {
		n, ok, bok int
		ms, bms    []float64
		cpu        []float64
	}
	accs := map[[2]string]*acc{}
	var keys [][2]string
	var rep benchReport
	var aimedN, aimedOK, aimedBase int
	type sizeAcc struct {
		n, ok, bok int
		cpu, ms    []float64
	}
	bySize := map[string]*sizeAcc{}
	var sizes []string
	for _, e := range m.Entries {
		if *group != "" && !strings.HasPrefix(e.Group, *group) {
			continue
		}
		img, err := loadImage(filepath.Join(dir, e.File))
		if err != nil {
			fmt.Fprintln(stderr, "custody-scan bench:", err)
			return 1
		}
		g := scan.ToGray(img)
		k := [2]string{e.Group, e.Size}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
			keys = append(keys, k)
		}
		a.n++
		c0 := cpuTime()
		t0 := time.Now()
		r, err := sc.DecodeGray(g)
		a.ms = append(a.ms, float64(time.Since(t0).Microseconds())/1000)
		a.cpu = append(a.cpu, float64((cpuTime()-c0).Microseconds())/1000)
		good := err == nil && r.Text == e.Text
		if good {
			a.ok++
		} else {
			rep.Failed = append(rep.Failed, e.File)
		}
		var bgood bool
		if !*noBase {
			t0 = time.Now()
			bgood = baseline(g) == e.Text
			a.bms = append(a.bms, float64(time.Since(t0).Microseconds())/1000)
			if bgood {
				a.bok++
			}
		}
		if e.Aimed {
			sa := bySize[e.Size]
			if sa == nil {
				sa = &sizeAcc{}
				bySize[e.Size] = sa
				sizes = append(sizes, e.Size)
			}
			sa.n++
			sa.cpu = append(sa.cpu, a.cpu[len(a.cpu)-1])
			sa.ms = append(sa.ms, a.ms[len(a.ms)-1])
			if good {
				sa.ok++
			}
			if bgood {
				sa.bok++
			}
			aimedN++
			if good {
				aimedOK++
			}
			if bgood {
				aimedBase++
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tsize\tframes\tread\trate\tmedian ms\tcpu ms\tgozxing rate\tgozxing ms\t")
	for _, k := range keys {
		a := accs[k]
		row := benchRow{Group: k[0], Size: k[1], Frames: a.n, Read: a.ok, Rate: float64(a.ok) / float64(a.n), MedianMS: median(a.ms), MedianCPUMS: median(a.cpu),
			BaselineRead: a.bok, BaselineRate: float64(a.bok) / float64(a.n), BaselineMS: median(a.bms)}
		rep.Rows = append(rep.Rows, row)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f%%\t%.2f\t%.2f\t%.1f%%\t%.2f\t\n", row.Group, row.Size, row.Frames, row.Read, 100*row.Rate, row.MedianMS, row.MedianCPUMS, 100*row.BaselineRate, row.BaselineMS)
	}
	if aimedN > 0 {
		rep.AimedRate = float64(aimedOK) / float64(aimedN)
		rep.AimedBase = float64(aimedBase) / float64(aimedN)
	}
	rep.GOMAXPROCS = os.Getenv("GOMAXPROCS")
	for _, sz := range sizes {
		sa := bySize[sz]
		row := benchRow{Group: "aimed", Size: sz, Frames: sa.n, Read: sa.ok, Rate: float64(sa.ok) / float64(sa.n),
			MedianMS: median(sa.ms), MedianCPUMS: median(sa.cpu), BaselineRead: sa.bok, BaselineRate: float64(sa.bok) / float64(sa.n)}
		rep.Rows = append(rep.Rows, row)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f%%\t%.2f\t%.2f\t%.1f%%\t\t\n", row.Group, row.Size, row.Frames, row.Read, 100*row.Rate, row.MedianMS, row.MedianCPUMS, 100*row.BaselineRate)
	}
	fmt.Fprintf(tw, "aimed\tall\t%d\t%d\t%.1f%%\t\t\t%.1f%%\t\t\n", aimedN, aimedOK, 100*rep.AimedRate, 100*rep.AimedBase)
	tw.Flush()
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", " ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(stderr, "custody-scan bench:", err)
			return 1
		}
	}
	return 0
}

// baseline decodes with gozxing alone (its own detector, TRY_HARDER) and
// returns the text without the leading FNC1, or "".
func baseline(g *image.Gray) string {
	bmp, err := gozxing.NewBinaryBitmapFromImage(g)
	if err != nil {
		return ""
	}
	r, err := datamatrix.NewDataMatrixReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(r.GetText(), "\x1d")
}
