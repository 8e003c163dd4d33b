package command

import (
	"testing"

	"github.com/custodyhq/custody/server/workload"
)

// FuzzDecodeEntry: no byte string makes the envelope or the events
// payload decoder panic, and what decodes re-encodes to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	g := workload.New(workload.Options{Seed: 1})
	f.Add(EncodeEvents(&Events{Received: 42, Events: g.Mixed(3)}))
	f.Add(Encode(TypeClient, []byte(`{"id":"acme"}`)))
	f.Add([]byte{Version, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, payload, err := Decode(b)
		if err != nil || typ != TypeEvents {
			return
		}
		var evs Events
		if evs.UnmarshalBinary(payload) != nil {
			return
		}
		again := EncodeEvents(&evs)
		var back Events
		_, p2, _ := Decode(again)
		if err := back.UnmarshalBinary(p2); err != nil || len(back.Events) != len(evs.Events) {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
	})
}
