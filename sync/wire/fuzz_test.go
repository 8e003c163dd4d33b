package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic,
// and whatever it accepts must encode back to the same bytes (the codec
// has one encoding per value) and convert to endpoint types without
// panicking.
func FuzzDecode(f *testing.F) {
	for i, m := range sampleMessages(f) {
		f.Add(Encode(uint64(i), m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			return
		}
		enc := Encode(fr.ID, fr.Msg)
		if !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x but re-encodes to %x", data, enc)
		}
		again, err := Decode(enc)
		if err != nil || !reflect.DeepEqual(again, fr) {
			t.Fatalf("re-decoding differs: %v", err)
		}
		switch m := fr.Msg.(type) {
		case *Push:
			_, _ = PushFromWire(m)
		case *PushAck:
			_, _ = VerdictsFromWire(m.First, m.Verdicts)
		case *Changes:
			_, _, _ = RecordsFromWire(&m.Records)
		case *Resync:
			_, _, _ = RecordsFromWire(&m.Records)
		}
	})
}
