package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/synth"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
)

// An open case photographed from above: every code in the frame is read
// at once and the reads go to VerifyBatch as one batch.
func TestVerifyCaseFromOneFrame(t *testing.T) {
	p := demo.DefaultParams()
	p.UnitsPerCase = 24
	r := newRig(t, p)
	r.login("op1")
	pallet, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(pallet))
	r.is(Accepted)(r.e.Close())

	frameOf := func(keys []event.Key, seed uint64) [][]byte {
		var data [][]byte
		for _, k := range keys {
			data = append(data, bytes.TrimPrefix(r.fx.ScanOf(k), []byte("]d2")))
		}
		f, err := synth.RenderCase(synth.CaseParams{W: 1920, H: 1080, Covered: 4, Seed: seed, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := scan.New(scan.Options{CaseBudget: 10 * time.Second}).DecodeAll(f.Image)
		if err != nil {
			t.Fatal(err)
		}
		var raws [][]byte
		for _, res := range rs {
			raws = append(raws, res.Raw())
		}
		return raws
	}
	keysOf := func(c event.Key) []event.Key {
		var ks []event.Key
		for _, it := range units[c] {
			ks = append(ks, it.Key)
		}
		return ks
	}

	s := r.is(Accepted)(r.e.VerifyBatch(cases[0], frameOf(keysOf(cases[0]), 1)))
	if s.Cue != CueDone || len(s.Missing)+len(s.Extra) != 0 {
		t.Fatalf("full case: %+v", s)
	}

	// one pack taken out and one from another case put in its place
	in := keysOf(cases[1])
	gone, stranger := in[5], units[cases[2]][0].Key
	in[5] = stranger
	s = r.is(Warning)(r.e.VerifyBatch(cases[1], frameOf(in, 2)))
	if len(s.Missing) != 1 || s.Missing[0] != gone || len(s.Extra) != 1 || s.Extra[0] != stranger {
		t.Fatalf("mismatch: missing %v extra %v", s.Missing, s.Extra)
	}
}
