package replay

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
)

// Frames written for scans read back as those scans through the real
// detector.
func TestFramesReadBack(t *testing.T) {
	scans := [][]byte{
		[]byte("]d20103061414150009172703011012A\x1d21KAB000001"),
		[]byte("]C1003061414100000000017"),
	}
	paths, err := WriteFolder(t.TempDir(), scans, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sc := scan.New(scan.Options{Budget: 5 * time.Second})
	for i, p := range paths {
		g, err := source.LoadGray(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sc.DecodeGray(g)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if res.Text != string(Data(scans[i])) {
			t.Fatalf("frame %d read %q, want %q", i, res.Text, Data(scans[i]))
		}
	}
}
