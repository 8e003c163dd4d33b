package engine

import (
	"testing"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

func TestWorkFollowsTheUser(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	if w, err := r.e.Work(); err != nil || len(w.ASNs)+len(w.Orders)+len(w.Shipments) != 0 {
		t.Fatalf("signed out: %+v %v", w, err)
	}
	for _, tc := range []struct {
		user                    string
		asns, orders, shipments int
	}{{"op1", 1, 1, 1}, {"op2", 2, 2, 2}} {
		r.login(tc.user)
		w, err := r.e.Work()
		if err != nil {
			t.Fatal(err)
		}
		if len(w.ASNs) != tc.asns || len(w.Orders) != tc.orders || len(w.Shipments) != tc.shipments {
			t.Fatalf("%s: %d ASNs, %d orders, %d shipments", tc.user, len(w.ASNs), len(w.Orders), len(w.Shipments))
		}
	}
	// Closing an ASN short takes it off the list and opens this device's
	// shortage exceptions.
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Warning)(r.e.Close())
	w, err := r.e.Work()
	if err != nil {
		t.Fatal(err)
	}
	if len(w.ASNs) != 1 || w.ASNs[0].ID != demo.ASNEU || len(w.Exceptions) == 0 || w.Exceptions[0].Rule != unit.RuleShortage {
		t.Fatalf("after close: %+v", w)
	}
}

func TestASNProgressCountsLevels(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	_, cases, units := asn1(r.fx)
	p, err := r.e.ASNProgress(demo.ASNUS)
	if err != nil {
		t.Fatal(err)
	}
	want := []Level{{"pallets", 0, 1}, {"cases", 0, 4}, {"units", 0, 200}}
	if len(p.Levels) != 3 || p.Levels[0] != want[0] || p.Levels[1] != want[1] || p.Levels[2] != want[2] {
		t.Fatalf("before: %+v", p.Levels)
	}
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[1]))
	r.is(Accepted)(r.scan(units[cases[2]][0].Key))
	if p, err = r.e.ASNProgress(demo.ASNUS); err != nil {
		t.Fatal(err)
	}
	want = []Level{{"pallets", 0, 1}, {"cases", 1, 4}, {"units", 51, 200}}
	for i := range want {
		if p.Levels[i] != want[i] {
			t.Fatalf("after: %+v, want %+v", p.Levels, want)
		}
	}
}

func TestPickGuideSuggestsFEFO(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	g, err := r.e.PickGuide(demo.OrderEU)
	if err != nil {
		t.Fatal(err)
	}
	stock := r.fx.Stock(g.GTIN)
	if g.Line != "1" || g.Want != 2 || g.Suggest == "" || g.Product == "" {
		t.Fatalf("guide: %+v", g)
	}
	// The suggestion is of the earliest lot in stock.
	if g.SugLot != stock[0].Lot || r.unit(g.Suggest).Location == "" || g.Location != r.unit(g.Suggest).Location {
		t.Fatalf("suggested %s lot %s at %s, earliest lot %s", g.Suggest, g.SugLot, g.Location, stock[0].Lot)
	}
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Accepted)(r.scan(g.Suggest))
	g2, err := r.e.PickGuide(demo.OrderEU)
	if err != nil {
		t.Fatal(err)
	}
	if g2.Want != 1 || g2.Suggest == g.Suggest || g2.Suggest == event.Key("") {
		t.Fatalf("after one pick: %+v", g2)
	}
}

// A large ASN is counted by its pallets and cases only.
func TestASNProgressLargeASN(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.e.cfg.ProgressUnits = 100
	r.login("op1")
	_, cases, _ := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	p, err := r.e.ASNProgress(demo.ASNUS)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Levels) != 2 || p.Levels[1] != (Level{"cases", 1, 4}) {
		t.Fatalf("levels %+v", p.Levels)
	}
}
