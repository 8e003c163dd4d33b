package store

import (
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// A reload keeps what only the device knows: its lot holds (and the units
// each put on hold), its shipments, its closed ASNs, its workflow
// exceptions and its short picks. What the site's snapshot has is the
// site's: the device copy gives way.
func TestLoadKeepsDeviceRecords(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	k := event.SGTIN(gtin, "A1")
	snap := &master.Snapshot{Site: master.Site{ID: "S"},
		Units: []unit.State{{Key: k, Client: "acme", Lot: "L1", Status: unit.StatusInStock, Version: 1}},
		ASNs:  []master.ASN{{ID: "A", Client: "acme", Items: []master.ASNItem{{Key: event.SGTIN(gtin, "B"), Lot: "L", Expiry: "281231"}}}}}
	if _, err := s.Load(snap); err != nil {
		t.Fatal(err)
	}
	hold := master.Hold{ID: "LH-1", Client: "acme", Scope: master.ScopeLot, GTIN: gtin, Lot: "L1", Reason: event.HoldSuspect, Active: true, By: "u"}
	x := unit.Exception{ID: "X-1", Rule: unit.RuleShortage, Severity: unit.SeverityMedium, Status: unit.ExceptionOpen, Unit: k, Client: "acme", Detail: "short"}
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutLocalHold(hold); err != nil {
			return err
		}
		if err := tx.AddHoldUnits(hold.ID, []event.Key{k}); err != nil {
			return err
		}
		if err := tx.CreateShipment(master.Shipment{ID: "SHP-D", Client: "acme", Destination: "C"}); err != nil {
			return err
		}
		if err := tx.PutShipment(master.Shipment{ID: "SHP-D", Client: "acme", Destination: "C", Containers: []event.Key{k}}); err != nil {
			return err
		}
		a, err := tx.ASN("A")
		if err != nil {
			return err
		}
		if err := tx.CloseASN(a); err != nil {
			return err
		}
		if err := tx.PutDeviceException(x); err != nil {
			return err
		}
		return tx.PutShortPick(ShortPick{Order: "O", Line: "1", Qty: 2, Reason: "none left", User: "u"})
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantShipment bool) {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			if h, err := tx.LotHolds(gtin, "L1"); err != nil || !h.Has(event.HoldSuspect) {
				t.Fatalf("%s: lot holds %v %v", when, h, err)
			}
			if u := tx.HoldUnits(hold.ID); len(u) != 1 || u[0] != k {
				t.Fatalf("%s: hold units %v", when, u)
			}
			sh, err := tx.Shipment("SHP-D")
			if wantShipment && (err != nil || len(sh.Containers) != 1) {
				t.Fatalf("%s: shipment %+v %v", when, sh, err)
			}
			if a, err := tx.ASN("A"); err != nil || !a.Closed {
				t.Fatalf("%s: asn %+v %v", when, a, err)
			}
			if got, err := tx.Exception(x.ID); err != nil || got.Detail != "short" {
				t.Fatalf("%s: exception %+v %v", when, got, err)
			}
			if xs, err := tx.ExceptionsOf(k); err != nil || len(xs) != 1 {
				t.Fatalf("%s: active exceptions %v %v", when, xs, err)
			}
			if sp, err := tx.ShortPicks("O"); err != nil || sp["1"].Qty != 2 {
				t.Fatalf("%s: short picks %v %v", when, sp, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("before reload", true)
	if _, err := s.Load(snap); err != nil {
		t.Fatal(err)
	}
	check("after reload", true)
	// The site now knows the shipment: its record wins over the device's.
	snap.Shipments = []master.Shipment{{ID: "SHP-D", Client: "acme", Destination: "SITE"}}
	if _, err := s.Load(snap); err != nil {
		t.Fatal(err)
	}
	check("after the site took the shipment", false)
	_ = s.View(func(tx *Tx) error {
		if sh, err := tx.Shipment("SHP-D"); err != nil || sh.Destination != "SITE" || tx.hasDevice(dShipment, "SHP-D") {
			t.Fatalf("site shipment %+v %v", sh, err)
		}
		return nil
	})
}

// Wrong-PIN records live in the meta records: a reload keeps them.
func TestPINFailuresSurviveLoad(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	f := PINFailures{Count: 3}
	if err := s.Update(func(tx *Tx) error { return tx.PutPINFailures("lead1", f) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(&master.Snapshot{Site: master.Site{ID: "S"}}); err != nil {
		t.Fatal(err)
	}
	_ = s.View(func(tx *Tx) error {
		if got, err := tx.PINFailures("lead1"); err != nil || got != f {
			t.Fatalf("after load: %+v %v", got, err)
		}
		if got, err := tx.PINFailures(""); err != nil || got != (PINFailures{}) {
			t.Fatalf("device record: %+v %v", got, err)
		}
		return nil
	})
	if err := s.Update(func(tx *Tx) error { return tx.PutPINFailures("lead1", PINFailures{}) }); err != nil {
		t.Fatal(err)
	}
	_ = s.View(func(tx *Tx) error {
		if _, err := tx.get(pinKey("lead1")); err == nil {
			t.Fatal("zero record not deleted")
		}
		return nil
	})
}
