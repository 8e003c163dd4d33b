package scan

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/scan/synth"
)

// caseFrames renders n open-case frames: 24 codes at 1920x1080, turned
// at random, 4 of them partly covered.
func caseFrames(tb testing.TB, n int) []*synth.CaseFrame {
	tb.Helper()
	var out []*synth.CaseFrame
	for i := 0; i < n; i++ {
		f, err := synth.RenderCase(synth.CaseParams{W: 1920, H: 1080, Count: 24, Covered: 4, Seed: uint64(1000 + i)})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestDecodeAllCase reads whole open cases in one frame: at least 99 % of
// the codes, no text read that is not in the frame, none twice.
func TestDecodeAllCase(t *testing.T) {
	frames := caseFrames(t, 8)
	s := New(Options{CaseBudget: 10 * time.Second, NoFallback: true})
	total, read := 0, 0
	for fi, f := range frames {
		rs, err := s.DecodeAll(f.Image)
		if err != nil {
			t.Fatalf("frame %d: %v", fi, err)
		}
		want := map[string]synth.CaseCode{}
		for _, c := range f.Codes {
			want[c.Text] = c
		}
		seen := map[string]bool{}
		for _, r := range rs {
			if _, ok := want[r.Text]; !ok {
				t.Errorf("frame %d: read %q, not in the frame", fi, r.Text)
			}
			if seen[r.Text] {
				t.Errorf("frame %d: %q read twice", fi, r.Text)
			}
			seen[r.Text] = true
		}
		for _, c := range f.Codes {
			total++
			if seen[c.Text] {
				read++
			} else {
				t.Logf("frame %d: missed %dx%d at (%.0f,%.0f) %.0f° module %.1f covered %v", fi, c.Cols, c.Rows, c.Centre[0], c.Centre[1], c.Rotation, c.Module, c.Covered)
			}
		}
	}
	t.Logf("read %d of %d codes (%.1f %%)", read, total, 100*float64(read)/float64(total))
	if read*100 < total*99 {
		t.Errorf("read %d of %d codes, want at least 99 %%", read, total)
	}
}

// BenchmarkDecodeAll1920x1080 reads one whole case frame (24 codes) per
// iteration on one goroutine (run with -cpu 1 for the single-core figure;
// cpu-ms/op is the process's CPU time per frame).
func BenchmarkDecodeAll1920x1080(b *testing.B) {
	frames := caseFrames(b, 4)
	s := New(Options{CaseBudget: 10 * time.Second, NoFallback: true})
	b.ResetTimer()
	c0 := processCPU()
	codes, read := 0, 0
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		rs, _ := s.DecodeAll(f.Image)
		codes += len(f.Codes)
		read += len(rs)
	}
	b.ReportMetric(float64(read)/float64(codes), "read/code")
	b.ReportMetric(float64((processCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
