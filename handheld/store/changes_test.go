package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func TestApplyChanges(t *testing.T) {
	s := open(t, t.TempDir())
	const gtin = "09501101530003"
	if err := s.Update(func(tx *Tx) error { return tx.Append(ev(s, 1, event.SGTIN(gtin, "OUT1")), nil) }); err != nil {
		t.Fatal(err)
	}
	// A set larger than one transaction: chunks, the cursor with the last.
	var put master.Snapshot
	for i := range 2*changeChunk + 7 {
		put.Units = append(put.Units, unit.State{Key: event.SGTIN(gtin, fmt.Sprintf("S%05d", i)), Client: "c1", Lot: "L1",
			Expiry: "301231", Status: unit.StatusInStock, Location: "A-01", Version: 2})
	}
	x := unit.Exception{ID: "X1", Rule: unit.RuleDoublePick, Severity: unit.RuleDoublePick.Info().Severity, Status: unit.ExceptionOpen, Unit: put.Units[0].Key, Client: "c1"}
	put.Open = []unit.Exception{x}
	put.Orders = []master.Order{{ID: "O1", Client: "c1", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 2}}}}
	put.ASNs = []master.ASN{{ID: "A1", Client: "c1", Items: []master.ASNItem{{Key: put.Units[0].Key}, {Key: event.SGTIN(gtin, "NEW1"), Lot: "L2"}}}}
	if err := s.ApplyChanges(&put, nil, "site:S/1/10"); err != nil {
		t.Fatal(err)
	}
	var lots []event.Key
	var active bool
	_ = s.View(func(tx *Tx) error {
		lots = tx.LotUnits(gtin, "L1")
		_, active, _ = tx.ActiveException(put.Units[0].Key, unit.RuleDoublePick)
		if tx.Cursor() != "site:S/1/10" {
			t.Errorf("cursor %q", tx.Cursor())
		}
		u, _ := tx.Unit(put.Units[0].Key)
		if u.Status != unit.StatusInStock {
			t.Errorf("an ASN item overwrote a known unit: %+v", u)
		}
		n, _ := tx.Unit(event.SGTIN(gtin, "NEW1"))
		if n.Status != unit.StatusExpected || n.ASN != "A1" {
			t.Errorf("new ASN item: %+v", n)
		}
		return nil
	})
	if len(lots) != len(put.Units) || !active {
		t.Fatalf("%d units in the lot index, exception active %v", len(lots), active)
	}
	// Removals drop the record and its index entries; unknown ones are fine.
	rm := []Removal{{KindUnit, string(put.Units[1].Key)}, {KindException, "X1"}, {KindOrder, "O1"}, {KindHold, "nope"}, {KindUnit, "0109501101530003" + "21NOPE"}}
	if err := s.ApplyChanges(&master.Snapshot{}, rm, "site:S/1/11"); err != nil {
		t.Fatal(err)
	}
	_ = s.View(func(tx *Tx) error {
		if u, _ := tx.Unit(put.Units[1].Key); u.Known() {
			t.Errorf("removed unit still there: %+v", u)
		}
		if n := len(tx.LotUnits(gtin, "L1")); n != len(put.Units)-1 {
			t.Errorf("lot index has %d units", n)
		}
		if _, err := tx.Exception("X1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("removed exception: %v", err)
		}
		if _, ok, _ := tx.ActiveException(put.Units[0].Key, unit.RuleDoublePick); ok {
			t.Error("removed exception still active")
		}
		if _, err := tx.Order("O1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("removed order: %v", err)
		}
		return nil
	})
	if err := s.ApplyChanges(&master.Snapshot{}, []Removal{{"planet", "x"}}, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown kind: %v", err)
	}
	// The outbox is untouched throughout.
	if r, _ := s.Outbox(); r.Pending != 1 || r.Last != 1 {
		t.Fatalf("outbox %+v", r)
	}
}
