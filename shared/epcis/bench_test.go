package epcis

import (
	"fmt"
	"testing"
	"time"
)

// dscsaDocument builds a document of n typical DSCSA ObjectEvents: a few
// SGTINs, bizStep, disposition, readPoint, bizLocation, two business
// transactions, source and destination, ILMD lot and expiry.
func dscsaDocument(n int) *Document {
	doc := &Document{
		Type:          TypeDocument,
		SchemaVersion: "2.0",
		CreationDate:  time.Date(2026, 3, 1, 8, 45, 16, 0, time.UTC),
		Events:        make([]Event, n),
	}
	t0 := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
	for i := range doc.Events {
		doc.Events[i] = Event{
			Type:                ObjectEvent,
			EventTime:           t0.Add(time.Duration(i) * time.Second),
			EventTimeZoneOffset: "-05:00",
			EventID:             fmt.Sprintf("urn:uuid:6f1c1a2e-0000-4000-8000-%012d", i),
			EPCList: []string{
				fmt.Sprintf("urn:epc:id:sgtin:030001.0012345.%d", 4*i+1000),
				fmt.Sprintf("urn:epc:id:sgtin:030001.0012345.%d", 4*i+1001),
				fmt.Sprintf("urn:epc:id:sgtin:030001.0012345.%d", 4*i+1002),
				fmt.Sprintf("urn:epc:id:sgtin:030001.0012345.%d", 4*i+1003),
			},
			Action:      ActionObserve,
			BizStep:     "shipping",
			Disposition: "in_transit",
			ReadPoint:   &Location{ID: "urn:epc:id:sgln:030001.111121.0"},
			BizLocation: &Location{ID: "urn:epc:id:sgln:030001.111121.0"},
			BizTransactions: []BizTransaction{
				{Type: "po", Value: "urn:epcglobal:cbv:bt:0399999999991:XYZPO189"},
				{Type: "desadv", Value: "urn:epcglobal:cbv:bt:0300011111215:DEL100"},
			},
			Sources:      []SourceDest{{Type: "owning_party", ID: "urn:epc:id:sgln:030001.111111.0"}},
			Destinations: []SourceDest{{Type: "owning_party", ID: "urn:epc:id:sgln:039999.999999.0"}},
		}
		if i%2 == 0 {
			// Commissioning events carry ILMD.
			e := &doc.Events[i]
			e.Action, e.BizStep, e.Disposition = ActionAdd, "commissioning", "active"
			e.ILMD = []Field{
				{Space: NSCBVMDA, Prefix: "cbvmda", Local: "lotNumber", Value: String("A123")},
				{Space: NSCBVMDA, Prefix: "cbvmda", Local: "itemExpirationDate", Value: String("2028-03-27")},
			}
		}
	}
	return doc
}

const benchEvents = 1000

func BenchmarkEncodeJSON(b *testing.B) {
	doc := dscsaDocument(benchEvents)
	buf, err := EncodeJSON(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf, err = AppendJSON(buf[:0], doc)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkDecodeJSON(b *testing.B) {
	buf, err := EncodeJSON(dscsaDocument(benchEvents))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := DecodeJSON(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkEncodeXML(b *testing.B) {
	doc := dscsaDocument(benchEvents)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendXML(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkDecodeXML(b *testing.B) {
	buf, err := EncodeXML(dscsaDocument(benchEvents))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := DecodeXML(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
