package console

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Every enrollment line the console shows reads back with the
// handheld's reader: lines of the real shape with random tokens and
// fingerprints (at one in a hundred, a single symbol level would miss a
// few of these).
func TestEnrollQRReadsBack(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		tok := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
		fp := fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
		line := EnrollLine(fmt.Sprintf("https://10.1.%d.%d:8443", i/250, i%250), tok, fp)
		img, err := enrollQR(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if !readsBack(img, line) {
			t.Fatalf("line %d: the symbol shown does not read back", i)
		}
	}
}
