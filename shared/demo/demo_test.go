package demo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func TestBuildIsDeterministic(t *testing.T) {
	a, err := Build(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Build(DefaultParams())
	ja, _ := json.Marshal(a.Snapshot)
	jb, _ := json.Marshal(b.Snapshot)
	if string(ja) != string(jb) {
		t.Fatal("same seed, different snapshots")
	}
	p := DefaultParams()
	p.Seed = 2
	c, _ := Build(p)
	jc, _ := json.Marshal(c.Snapshot)
	if string(ja) == string(jc) {
		t.Fatal("different seeds, same snapshot")
	}
}

func TestSnapshotIsValid(t *testing.T) {
	fx, err := Build(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	s := &fx.Snapshot
	if len(s.Clients) != 2 || s.Clients[0].Policy == s.Clients[1].Policy {
		t.Fatalf("clients %+v", s.Clients)
	}
	for i := range s.Clients {
		if err := s.Clients[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range s.Products {
		p := &s.Products[i]
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if c, _ := gs1.CheckDigit(p.GTIN[:13]); c != p.GTIN[13] {
			t.Fatalf("GTIN %s: check digit", p.GTIN)
		}
		if p.NDC != "" && p.GTIN[:3] != "003" {
			t.Fatalf("US GTIN %s does not carry 0 + 03 + NDC", p.GTIN)
		}
		if p.NDC != "" && p.GTIN[3:13] != p.NDC {
			t.Fatalf("GTIN %s does not embed NDC %s", p.GTIN, p.NDC)
		}
	}
	for i := range s.ASNs {
		if err := s.ASNs[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	a := fx.ASN(ASNUS)
	if n := len(a.Items); n != 1+4+200 {
		t.Fatalf("ASN-1 has %d items", n)
	}
	for i := range s.Orders {
		if err := s.Orders[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range s.Holds {
		if err := s.Holds[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range s.Users {
		if err := u.PIN.Check(fx.PIN(u.ID)); err != nil {
			t.Fatalf("user %s: %v", u.ID, err)
		}
	}
	var quar, dock bool
	for _, l := range s.Locations {
		quar, dock = quar || l.Quarantine, dock || l.Dock
	}
	if !quar || !dock {
		t.Fatal("no quarantine or dock")
	}
	lots := fx.Stock(fx.Product(0))
	if len(lots) != 3 || lots[0].Expiry >= lots[1].Expiry || len(lots[0].Units) != 4 {
		t.Fatalf("stock lots %+v", lots)
	}
	for _, u := range s.Units {
		if u.Status != unit.StatusInStock || u.Key.Validate() != nil {
			t.Fatalf("stock %+v", u)
		}
	}
}

func TestEachExpectedStreams(t *testing.T) {
	p := Params{Seed: 7, Pallets: 3, CasesPerPallet: 5, UnitsPerCase: 7}
	seen := map[event.Key]bool{}
	parents := map[event.Key]bool{}
	units := 0
	err := EachExpected(p, func(a *master.ASN, it master.ASNItem) error {
		if seen[it.Key] {
			t.Fatalf("%s twice", it.Key)
		}
		if it.Parent != "" && !seen[it.Parent] {
			t.Fatalf("%s before its container %s", it.Key, it.Parent)
		}
		if err := it.Key.Validate(); err != nil {
			t.Fatal(err)
		}
		seen[it.Key] = true
		parents[it.Parent] = true
		if !it.Key.IsContainer() {
			units++
			if it.Lot == "" || len(it.Expiry) != 6 {
				t.Fatalf("unit without lot or expiry: %+v", it)
			}
		}
		return nil
	})
	if err != nil || units != 3*5*7 || len(seen) != 3+15+105 {
		t.Fatalf("%d units, %d items, %v", units, len(seen), err)
	}
	if _, err := Build(Params{Pallets: -1, CasesPerPallet: 1, UnitsPerCase: 1}); err == nil {
		t.Fatal("negative size accepted")
	}
}

func TestIdentifiers(t *testing.T) {
	g, err := GTINFromNDC("5012345678")
	if err != nil || g != "00350123456780" {
		t.Fatalf("%s %v", g, err)
	}
	if _, err := GTINFromNDC("50123"); err == nil {
		t.Fatal("short NDC")
	}
	c, err := CaseGTIN(g, '5')
	if err != nil || c[0] != '5' || c[1:13] != g[1:13] {
		t.Fatalf("case %s %v", c, err)
	}
	s, err := SSCC(3, SSCCPrefix, 42)
	if err != nil || len(s) != 18 || !strings.HasPrefix(s, "3"+SSCCPrefix+"000000042") {
		t.Fatalf("SSCC %s %v", s, err)
	}
	if _, err := SSCC(3, SSCCPrefix, 1_000_000_000); err == nil {
		t.Fatal("serial reference too long")
	}
	for _, raw := range [][]byte{UnitScan(g, "A1", "L1", "281231"), SSCCScan(s)} {
		d, err := gs1.Parse(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if _, err := gs1.Identify(d, gs1.WantAny, gs1.Policy{}); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
	}
}
