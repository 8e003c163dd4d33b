package wire

import (
	"testing"

	"github.com/custodyhq/custody/sync/internal/fake"
)

// BenchmarkEncodePush1000 encodes a 1000-event PUSH from events (the
// device's work per push).
func BenchmarkEncodePush1000(b *testing.B) {
	evs := fake.Events("KRMGZO6N-5QLUXOGW-WWKRWCKQ", 1, 1, 1000)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		p := PushToWire(1, 1, evs)
		buf = Append(buf[:0], 1, &p)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodePush1000 decodes a 1000-event PUSH frame into events
// (the site's work per push, before the cluster).
func BenchmarkDecodePush1000(b *testing.B) {
	evs := fake.Events("KRMGZO6N-5QLUXOGW-WWKRWCKQ", 1, 1, 1000)
	p := PushToWire(1, 1, evs)
	frame := Encode(1, &p)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := PushFromWire(f.Msg.(*Push)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}
