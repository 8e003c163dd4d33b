package epcismap

import (
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func opts() Options {
	return Options{SiteGLN: "0614141000005", PrefixLen: func(s string) int {
		if strings.HasPrefix(s, "003000") || strings.HasPrefix(s, "0003000") {
			return 7
		}
		return 0
	}}
}

func sample(k event.Kind, i int) event.Event {
	e := event.Event{Device: "d", Epoch: 1, Seq: uint64(i + 1), HLC: hlc.FromTime(t0.Add(time.Duration(i) * time.Minute)), User: "u", Site: "s", Client: "c", Kind: k,
		Subjects: []event.Subject{{Key: event.SGTIN("00300010123455", "SN/1")}, {Key: event.SGTIN("04150011164140", "X")}},
		Ctx: event.Context{ASN: "ASN-1", Order: "SO 118", Shipment: "SH-9", Destination: "0614141000012", Parent: event.SSCC("003000101234567893"),
			To: "A-1", Hold: event.HoldRecall, Reason: "r"}}
	e.ID[0], e.ID[6], e.ID[8], e.ID[15] = 1, 0x70, 0x80, byte(i)
	return e
}

// TestEveryKindRendersValidEPCIS checks the mapping of every kind
// against the EPCIS validator (vocabularies, required fields) and that
// the JSON-LD round trip keeps it.
func TestEveryKindRendersValidEPCIS(t *testing.T) {
	var evs []event.Event
	internal := 0
	for i, k := range event.Kinds() {
		if k.Internal() {
			internal++
		}
		e := sample(k, i)
		if k == event.KindReceive {
			e.Ctx.Inferred = true
			e.Subjects = []event.Subject{{Key: event.SSCC("003000101234567893")}}
			e.Ctx.Parent = ""
		}
		evs = append(evs, e)
	}
	doc, err := Document(evs, opts(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Events) != len(evs)-internal {
		t.Fatalf("%d EPCIS events for %d domain events (%d internal)", len(doc.Events), len(evs), internal)
	}
	data, err := epcis.EncodeJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := epcis.DecodeJSON(data)
	if err != nil {
		t.Fatalf("decode of our own document: %v", err)
	}
	if len(back.Events) != len(doc.Events) {
		t.Fatalf("round trip lost events")
	}
	if _, err := epcis.EncodeXML(doc); err != nil {
		t.Fatalf("as 1.2 XML: %v", err)
	}
}

func TestIdentifiers(t *testing.T) {
	o := opts()
	tests := []struct {
		key  event.Key
		want string
	}{
		{event.SGTIN("00300010123455", "SN1"), "urn:epc:id:sgtin:0300010.012345.SN1"},
		{event.SGTIN("00300010123455", "A/B"), "urn:epc:id:sgtin:0300010.012345.A%2FB"},
		{event.SGTIN("04150011164140", "A&B+C"), "https://id.gs1.org/01/04150011164140/21/A%26B%2BC"},
		{event.SSCC("003000101234567893"), "urn:epc:id:sscc:0300010.0123456789"},
		{event.SSCC("106141411234567897"), "https://id.gs1.org/00/106141411234567897"},
	}
	for _, tc := range tests {
		got, err := o.ID(tc.key)
		if err != nil || got != tc.want {
			t.Errorf("ID(%s) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	if _, err := o.ID("01bad"); err == nil {
		t.Error("bad key rendered")
	}
	if _, err := o.ID(event.SGTIN("04150011164140", "X 1")); err == nil {
		t.Error("a serial with a space (not GS1 character set 82) rendered")
	}
}

func TestShipCarriesTransactionsAndDestination(t *testing.T) {
	e := sample(event.KindShip, 1)
	out, ok, err := Event(&e, opts())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if out.BizStep != "shipping" || out.Disposition != "in_transit" || len(out.EPCList) != 2 {
		t.Fatalf("ship: %+v", out)
	}
	if len(out.Destinations) != 1 || out.Destinations[0].ID != "https://id.gs1.org/414/0614141000012" {
		t.Fatalf("destination: %+v", out.Destinations)
	}
	if len(out.BizTransactions) != 3 || out.BizTransactions[1].Value != "urn:epcglobal:cbv:bt:0614141000005:SO%20118" {
		t.Fatalf("transactions: %+v", out.BizTransactions)
	}
	p := sample(event.KindPack, 2)
	agg, _, _ := Event(&p, opts())
	if agg.Type != epcis.AggregationEvent || agg.ParentID != "urn:epc:id:sscc:0300010.0123456789" || len(agg.ChildEPCs) != 2 {
		t.Fatalf("pack: %+v", agg)
	}
}
