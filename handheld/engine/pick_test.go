package engine

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// An order pick with a FEFO conflict: the client blocks picking a later
// lot while an earlier one is in stock; the recalled middle lot is
// refused; the earliest lot is picked; the line completes and the order
// is short-picked on its second line.
func TestScenarioPickFEFO(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	p := r.is(Accepted)(r.e.StartPick(demo.OrderUS))
	if len(p.Progress) != 2 || p.Progress[0].Qty != 3 {
		t.Fatalf("progress %+v", p.Progress)
	}
	lots := r.fx.Stock(r.fx.Product(0)) // US01A (earliest), US01B (recalled), US01C (latest)
	s := r.is(Refused)(r.scan(lots[2].Units[0]))
	if s.Reason == "" || r.unit(lots[2].Units[0]).Status != unit.StatusInStock {
		t.Fatalf("FEFO block: %+v", s)
	}
	s = r.is(Refused)(r.scan(lots[1].Units[0]))
	if s.Cue != CueAlert || len(s.Rules) != 0 { // refused at the scan: no exception
		t.Fatalf("recalled pick: %+v", s)
	}
	for i := range 3 {
		s = r.is(Accepted)(r.scan(lots[0].Units[i]))
	}
	if s.Progress[0].Picked != 3 || !s.Progress[0].Done() {
		t.Fatalf("progress %+v", s.Progress)
	}
	// The line is full: a fourth unit is refused; so is another product.
	r.is(Refused)(r.scan(lots[0].Units[3]))
	r.is(Refused)(r.scan(r.fx.Stock(r.fx.Product(1))[0].Units[0]))
	// Line 2 (Lisinopril): one picked, then short.
	r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(2))[0].Units[0]))
	s = r.is(Warning)(r.e.ShortPick("2", "bin empty"))
	if s.Progress[1].Short != 1 || !complete(s.Progress) {
		t.Fatalf("short: %+v", s.Progress)
	}
	if st := r.unit(lots[0].Units[0]); st.Status != unit.StatusPicked || st.Order != demo.OrderUS || st.Line != "1" {
		t.Fatalf("picked unit %+v", st)
	}
}

// A hold that stops a pick: a lead holds a case of received stock; a
// picker scanning a unit inside it is refused with the alert cue.
func TestScenarioHoldStopsPick(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	lots := r.fx.Stock(r.fx.Product(0))
	u := lots[0].Units[0]
	r.login("lead1")
	r.is(Accepted)(r.e.StartHold("damaged", "crushed"), nil)
	r.is(Accepted)(r.scan(u))
	r.login("op1")
	r.is(Accepted)(r.e.StartPick(demo.OrderUS))
	s := r.is(Refused)(r.scan(u))
	if s.Cue != CueAlert {
		t.Fatalf("cue %s", s.Cue)
	}
	// A hold after the pick voids it.
	r.is(Accepted)(r.scan(lots[0].Units[1]))
	r.login("lead1")
	r.is(Accepted)(r.e.StartHold("suspect", ""), nil)
	s = r.is(Warning)(r.scan(lots[0].Units[1]))
	if !hasRule(s, unit.RuleHoldOverridesPick) || r.unit(lots[0].Units[1]).Status != unit.StatusInStock {
		t.Fatalf("hold after pick: %+v", s)
	}
	// Released by the lead, the unit can be picked again.
	r.is(Accepted)(r.e.StartRelease(""), nil)
	r.is(Accepted)(r.scan(u))
	r.login("op1")
	r.is(Accepted)(r.e.StartPick(demo.OrderUS))
	r.is(Accepted)(r.scan(u))
}

func TestPickVerdicts(t *testing.T) {
	type tc struct {
		name  string
		snap  func(fx *demo.Fixture)
		setup func(r *rig)
		order string
		key   func(r *rig) event.Key
		raw   func(r *rig) []byte
		want  Verdict
		cue   Cue
	}
	stock := func(p, lot, i int) func(r *rig) event.Key {
		return func(r *rig) event.Key { return r.fx.Stock(r.fx.Product(p))[lot].Units[i] }
	}
	cases := []tc{
		{name: "earliest lot", key: stock(0, 0, 0), want: Accepted},
		{name: "FEFO block", key: stock(0, 2, 0), want: Refused},
		{name: "FEFO warn (EU client)", order: demo.OrderEU, key: stock(3, 1, 0), want: Warning},
		{name: "recalled lot", key: stock(0, 1, 0), want: Refused, cue: CueAlert},
		{name: "wrong GTIN for the order", key: stock(1, 0, 0), want: Refused},
		{name: "other client's unit", key: stock(3, 0, 0), want: Refused},
		{name: "unknown unit", raw: func(r *rig) []byte { return demo.UnitScan(r.fx.Product(0), "NOPE", "US01A", "270301") }, want: Refused},
		{name: "expected, not received", raw: func(r *rig) []byte { return r.item(0, 0) }, want: Refused},
		{name: "pack lot differs from record", raw: func(r *rig) []byte {
			k := r.fx.Stock(r.fx.Product(0))[0].Units[0]
			return demo.UnitScan(k.GTIN(), k.Serial(), "FAKE", "270301")
		}, want: Refused},
		{name: "expired unit", setup: func(r *rig) { r.now = time.Date(2027, 3, 5, 9, 0, 0, 0, time.UTC) }, key: stock(0, 0, 0), want: Refused, cue: CueRefuse},
		{name: "too little shelf life (EU 30 days)", order: demo.OrderEU, setup: func(r *rig) { r.now = time.Date(2027, 2, 15, 9, 0, 0, 0, time.UTC) },
			key: stock(3, 0, 0), want: Refused},
		{name: "shelf life rule makes a later lot first (EU)", order: demo.OrderEU, setup: func(r *rig) { r.now = time.Date(2027, 2, 15, 9, 0, 0, 0, time.UTC) },
			key: stock(3, 1, 0), want: Accepted},
		{name: "held unit", setup: func(r *rig) {
			r.login("lead1")
			r.e.StartHold("investigation", "")
			r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(0))[0].Units[0]))
		}, key: stock(0, 0, 0), want: Refused, cue: CueAlert},
		{name: "already picked for this order", setup: func(r *rig) {
			r.login("op2")
			r.is(Accepted)(r.e.StartPick(demo.OrderUS))
			r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(0))[0].Units[0]))
		}, key: stock(0, 0, 0), want: Warning},
		{name: "picked for another order", snap: func(fx *demo.Fixture) {
			fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-9", Client: demo.ClientUS, Customer: "CUST-1",
				Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(0), Qty: 1}}})
		}, setup: func(r *rig) {
			r.login("op2")
			r.is(Accepted)(r.e.StartPick("ORD-9"))
			r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(0))[0].Units[0]))
		}, key: stock(0, 0, 0), want: Refused, cue: CueRefuse},
		{name: "line asks for another lot", snap: func(fx *demo.Fixture) {
			fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-LOT", Client: demo.ClientUS, Customer: "CUST-1",
				Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(2), Qty: 1, Lot: "US03C"}}})
		}, order: "ORD-LOT", key: stock(2, 0, 0), want: Refused},
		{name: "line lot overrides FEFO", snap: func(fx *demo.Fixture) {
			fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-LOT", Client: demo.ClientUS, Customer: "CUST-1",
				Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(2), Qty: 1, Lot: "US03C"}}})
		}, order: "ORD-LOT", key: stock(2, 2, 0), want: Accepted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRigWith(t, demo.DefaultParams(), c.snap)
			if c.setup != nil {
				c.setup(r)
			}
			r.login("op2")
			order := c.order
			if order == "" {
				order = demo.OrderUS
			}
			r.is(Accepted)(r.e.StartPick(order))
			var raw []byte
			if c.raw != nil {
				raw = c.raw(r)
			} else {
				raw = r.fx.ScanOf(c.key(r))
			}
			before, _ := r.st.Outbox()
			s := r.is(c.want)(r.e.Scan(raw))
			after, _ := r.st.Outbox()
			if c.cue != "" && s.Cue != c.cue {
				t.Fatalf("cue %s, want %s (%s)", s.Cue, c.cue, s.Reason)
			}
			if c.want == Refused && len(s.Rules) != 0 {
				t.Fatalf("a scan refused on a state the device saw raised %v", s.Rules)
			}
			wrote := after.Last != before.Last
			if wrote != (c.want != Refused && s.Events != nil) || (c.want == Refused && wrote) {
				t.Fatalf("wrote %v for %s", wrote, c.want)
			}
			if s.Reason == "" {
				t.Fatal("no reason")
			}
		})
	}
}

// Picking a whole case picks the units inside for one line.
func TestPickCase(t *testing.T) {
	p := demo.DefaultParams()
	p.UnitsPerCase = 2
	r := newRigWith(t, p, func(fx *demo.Fixture) {
		fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-C", Client: demo.ClientUS, Customer: "CUST-1",
			Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(0), Qty: 2}}},
			master.Order{ID: "ORD-L", Client: demo.ClientUS, Customer: "CUST-1",
				Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(0), Qty: 2, Lot: "US0001C002"}}})
	})
	r.login("op2")
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	_, cases, _ := asn1(r.fx)
	r.is(Accepted)(r.scan(cases[1]))
	r.is(Accepted)(r.e.StartPick("ORD-C"))
	// The stock lots expire before the case's lot, and the client blocks.
	r.is(Refused)(r.scan(cases[1]))
	// An order line for the case's lot takes it whole, out of its pallet
	// (an unpack of the case, then a pick of the case and its 2 units).
	r.is(Accepted)(r.e.StartPick("ORD-L"))
	s := r.is(Accepted)(r.scan(cases[1]))
	if s.Units != 4 || len(s.Events) != 2 || s.Progress[0].Picked != 2 || s.Cue != CueDone || r.unit(cases[1]).Parent != "" {
		t.Fatalf("case pick: %+v", s)
	}
	for _, k := range append([]event.Key{cases[1]}, r.children(cases[1])...) {
		if st := r.unit(k); st.Status != unit.StatusPicked || st.Order != "ORD-L" {
			t.Fatalf("%s: %+v", k, st)
		}
	}
}
