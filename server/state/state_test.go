package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sampleUnit() unit.State {
	return unit.State{Key: event.SGTIN("00300010123455", "SN/1"), Client: "acme", Lot: "L1", Expiry: "281231", Status: unit.StatusPacked,
		Holds: event.Holds(0).With(event.HoldDamaged), Location: "A-01", Parent: event.SSCC("003000100000000015"), ASN: "A1", Order: "O1",
		Line: "1", Shipment: "S", Completeness: unit.CompletenessVerified, Version: 7, LastEvent: event.ID{1, 2, 3}, LastDevice: "d1",
		Updated: hlc.New(1700000000000, 3), Since: hlc.New(1690000000000, 0)}
}

func TestUnitCodecRoundTrip(t *testing.T) {
	for _, s := range []unit.State{{}, sampleUnit()} {
		got, err := decodeUnit(s.Key, encodeUnit(&s))
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("round trip: %+v, %v", got, err)
		}
	}
	b := encodeUnit(&unit.State{Key: "x"})
	for i := range b {
		if _, err := decodeUnit("x", b[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
}

// encodeUnitNoKey writes record version 2, which leaves the key out.
func encodeUnitNoKey(s *unit.State) []byte {
	b := []byte{unitCodecNoKey, byte(s.Status), byte(s.Holds), byte(s.Completeness)}
	for _, f := range [...]string{s.Client, s.Lot, s.Expiry, s.Location, string(s.Parent), s.ASN, s.Order, s.Line, s.Shipment, s.LastDevice} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, s.Version)
	b = append(b, s.LastEvent[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Updated))
	return binary.BigEndian.AppendUint64(b, uint64(s.Since))
}

func TestUnitCodecReadsVersion2(t *testing.T) {
	s := sampleUnit()
	got, err := decodeUnit(s.Key, encodeUnitNoKey(&s))
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("version 2 record: %+v, %v", got, err)
	}
	// A version 1 record stored under another key is corrupt, not that unit.
	if _, err := decodeUnit(event.SGTIN("00300010123455", "SN/2"), encodeUnit(&s)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 1 record under another key: %v", err)
	}
	// What is written is version 1, which every release reads.
	if b := encodeUnit(&s); b[0] != 1 {
		t.Fatalf("written record version %d", b[0])
	}
}

// Indexes follow a unit through its changes.
func TestUnitIndexesFollowChanges(t *testing.T) {
	st := openTest(t)
	s := sampleUnit()
	tx := st.Begin()
	if err := tx.PutUnit(s); err != nil {
		t.Fatal(err)
	}
	s2 := s
	s2.Lot, s2.Location, s2.Parent, s2.Status, s2.Holds = "L2", "B-02", "", unit.StatusInStock, 0
	if err := tx.PutUnit(s2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	count := func(f UnitFilter) int {
		var n int
		st.View(func(r *Reader) error { p, err := r.Units(f); n = len(p.Items); return err })
		return n
	}
	for _, c := range []struct {
		f    UnitFilter
		want int
	}{
		{UnitFilter{GTIN: "00300010123455", Lot: "L1"}, 0},
		{UnitFilter{GTIN: "00300010123455", Lot: "L2"}, 1},
		{UnitFilter{GTIN: "00300010123455", AnyLot: true}, 1},
		{UnitFilter{Location: "A-01"}, 0},
		{UnitFilter{Location: "B-02"}, 1},
		{UnitFilter{Parent: s.Parent}, 0},
		{UnitFilter{Status: unit.StatusPacked}, 0},
		{UnitFilter{Status: unit.StatusInStock}, 1},
		{UnitFilter{Held: true}, 0},
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("%+v: %d units, want %d", c.f, got, c.want)
		}
	}
}

func TestLotAndProductHoldsAreInherited(t *testing.T) {
	st := openTest(t)
	u := sampleUnit()
	tx := st.Begin()
	holds := []master.Hold{
		{ID: "R1", Client: "acme", Scope: master.ScopeLot, GTIN: "00300010123455", Lot: "L1", Reason: event.HoldRecall, Active: true},
		{ID: "R2", Client: "acme", Scope: master.ScopeProduct, GTIN: "00300010123455", Reason: event.HoldSuspect, Active: true},
		{ID: "R3", Client: "acme", Scope: master.ScopeLot, GTIN: "00300010123455", Lot: "L9", Reason: event.HoldDamaged, Active: true},
	}
	for _, h := range holds {
		if err := tx.PutHold(h); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := tx.Inherited(u)
	if got != event.Holds(0).With(event.HoldRecall).With(event.HoldSuspect) {
		t.Fatalf("inherited %s", got)
	}
	holds[0].Active = false
	tx.PutHold(holds[0])
	if got, _ := tx.Inherited(u); got != event.Holds(0).With(event.HoldSuspect) {
		t.Fatalf("after release: %s", got)
	}
	tx.Discard()
}

func TestPagination(t *testing.T) {
	st := openTest(t)
	tx := st.Begin()
	for i := range 25 {
		s := sampleUnit()
		s.Key = event.SGTIN("00300010123455", string(rune('A'+i)))
		tx.PutUnit(s)
	}
	tx.Commit()
	var keys []event.Key
	after := ""
	for {
		var p Page[unit.State]
		st.View(func(r *Reader) error {
			var err error
			p, err = r.Units(UnitFilter{Limit: 10, After: after})
			return err
		})
		for _, s := range p.Items {
			keys = append(keys, s.Key)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(keys) != 25 {
		t.Fatalf("paged through %d units", len(keys))
	}
}

func FuzzReadSnapshot(f *testing.F) {
	st, err := Open("", Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	tx := st.Begin()
	tx.PutUnit(sampleUnit())
	tx.SetApplied(9)
	tx.Commit()
	var buf bytes.Buffer
	snap := st.Snapshot()
	snap.WriteTo(&buf)
	snap.Close()
	st.Close()
	f.Add(buf.Bytes())
	f.Add(snapMagic)
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := ReadSnapshot(bytes.NewReader(b), func(k, v []byte) error {
			if !knownTable(k[0]) {
				t.Fatalf("unknown table passed through")
			}
			n++
			return nil
		})
		if err == nil && !bytes.HasPrefix(b, snapMagic) {
			t.Fatal("accepted a stream without the magic")
		}
	})
}

func FuzzDecodeUnit(f *testing.F) {
	s := sampleUnit()
	f.Add(encodeUnit(&s))
	f.Add([]byte{unitCodec, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		k := sampleUnit().Key
		s, err := decodeUnit(k, b)
		if err != nil {
			return
		}
		again, err := decodeUnit(k, encodeUnit(&s))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoding changed the unit: %+v vs %+v", s, again)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	ev := event.Event{ID: event.ID{1}, Device: "d", Epoch: 1, Seq: 1, HLC: 5, User: "u", Site: "s", Client: "c", Kind: event.KindMove,
		Subjects: []event.Subject{{Key: sampleUnit().Key}}, Ctx: event.Context{To: "B"}}
	b, _ := encodeRecord(&Record{Event: ev, Index: 3, Result: &unit.Result{Verdict: unit.VerdictApplied}})
	f.Add(b)
	b, _ = encodeRecord(&Record{Event: ev, Index: 3, Reason: "no"})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeRecord(b)
	})
}

func TestRecordCodecRoundTrip(t *testing.T) {
	ev := event.Event{ID: event.ID{9}, Device: "d", Epoch: 2, Seq: 7, HLC: 5, User: "u", Site: "s", Client: "c", Kind: event.KindHold,
		Subjects: []event.Subject{{Key: sampleUnit().Key, BaseVersion: 3}}, Ctx: event.Context{Hold: event.HoldRecall}}
	res := &unit.Result{Verdict: unit.VerdictConflict, Reason: "why", Subjects: []unit.SubjectResult{
		{Key: sampleUnit().Key, Verdict: unit.VerdictConflict, Reason: "r", Exceptions: []string{"X1", "X2"}, Via: event.SSCC("003000100000000015"), Version: 4},
		{Key: event.SSCC("003000100000000015"), Verdict: unit.VerdictApplied, Version: 1}},
		Reopen: []unit.OrderLine{{Order: "O1", Line: "2"}}}
	for _, rec := range []Record{{Event: ev, Index: 12, Result: res}, {Event: ev, Index: 1, Reason: "bad"}} {
		b, err := encodeRecord(&rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(b)
		if err != nil || !reflect.DeepEqual(got, rec) {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		for i := range b {
			if r2, err := decodeRecord(b[:i]); err == nil && reflect.DeepEqual(r2, rec) {
				t.Fatalf("prefix %d decodes to the whole record", i)
			}
		}
	}
}
