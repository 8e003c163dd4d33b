package scan

import (
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/custodyhq/custody/shared/refdata"
)

// sampleSet is a folder of public DataMatrix sample images (each image
// beside a .txt file with the expected text) and the read counts it must
// reach at 0°, 90°, 180° and 270°.
type sampleSet struct {
	dir  string // below datamatrix/ in the reference data
	name string
	want [4]int
}

// sampleSets are zxing's and zxing-cpp's DataMatrix black-box folders,
// read from $CUSTODY_REFDATA/datamatrix/<dir> (laid out by
// scan/bench/samples.sh); absent folders are skipped.
var sampleSets = []sampleSet{
	{"zxing-1", "zxing blackbox/datamatrix-1", [4]int{23, 23, 23, 23}},
	{"zxing-2", "zxing blackbox/datamatrix-2", [4]int{18, 18, 18, 18}},
	{"zxing-3", "zxing blackbox/datamatrix-3", [4]int{18, 18, 18, 18}},
	{"zxingcpp-1", "zxing-cpp samples/datamatrix-1", [4]int{29, 29, 29, 29}},
	{"zxingcpp-2", "zxing-cpp samples/datamatrix-2", [4]int{13, 13, 13, 13}},
	{"zxingcpp-3", "zxing-cpp samples/datamatrix-3", [4]int{26, 26, 26, 26}},
	{"zxingcpp-4", "zxing-cpp samples/datamatrix-4", [4]int{21, 21, 21, 21}},
}

type sampleImage struct {
	name string
	img  *image.Gray
	want string
}

// loadSamples returns the images of dir that have a text expectation.
func loadSamples(tb testing.TB, dir string) []sampleImage {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []sampleImage
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		switch ext {
		case ".png", ".jpg", ".webp", ".gif":
		default:
			continue
		}
		base := strings.TrimSuffix(e.Name(), ext)
		want, err := os.ReadFile(filepath.Join(dir, base+".txt"))
		if err != nil {
			continue // binary or no expectation
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, sampleImage{e.Name(), ToGray(img), string(want)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// readSamples decodes every image at 0°, 90°, 180° and 270° and returns
// the reads per rotation, the failures and the median time per image.
func readSamples(imgs []sampleImage, opt Options) (reads [4]int, fails []string, median time.Duration) {
	s := New(opt)
	var times []time.Duration
	for _, im := range imgs {
		g := im.img
		for rot := 0; rot < 4; rot++ {
			t0 := time.Now()
			r, err := s.DecodeGray(g)
			times = append(times, time.Since(t0))
			if err == nil && r.Text == im.want {
				reads[rot]++
			} else {
				fails = append(fails, fmt.Sprintf("%s@%d", im.name, 90*rot))
			}
			g = rotate90(g)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) > 0 {
		median = times[len(times)/2]
	}
	return reads, fails, median
}

// TestSampleSets reads the public sample sets at four rotations and must
// reach each set's figures. The budget is generous so that the counts do
// not depend on the machine's load.
func TestSampleSets(t *testing.T) {
	for _, set := range sampleSets {
		t.Run(set.dir, func(t *testing.T) {
			dir := refdata.Require(t, "datamatrix", set.dir)
			imgs := loadSamples(t, dir)
			reads, fails, med := readSamples(imgs, Options{Budget: 5 * time.Second, NoTracking: true})
			t.Logf("%s: %d images; read at 0/90/180/270°: %v; median %.1f ms; failed: %v",
				set.name, len(imgs), reads, float64(med.Microseconds())/1000, fails)
			for rot, n := range reads {
				if n < set.want[rot] {
					t.Errorf("%s at %d°: read %d of %d, want at least %d", set.name, 90*rot, n, len(imgs), set.want[rot])
				}
			}
		})
	}
}
