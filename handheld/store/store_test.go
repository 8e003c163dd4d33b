package store

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Device: "hh-1", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const gtin = "00350123456780"

func TestStateCodecRoundTrip(t *testing.T) {
	states := []unit.State{
		{Key: event.SGTIN(gtin, "A1"), Status: unit.StatusExpected, Version: 1},
		{Key: event.SSCC("306141415000000001"), Client: "acme", Lot: "L1", Expiry: "281200", Status: unit.StatusPacked,
			Holds: event.Holds(0).With(event.HoldRecall).With(event.HoldDamaged), Location: "A-01", Parent: event.SSCC("306141415000000018"),
			ASN: "ASN-1", Order: "O", Line: "1", Shipment: "S", Completeness: unit.CompletenessVerified, Version: 1 << 40,
			LastEvent: event.ID{1, 2, 3}, LastDevice: "hh-9", Updated: hlc.New(1, 2), Since: hlc.New(3, 4)},
	}
	for _, s := range states {
		got, err := decodeState(s.Key, appendState(nil, &s))
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
		}
	}
	for _, bad := range [][]byte{nil, {9, 0, 0, 0, 0}, {1, 0, 0, 0, 4, 1, 1, 1}, appendState(nil, &states[1])[:20]} {
		if _, err := decodeState("k", bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%x: %v", bad, err)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	s := unit.State{Key: event.SGTIN(gtin, "A1"), Client: "acme", Lot: "L", Status: unit.StatusInStock, Version: 3, LastEvent: event.ID{9}}
	f.Add(appendState(nil, &s))
	f.Add([]byte{1, 2, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState("k", b)
		if err != nil {
			return
		}
		again, err := decodeState("k", appendState(nil, &st))
		if err != nil || again != st {
			t.Fatalf("re-encode: %v %+v %+v", err, again, st)
		}
	})
}

func TestEpochAndDevice(t *testing.T) {
	dir := t.TempDir()
	// The epoch is random: a source of zeros first, then 0x6B49D200.
	src := bytes.NewReader([]byte{0, 0, 0, 0, 0x6B, 0x49, 0xD2, 0x00})
	s, err := Open(dir, Options{Device: "hh-1", Logger: quiet(), Rand: src})
	if err != nil {
		t.Fatal(err)
	}
	if s.Epoch() != 0x6B49D200 {
		t.Fatalf("epoch %d", s.Epoch())
	}
	s.Close()
	s = open(t, dir)
	if s.Epoch() != 0x6B49D200 {
		t.Fatalf("epoch after reopen %d", s.Epoch())
	}
	s.Close()
	if _, err := Open(dir, Options{Device: "hh-2", Logger: quiet()}); !errors.Is(err, ErrDevice) {
		t.Fatalf("other device: %v", err)
	}
	if _, err := Open(t.TempDir(), Options{Logger: quiet()}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no device: %v", err)
	}
	// Wiped devices start new epochs, even within the same second.
	seen := map[uint32]bool{s.Epoch(): true}
	for range 8 {
		w := open(t, t.TempDir())
		if e := w.Epoch(); e == 0 || seen[e] {
			t.Fatalf("epoch %d after wipe (seen %v)", e, seen)
		}
		seen[w.Epoch()] = true
		w.Close()
	}
	if _, err := Open(t.TempDir(), Options{Device: "hh-1", Logger: quiet(), Rand: bytes.NewReader(make([]byte, 64))}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero epoch source: %v", err)
	}
}

// Open with default options uses the handheld profile with SyncWrites:
// an accepted scan is on disk when the commit returns.
func TestOpenSyncWrites(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if !s.opts.SyncWrites {
		t.Fatal("default Open does not sync writes")
	}
	if !s.db.Opts().SyncWrites {
		t.Fatal("the open Badger does not sync writes")
	}
}

// The device number is stored once; another one is refused.
func TestDeviceNumber(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.View(func(tx *Tx) error {
		if _, ok, err := tx.DeviceNumber(); ok || err != nil {
			t.Fatalf("device number before enrolment: %v %v", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []int{0, -1, 1000} {
		if err := s.SetDeviceNumber(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("device number %d: %v", bad, err)
		}
	}
	if err := s.SetDeviceNumber(42); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeviceNumber(42); err != nil {
		t.Fatalf("same number again: %v", err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if err := s.SetDeviceNumber(43); !errors.Is(err, ErrDevice) {
		t.Fatalf("another number: %v", err)
	}
	_ = s.View(func(tx *Tx) error {
		if n, ok, err := tx.DeviceNumber(); n != 42 || !ok || err != nil {
			t.Fatalf("device number %d %v %v", n, ok, err)
		}
		return nil
	})
}

func ev(s *Store, seq uint64, k ...event.Key) *event.Event {
	e := &event.Event{ID: event.ID{byte(seq), byte(seq >> 8), 7}, Device: s.Device(), Epoch: s.Epoch(), Seq: seq, HLC: hlc.New(int64(1000+seq), 0),
		User: "u", Site: "S", Client: "acme", Kind: event.KindHold, Ctx: event.Context{Hold: event.HoldSuspect}}
	for _, x := range k {
		e.Subjects = append(e.Subjects, event.Subject{Key: x})
	}
	return e
}

func TestOutbox(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	k := event.SGTIN(gtin, "A1")
	for seq := uint64(1); seq <= 10; seq++ {
		if err := s.Update(func(tx *Tx) error { return tx.Append(ev(s, seq, k), []event.Key{k}) }); err != nil {
			t.Fatal(err)
		}
	}
	// Out of sequence, another epoch, another device: refused.
	for _, bad := range []*event.Event{ev(s, 12, k), ev(s, 10, k)} {
		if err := s.Update(func(tx *Tx) error { return tx.Append(bad, nil) }); !errors.Is(err, ErrSequence) {
			t.Fatalf("seq %d: %v", bad.Seq, err)
		}
	}
	e := ev(s, 11, k)
	e.Epoch++
	if err := s.Update(func(tx *Tx) error { return tx.Append(e, nil) }); !errors.Is(err, ErrSequence) {
		t.Fatalf("epoch: %v", err)
	}
	p, err := s.Pending(0)
	if err != nil || len(p) != 10 || p[0].Seq != 1 || p[9].Seq != 10 {
		t.Fatalf("pending %d %v", len(p), err)
	}
	if n, err := s.AckThrough(s.Epoch(), 4); err != nil || n != 4 {
		t.Fatalf("ack: %d %v", n, err)
	}
	if _, err := s.AckThrough(s.Epoch(), 11); !errors.Is(err, ErrSequence) {
		t.Fatalf("ack beyond: %v", err)
	}
	if _, err := s.AckThrough(s.Epoch()+1, 5); !errors.Is(err, ErrSequence) {
		t.Fatalf("ack other epoch: %v", err)
	}
	if n, err := s.AckThrough(s.Epoch(), 2); err != nil || n != 0 {
		t.Fatalf("old ack: %d %v", n, err)
	}
	r, err := s.Outbox()
	if err != nil || r.Pending != 6 || r.First != 5 || r.Last != 10 || r.Acked != 4 {
		t.Fatalf("range %+v %v", r, err)
	}
	p, _ = s.Pending(2)
	if len(p) != 2 || p[0].Seq != 5 {
		t.Fatalf("pending after ack: %+v", p)
	}
	// History survives the ack.
	if err := s.View(func(tx *Tx) error {
		h, err := tx.History(k, 0)
		if err != nil || len(h) != 10 {
			t.Fatalf("history %d %v", len(h), err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestIndexesFollowState(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	pal := event.SSCC("306141415000000001")
	a, b := event.SGTIN(gtin, "A"), event.SGTIN(gtin, "B")
	put := func(st unit.State) {
		t.Helper()
		if err := s.Update(func(tx *Tx) error { return tx.PutUnit(st) }); err != nil {
			t.Fatal(err)
		}
	}
	put(unit.State{Key: a, Lot: "L1", Expiry: "270600", Status: unit.StatusInStock, Parent: pal})
	put(unit.State{Key: b, Lot: "L2", Expiry: "270115", Status: unit.StatusInStock, Parent: pal})
	check := func(wantKids []event.Key, wantFEFO []event.Key, wantL1 []event.Key, order []event.Key) {
		t.Helper()
		if err := s.View(func(tx *Tx) error {
			kids, _ := tx.Children(pal)
			var fefo []event.Key
			tx.EarliestAvailable(gtin, "260101", "", func(k event.Key, _ string) bool { fefo = append(fefo, k); return true })
			l1 := tx.LotUnits(gtin, "L1")
			o := tx.OrderUnits("O1")["1"]
			if !slices.Equal(kids, wantKids) || !slices.Equal(fefo, wantFEFO) || !slices.Equal(l1, wantL1) || !slices.Equal(o, order) {
				t.Fatalf("kids %v fefo %v l1 %v order %v", kids, fefo, l1, o)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// b expires first; "00" (end of June) sorts after every day of June.
	check([]event.Key{a, b}, []event.Key{b, a}, []event.Key{a}, nil)
	put(unit.State{Key: a, Lot: "L1", Expiry: "270600", Status: unit.StatusPicked, Order: "O1", Line: "1"})
	check([]event.Key{b}, []event.Key{b}, []event.Key{a}, []event.Key{a})
	put(unit.State{Key: b, Lot: "L2", Expiry: "270115", Status: unit.StatusInStock, Holds: event.Holds(0).With(event.HoldDamaged), Parent: pal})
	check([]event.Key{b}, nil, []event.Key{a}, []event.Key{a})
	put(unit.State{Key: a, Lot: "L1", Expiry: "270600", Status: unit.StatusShipped, Shipment: "S1"})
	check([]event.Key{b}, nil, nil, nil)
	if err := s.View(func(tx *Tx) error {
		if got := tx.ShipmentUnits("S1"); !slices.Equal(got, []event.Key{a}) {
			t.Fatalf("shipment units %v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// EarliestAvailable stops before the bound.
	put(unit.State{Key: a, Lot: "L1", Expiry: "270600", Status: unit.StatusInStock})
	put(unit.State{Key: b, Lot: "L2", Expiry: "270115", Status: unit.StatusInStock})
	if err := s.View(func(tx *Tx) error {
		var got []event.Key
		tx.EarliestAvailable(gtin, "270101", "270601", func(k event.Key, _ string) bool { got = append(got, k); return true })
		if !slices.Equal(got, []event.Key{b}) {
			t.Fatalf("bounded fefo %v", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestLotHoldsAndExceptions(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	k := event.SGTIN(gtin, "A")
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutHold(master.Hold{ID: "H1", Client: "acme", Scope: master.ScopeLot, GTIN: gtin, Lot: "L1", Reason: event.HoldRecall, Active: true}); err != nil {
			return err
		}
		if err := tx.PutHold(master.Hold{ID: "H2", Client: "acme", Scope: master.ScopeProduct, GTIN: gtin, Reason: event.HoldSuspect, Active: true}); err != nil {
			return err
		}
		h1, _ := tx.LotHolds(gtin, "L1")
		h2, _ := tx.LotHolds(gtin, "L2")
		if h1 != event.Holds(0).With(event.HoldRecall).With(event.HoldSuspect) || h2 != event.Holds(0).With(event.HoldSuspect) {
			t.Fatalf("holds %v %v", h1, h2)
		}
		if err := tx.PutHold(master.Hold{ID: "H2", Client: "acme", Scope: master.ScopeProduct, GTIN: gtin, Reason: event.HoldSuspect}); err != nil {
			return err
		}
		if h, _ := tx.LotHolds(gtin, "L2"); h != 0 {
			t.Fatalf("inactive hold still counts: %v", h)
		}
		x := unit.Exception{ID: "X1", Rule: unit.RuleOverage, Severity: unit.SeverityMedium, Unit: k, Status: unit.ExceptionOpen}
		if err := tx.PutException(x); err != nil {
			return err
		}
		got, ok, err := tx.ActiveException(k, unit.RuleOverage)
		if err != nil || !ok || got.ID != "X1" {
			t.Fatalf("active: %+v %v %v", got, ok, err)
		}
		x.Status = unit.ExceptionResolved
		if err := tx.PutException(x); err != nil {
			return err
		}
		if _, ok, _ := tx.ActiveException(k, unit.RuleOverage); ok {
			t.Fatal("resolved exception still active")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A transaction that fails writes nothing.
func TestUpdateAllOrNothing(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	k := event.SGTIN(gtin, "A")
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutUnit(unit.State{Key: k, Status: unit.StatusInStock, Parent: event.SSCC("306141415000000001")}); err != nil {
			return err
		}
		if err := tx.Append(ev(s, 1, k), []event.Key{k}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	r, _ := s.Outbox()
	if r.Last != 0 || r.Pending != 0 {
		t.Fatalf("outbox %+v", r)
	}
	_ = s.View(func(tx *Tx) error {
		if st, _ := tx.Unit(k); st.Known() {
			t.Fatalf("unit written: %+v", st)
		}
		if kids, _ := tx.Children(event.SSCC("306141415000000001")); len(kids) != 0 {
			t.Fatalf("index written: %v", kids)
		}
		return nil
	})
}

// A load that does not finish leaves the replica marked incomplete, and
// keeps the outbox; a finished load clears the mark.
func TestLoadIncompleteKeepsOutbox(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	k := event.SGTIN(gtin, "A1")
	if err := s.Update(func(tx *Tx) error { return tx.Append(ev(s, 1, k), []event.Key{k}) }); err != nil {
		t.Fatal(err)
	}
	snap := &master.Snapshot{Site: master.Site{ID: "S"}, Units: []unit.State{{Key: k, Status: unit.StatusInStock, Version: 1}},
		ASNs: []master.ASN{{ID: "A", Client: "acme", Items: []master.ASNItem{{Key: event.SSCC("306141415000000001")},
			{Key: event.SGTIN(gtin, "B"), Parent: event.SSCC("306141415000000001"), Lot: "L", Expiry: "281231"}}}}}
	if n, err := s.Load(snap); err != nil || n != 3 || s.Incomplete() {
		t.Fatalf("load: %d %v incomplete %v", n, err, s.Incomplete())
	}
	l, err := s.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unit(unit.State{Key: k, Status: unit.StatusPicked}); err != nil {
		t.Fatal(err)
	}
	l.Cancel()
	if !s.Incomplete() {
		t.Fatal("cancelled load not marked incomplete")
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if !s.Incomplete() {
		t.Fatal("mark lost on reopen")
	}
	if p, err := s.Pending(0); err != nil || len(p) != 1 {
		t.Fatalf("outbox after load: %d %v", len(p), err)
	}
	if _, err := s.Load(snap); err != nil || s.Incomplete() {
		t.Fatalf("reload: %v", err)
	}
	_ = s.View(func(tx *Tx) error {
		a, err := tx.ASN("A")
		if err != nil || len(a.Roots) != 1 || a.Items != 2 {
			t.Fatalf("asn %+v %v", a, err)
		}
		kids, _ := tx.Children(event.SSCC("306141415000000001"))
		b, _ := tx.Unit(event.SGTIN(gtin, "B"))
		if len(kids) != 1 || b.Status != unit.StatusExpected || b.ASN != "A" || b.Lot != "L" {
			t.Fatalf("expected unit %+v kids %v", b, kids)
		}
		return nil
	})
}
