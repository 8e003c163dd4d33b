package scan

import (
	"testing"

	"github.com/custodyhq/custody/handheld/label"
)

// TestTimingScoresRectangleProportions: on a square outline no rectangle
// size is scored (a DMRE 36x20 is 1.8 times as wide as high), and on a
// rectangle's outline its own size is.
func TestTimingScoresRectangleProportions(t *testing.T) {
	tests := []struct {
		name      string
		dmreRows  int // 0 for a square symbol
		wantRects bool
	}{
		{"square", 0, false},
		{"DMRE 20 rows", 20, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte("0109501101530008172612311012345678")
			var sym *label.Symbol
			var err error
			if tc.dmreRows > 0 {
				sym, err = label.EncodeGS1DMRE(data, tc.dmreRows)
			} else {
				sym, err = label.EncodeGS1(data, label.Square)
			}
			if err != nil {
				t.Fatal(err)
			}
			const mod, quiet = 5, 4
			g := viewOf(label.Render(sym, mod, quiet))
			lo := float64(quiet * mod)
			w, h := float64((quiet+sym.Cols)*mod), float64((quiet+sym.Rows)*mod)
			cands := timingScores(g, [4]pt{{lo, lo}, {w, lo}, {w, h}, {lo, h}}, nil, nil)
			own, rects := false, 0
			for _, c := range cands {
				if c.cols == sym.Cols && c.rows == sym.Rows {
					own = true
				}
				if c.cols != c.rows {
					rects++
				}
			}
			if !own {
				t.Errorf("%dx%d not scored", sym.Cols, sym.Rows)
			}
			if (rects > 0) != tc.wantRects {
				t.Errorf("%dx%d: %d rectangle sizes scored", sym.Cols, sym.Rows, rects)
			}
		})
	}
}
