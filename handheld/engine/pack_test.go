package engine

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Pack and ship mixed cases: the EU client allows mixing. Two products
// are picked, packed into two new cases, the cases onto a new pallet,
// and the pallet shipped; then the shipment is voided.
func TestScenarioPackShipMixed(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	para := r.fx.Stock(r.fx.Product(3))[0].Units[:2]
	ibu := r.fx.Stock(r.fx.Product(4))[0].Units[:2]
	for _, k := range append(append([]event.Key{}, para...), ibu...) {
		r.is(Accepted)(r.scan(k))
	}
	caseA := r.is(Accepted)(r.e.NewContainer()).Container
	if v := caseA.SSCCValue(); len(v) != 18 || !strings.HasPrefix(v, "3"+demo.SSCCPrefix+"007") {
		t.Fatalf("SSCC %s", caseA)
	}
	if c, _ := gs1.CheckDigit(caseA.SSCCValue()[:17]); c != caseA.SSCCValue()[17] {
		t.Fatalf("check digit of %s", caseA)
	}
	r.is(Accepted)(r.scan(para[0]))
	r.is(Accepted)(r.scan(ibu[0])) // mixed products: allowed for this client
	r.is(Warning)(r.scan(ibu[0]))  // already in it
	caseB := r.is(Accepted)(r.e.NewContainer()).Container
	if caseB == caseA {
		t.Fatal("same SSCC twice")
	}
	r.is(Refused)(r.scan(ibu[0])) // packed in case A by this device
	r.is(Accepted)(r.scan(para[1]))
	r.is(Accepted)(r.scan(ibu[1]))
	pallet := r.is(Accepted)(r.e.NewContainer()).Container
	r.is(Accepted)(r.e.Scan(demo.SSCCScan(caseA.SSCCValue())))
	r.is(Accepted)(r.e.Scan(demo.SSCCScan(caseB.SSCCValue())))
	if st := r.unit(caseA); st.Parent != pallet || st.Status != unit.StatusPacked {
		t.Fatalf("case A %+v", st)
	}

	// Ship: a case inside the pallet is refused; the pallet goes with everything in it.
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	r.is(Refused)(r.e.Scan(demo.SSCCScan(caseA.SSCCValue())))
	s := r.is(Accepted)(r.e.Scan(demo.SSCCScan(pallet.SSCCValue())))
	if s.Units != 7 {
		t.Fatalf("shipped %d", s.Units)
	}
	for _, k := range []event.Key{pallet, caseA, caseB, para[0], ibu[1]} {
		if st := r.unit(k); st.Status != unit.StatusShipped || st.Shipment != demo.ShipmentEU {
			t.Fatalf("%s: %+v", k, st)
		}
	}
	s = r.is(Accepted)(r.e.VoidShipment(demo.ShipmentEU))
	if st := r.unit(para[0]); st.Status != unit.StatusPacked || st.Shipment != "" {
		t.Fatalf("after void: %+v (%+v)", st, s)
	}
	// Unpack a unit from case A.
	r.is(Accepted)(r.e.StartUnpack(), nil)
	r.is(Accepted)(r.scan(para[0]))
	if st := r.unit(para[0]); st.Parent != "" || st.Status != unit.StatusPicked {
		t.Fatalf("unpacked %+v", st)
	}
	r.is(Warning)(r.scan(para[0]))
}

func TestPackVerdicts(t *testing.T) {
	type tc struct {
		name string
		snap func(fx *demo.Fixture)
		// prepare picks and packs; it returns the item to scan into the
		// container being packed.
		prepare func(r *rig) event.Key
		want    Verdict
		rule    unit.Rule
	}
	pickUS := func(r *rig, keys ...event.Key) {
		r.is(Accepted)(r.e.StartPick("ORD-X"))
		for _, k := range keys {
			r.is(Accepted)(r.scan(k))
		}
	}
	orderX := func(fx *demo.Fixture) {
		fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-X", Client: demo.ClientUS, Customer: "CUST-1",
			Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(2), Qty: 4}, {ID: "2", GTIN: fx.Product(1), Qty: 2}}})
		fx.Snapshot.Clients[0].Policy.FEFO = master.FEFOOff
	}
	cases := []tc{
		{name: "picked unit", snap: orderX, prepare: func(r *rig) event.Key {
			k := r.fx.Stock(r.fx.Product(2))[0].Units[0]
			pickUS(r, k)
			r.e.NewContainer()
			return k
		}, want: Accepted},
		{name: "in stock, not picked", prepare: func(r *rig) event.Key {
			r.e.NewContainer()
			return r.fx.Stock(r.fx.Product(2))[0].Units[0]
		}, want: Refused},
		{name: "same lot policy: second lot refused", snap: orderX, prepare: func(r *rig) event.Key {
			a, b := r.fx.Stock(r.fx.Product(2))[0].Units[0], r.fx.Stock(r.fx.Product(2))[2].Units[0]
			pickUS(r, a, b)
			r.e.NewContainer()
			r.is(Accepted)(r.scan(a))
			return b
		}, want: Refused},
		{name: "same lot policy: same lot accepted", snap: orderX, prepare: func(r *rig) event.Key {
			a, b := r.fx.Stock(r.fx.Product(2))[0].Units[0], r.fx.Stock(r.fx.Product(2))[0].Units[1]
			pickUS(r, a, b)
			r.e.NewContainer()
			r.is(Accepted)(r.scan(a))
			return b
		}, want: Accepted},
		{name: "same product policy: other product refused", snap: func(fx *demo.Fixture) {
			orderX(fx)
			fx.Snapshot.Clients[0].Policy.Mixing = master.MixSameProduct
		}, prepare: func(r *rig) event.Key {
			a, b := r.fx.Stock(r.fx.Product(2))[0].Units[0], r.fx.Stock(r.fx.Product(1))[0].Units[0]
			pickUS(r, a, b)
			r.e.NewContainer()
			r.is(Accepted)(r.scan(a))
			return b
		}, want: Refused},
		{name: "same product policy: other lot accepted", snap: func(fx *demo.Fixture) {
			orderX(fx)
			fx.Snapshot.Clients[0].Policy.Mixing = master.MixSameProduct
		}, prepare: func(r *rig) event.Key {
			a, b := r.fx.Stock(r.fx.Product(2))[0].Units[0], r.fx.Stock(r.fx.Product(2))[2].Units[0]
			pickUS(r, a, b)
			r.e.NewContainer()
			r.is(Accepted)(r.scan(a))
			return b
		}, want: Accepted},
		{name: "picked then held", snap: orderX, prepare: func(r *rig) event.Key {
			a := r.fx.Stock(r.fx.Product(2))[0].Units[0]
			pickUS(r, a)
			r.login("lead1")
			r.e.StartHold("damaged", "")
			r.is(Warning)(r.scan(a)) // the hold voids the pick
			r.login("op2")
			r.e.NewContainer()
			return a
		}, want: Refused},
		{name: "other order's container", snap: func(fx *demo.Fixture) {
			orderX(fx)
			fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-Y", Client: demo.ClientUS, Customer: "CUST-1",
				Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(2), Qty: 1}}})
		}, prepare: func(r *rig) event.Key {
			a, b := r.fx.Stock(r.fx.Product(2))[0].Units[0], r.fx.Stock(r.fx.Product(2))[0].Units[1]
			pickUS(r, a)
			r.is(Accepted)(r.e.StartPick("ORD-Y"))
			r.is(Accepted)(r.scan(b))
			r.e.NewContainer()
			r.is(Accepted)(r.scan(a))
			return b
		}, want: Refused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRigWith(t, demo.DefaultParams(), c.snap)
			r.login("op2")
			k := c.prepare(r)
			if !strings.HasPrefix(r.e.Mode(), "pack ") {
				t.Fatalf("mode %q", r.e.Mode())
			}
			s := r.is(c.want)(r.scan(k))
			if c.rule != "" && !hasRule(s, c.rule) {
				t.Fatalf("rules %v", s.Rules)
			}
		})
	}
}

func TestShipVerdicts(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	para := r.fx.Stock(r.fx.Product(3))[0].Units
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Accepted)(r.scan(para[0]))
	r.is(Accepted)(r.scan(para[1]))
	box := r.is(Accepted)(r.e.NewContainer()).Container
	r.is(Accepted)(r.scan(para[0]))
	r.is(Accepted)(r.scan(para[1]))

	r.is(Refused)(r.e.StartShip(demo.ShipmentEU, "ELSEWHERE"))
	r.is(Refused)(r.e.StartShip("SHP-NEW", ""))
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	r.is(Refused)(r.scan(para[2]))                                        // in stock
	r.is(Refused)(r.scan(para[0]))                                        // inside the box
	r.is(Refused)(r.scan(r.fx.Stock(r.fx.Product(0))[0].Units[0]))        // other client's
	r.is(Refused)(r.e.Scan(demo.SSCCScan(strings.Repeat("1", 17) + "7"))) // unknown

	// A recall of the lot arrives from the site (as the down-feed writes
	// it) while the box is packed: the box must not leave.
	recall := master.Hold{ID: "H-SITE-2", Client: demo.ClientEU, Scope: master.ScopeLot,
		GTIN: r.fx.Product(3), Lot: r.unit(para[0]).Lot, Reason: event.HoldRecall, Active: true, By: "lead1"}
	if err := r.st.Update(func(tx *store.Tx) error { return tx.PutHold(recall) }); err != nil {
		t.Fatal(err)
	}
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	s := r.is(Refused)(r.e.Scan(demo.SSCCScan(box.SSCCValue())))
	if s.Cue != CueAlert {
		t.Fatalf("cue %s", s.Cue)
	}
	recall.Active = false
	if err := r.st.Update(func(tx *store.Tx) error { return tx.PutHold(recall) }); err != nil {
		t.Fatal(err)
	}
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	s = r.is(Accepted)(r.e.Scan(demo.SSCCScan(box.SSCCValue())))
	if s.Units != 3 {
		t.Fatalf("shipped %d", s.Units)
	}
	r.is(Warning)(r.e.Scan(demo.SSCCScan(box.SSCCValue())))
	// Voided before it left, then refused once the site marks it departed.
	r.is(Accepted)(r.e.VoidShipment(demo.ShipmentEU))
	snap := r.fx.Snapshot
	snap.Shipments = []master.Shipment{{ID: demo.ShipmentEU, Client: demo.ClientEU, Destination: "CUST-2", Departed: true}}
	if _, err := r.e.Load(&snap); err != nil {
		t.Fatal(err)
	}
	if st := r.unit(box); st.Status != unit.StatusPicked || r.unit(para[0]).Status != unit.StatusPacked {
		t.Fatalf("replayed: box %+v", st)
	}
	r.login("op2")
	r.is(Refused)(r.e.VoidShipment(demo.ShipmentEU))
	r.is(Refused)(r.e.StartShip(demo.ShipmentEU, ""))
}
