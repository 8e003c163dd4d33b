package epcis

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkValidDocument decodes and validates a valid document of
// 100,000 typical DSCSA ObjectEvents, as custodyctl epcis validate does,
// and reports the CPU time each took besides the wall time:
//
//	go test ./epcis -run XXX -bench ValidDocument -benchtime 3x -count 5
func BenchmarkValidDocument(b *testing.B) {
	const n = 100_000
	doc := dscsaDocument(n)
	for _, f := range []Format{FormatJSONLD, FormatXML12} {
		buf, err := Encode(doc, f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.String(), func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			cpu0, ok := processCPU()
			for b.Loop() {
				if _, _, err := Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if cpu1, ok1 := processCPU(); ok && ok1 {
				// Garbage collection on the other core included.
				b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			}
		})
	}
}

// BenchmarkInvalidEvents decodes 1.2 XML and JSON-LD documents whose
// every event breaks the rules (empty ObjectEvents), at two sizes: the
// time per event must not grow with the document.
//
//	go test ./epcis -run XXX -bench InvalidEvents -benchtime 2x -count 3
func BenchmarkInvalidEvents(b *testing.B) {
	for _, n := range []int{5_000, 40_000} {
		xml := []byte(`<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>` +
			strings.Repeat("<ObjectEvent/>", n) + `</EventList></EPCISBody></epcis:EPCISDocument>`)
		json := []byte(`{"@context":"` + StandardContext + `","type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[` +
			strings.Repeat(`{"type":"ObjectEvent"},`, n-1) + `{"type":"ObjectEvent"}]}}`)
		for _, tc := range []struct {
			name string
			data []byte
		}{{"xml12", xml}, {"jsonld", json}} {
			b.Run(tc.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				for b.Loop() {
					if _, _, err := Decode(tc.data); err == nil {
						b.Fatal("no problems found")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
			})
		}
	}
}
