package command

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/custodyhq/custody/server/state"
)

// FuzzASNChunk: no ASN chunk that decodes makes the processor panic; it
// is either refused or applied, with one verdict per item, and when it
// says the record is complete the record is an ASN of the chunk's digest
// and nothing of it stays staged. The store lives across inputs, so
// chunks meet records and staging that earlier inputs left.
func FuzzASNChunk(f *testing.F) {
	st, err := state.Open("", state.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	p, err := New(st, 0)
	if err != nil {
		f.Fatal(err)
	}
	idx := uint64(0)
	for _, c := range SplitASN(bigASN("A-SEED", 40), "admin", 1) {
		b, _ := json.Marshal(c)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c ASNChunk
		if json.Unmarshal(payload, &c) != nil {
			return // undecodable entries panic by design
		}
		idx++
		res := p.Apply([]Entry{{Index: idx, Data: Encode(TypeASNChunk, payload)}})[0]
		switch r := res.(type) {
		case error:
			if !errors.Is(r, ErrRejected) {
				t.Fatalf("error %v", r)
			}
		case ASNChunkResult:
			if len(r.Verdicts) != len(c.ASN.Items) {
				t.Fatalf("%d verdicts for %d items", len(r.Verdicts), len(c.ASN.Items))
			}
			if !r.Complete {
				return
			}
			err := st.View(func(rd *state.Reader) error {
				rec, err := rd.ASN(c.ASN.ID)
				if err != nil {
					return err
				}
				if d := ASNDigest(&rec); d != c.Digest {
					t.Fatalf("complete, but the record's digest is %s, not %s", d, c.Digest)
				}
				staged, err := rd.ASNStaged(c.ASN.ID, c.Digest)
				if staged != 0 {
					t.Fatalf("complete, %d still staged", staged)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("result %T", res)
		}
	})
}
