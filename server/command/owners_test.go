package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// A GTIN belongs to its product's client. An event of client a naming
// client b's GTIN is refused at apply and creates nothing, so b's own
// receipt of the serial still applies; ASN chunks, orders and shipments
// of client a that name b's GTINs are rejected and change nothing.
func TestApplyChecksTheProductOwner(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	gtinA, gtinB := "00300010123455", "00300020123452"
	at := hlc.Timestamp(1)
	for i, res := range l.apply(t,
		jsonEntry(t, TypeUser, admin),
		jsonEntry(t, TypeClient, master.Client{ID: "a", Name: "A"}),
		jsonEntry(t, TypeClient, master.Client{ID: "b", Name: "B"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtinA, Client: "a", Name: "A"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtinB, Client: "b", Name: "B"}),
	) {
		if err, ok := res.(error); ok {
			t.Fatalf("setup %d: %v", i, err)
		}
	}
	// Client a receives a unit of b's GTIN.
	evA := workload.New(workload.Options{Seed: 1, Devices: 1, Client: "a", GTIN: gtinB, Prefix: "api:admin"}).Receive(1)[0]
	v := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: evA.HLC, Events: []event.Event{evA}})))
	if v.Status != StatusApplied || v.Result == nil || v.Result.Verdict != unit.VerdictRefused {
		t.Fatalf("a's receipt of b's GTIN: %+v", v)
	}
	if s := v.Result.Subjects[0]; s.Version != 0 || strings.Contains(s.Reason, `"b"`) || s.Reason != unit.NotTheClients(s.Key, "a") {
		t.Fatalf("the refusal: %+v", s)
	}
	key := evA.Subjects[0].Key
	err := st.View(func(r *state.Reader) error {
		u, err := r.Unit(key)
		if err != nil || u.Known() {
			t.Errorf("a's refused receipt created the unit: %+v %v", u, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// b's own receipt of the same serial applies.
	evB := evA
	evB.ID, evB.Device, evB.Client = event.ID{0xb}, "dev-b", "b"
	v = verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: evB.HLC, Events: []event.Event{evB}})))
	if v.Status != StatusApplied || v.Result.Verdict != unit.VerdictApplied {
		t.Fatalf("b's own receipt: %+v", v)
	}

	before, _ := hashOf(t, st)
	asnOf := func(items ...master.ASNItem) master.ASN {
		return master.ASN{ID: "ASN-A", Client: "a", Supplier: "s", Items: items}
	}
	mixed := asnOf(master.ASNItem{Key: event.SGTIN(gtinA, "N1")}, master.ASNItem{Key: event.SGTIN(gtinB, "N2")})
	for name, entry := range map[string][]byte{
		"ASN chunk with b's GTIN": jsonEntry(t, TypeASNChunk, SplitASN(mixed, "admin", at)[0]),
		"whole ASN with b's GTIN": jsonEntry(t, TypeASN, ASN{ASN: mixed, User: "admin", At: at, IDs: []event.ID{{8}, {9}}}),
		"order of b's GTIN": jsonEntry(t, TypeOrder, master.Order{ID: "SO-A", Client: "a", Customer: "x",
			Lines: []master.OrderLine{{ID: "1", GTIN: gtinA, Qty: 1}, {ID: "2", GTIN: gtinB, Qty: 1}}}),
		"shipment of b's unit": jsonEntry(t, TypeShipment, master.Shipment{ID: "SH-A", Client: "a", Containers: []event.Key{key}}),
	} {
		res := l.apply(t, entry)[0]
		if err, ok := res.(error); !ok || !errors.Is(err, ErrRejected) {
			t.Errorf("%s: result %v, want a rejection", name, res)
		}
	}
	if after, _ := hashOf(t, st); after != before {
		t.Error("a rejected command changed the state")
	}
	// Their own GTINs pass, and a GTIN no product has is not refused
	// (it is received to quarantine as unknown).
	for i, res := range l.apply(t,
		jsonEntry(t, TypeASNChunk, SplitASN(asnOf(master.ASNItem{Key: event.SGTIN(gtinA, "N1")}, master.ASNItem{Key: event.SGTIN("00300030123459", "N3")}), "admin", at)[0]),
		jsonEntry(t, TypeOrder, master.Order{ID: "SO-A", Client: "a", Customer: "x", Lines: []master.OrderLine{{ID: "1", GTIN: gtinA, Qty: 1}}}),
	) {
		if _, ok := res.(error); ok {
			t.Errorf("own GTINs %d: %v", i, res)
		}
	}
}

// A product put in the same batch as the events that follow it is what
// those events are judged by (the batch's owner cache forgets it).
func TestOwnerCacheFollowsProductPuts(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	gtin := "00300010123455"
	gen := workload.New(workload.Options{Seed: 2, Devices: 1, Client: "a", GTIN: gtin, Prefix: "api:admin"})
	evs := gen.Receive(2)
	res := l.apply(t,
		jsonEntry(t, TypeUser, admin),
		jsonEntry(t, TypeClient, master.Client{ID: "a", Name: "A"}),
		jsonEntry(t, TypeClient, master.Client{ID: "b", Name: "B"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtin, Client: "a", Name: "A"}),
		EncodeEvents(&Events{Received: evs[0].HLC, Events: evs[:1]}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtin, Client: "b", Name: "A, now b's"}),
		EncodeEvents(&Events{Received: evs[1].HLC, Events: evs[1:]}),
	)
	first, second := res[4].([]Verdict)[0], res[6].([]Verdict)[0]
	if first.Result.Verdict != unit.VerdictApplied || second.Result.Verdict != unit.VerdictRefused {
		t.Fatalf("before the owner changed: %+v; after: %+v", first.Result, second.Result)
	}
}
