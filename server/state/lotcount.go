package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Lot counters: how many units of a lot are in each status, at each
// location (units here), held by holds of their own (units here) and in
// each shipment (shipped units), so that a lot's recall answers from a
// few keys instead of reading every unit of the lot.
//
//	q gtin 0 lot 0 S status          → count
//	q gtin 0 lot 0 L location        → count (units here)
//	q gtin 0 lot 0 H                 → count (units here with own holds)
//	q gtin 0 lot 0 P shipment 0 sec  → count (shipped units; sec: the
//	                                    second their status became shipped)
//
// Counts are uvarints; a count that reaches zero is deleted. They are
// derived from the unit records alone, kept by PutUnit through a delta
// per key that Commit writes once per transaction, and rebuilt from the
// units when a state has none (keyLotCounts absent: a data directory or a
// snapshot of an older version). Lot and product holds are not counted:
// when either is active, every unit of the lot here is held.
//
// Order counters, in a table of their own, count the units of an order
// (not containers) picked, packed and shipped, for the order progress
// the console's floor shows:
//
//	w order 0 status → count
//
// They are kept, marked and rebuilt with the lot counters.
//
// The tables are left out of Hash: it is a function of the unit records,
// which are hashed, and replicas that do not keep it yet must still
// compare equal with those that do.

// Tables of the counters.
const (
	tLotCount   byte = 'q' // q gtin 0 lot 0 kind … → count
	tOrderCount byte = 'w' // w order 0 status → count
)

// keyLotCounts marks a state whose lot and order counters are kept (value: the
// layout version).
var keyLotCounts = []byte{tMeta, 'l', 'o', 't', 'c', 'o', 'u', 'n', 't', 's'}

// lotCountVersion is the counters' layout; a state marked with another
// builds them again (1: lot counters only).
const lotCountVersion = 2

// Kinds of lot counter (the byte after the lot).
const (
	lcStatus   byte = 'S'
	lcLocation byte = 'L'
	lcHeld     byte = 'H'
	lcShipment byte = 'P'
)

// here reports whether a unit in status s is at the site.
func here(s unit.Status) bool {
	return s == unit.StatusInStock || s == unit.StatusPicked || s == unit.StatusPacked
}

// lotCountKeys appends the counter keys unit s counts in (none for a
// unit not known; no lot counters for a unit without a GTIN).
func lotCountKeys(out []string, s *unit.State) []string {
	if !s.Known() {
		return out
	}
	if s.Order != "" && !s.Key.IsContainer() &&
		(s.Status == unit.StatusPicked || s.Status == unit.StatusPacked || s.Status == unit.StatusShipped) {
		out = append(out, string(append(key(tOrderCount, s.Order, ""), byte(s.Status))))
	}
	g := s.Key.GTIN()
	if g == "" {
		return out
	}
	base := key(tLotCount, g, s.Lot, "")
	k := func(kind byte, rest ...byte) string {
		b := make([]byte, 0, len(base)+1+len(rest))
		b = append(append(append(b, base...), kind), rest...)
		return string(b)
	}
	out = append(out, k(lcStatus, byte(s.Status)))
	switch {
	case here(s.Status):
		out = append(out, k(lcLocation, []byte(s.Location)...))
		if s.Holds != 0 {
			out = append(out, k(lcHeld))
		}
	case s.Status == unit.StatusShipped:
		sec := s.Since.Millis() / 1000
		rest := binary.BigEndian.AppendUint64(append([]byte(s.Shipment), 0), uint64(sec))
		out = append(out, k(lcShipment, rest...))
	}
	return out
}

// countLot notes the change of unit old into s in the transaction's
// counter deltas.
func (t *Tx) countLot(old, s *unit.State) {
	if old.Known() && old.Lot == s.Lot && old.Status == s.Status && old.Location == s.Location && old.Order == s.Order &&
		(old.Holds == 0) == (s.Holds == 0) && old.Shipment == s.Shipment && old.Since.Millis()/1000 == s.Since.Millis()/1000 {
		return
	}
	var ob, nb [5]string
	ok, nk := lotCountKeys(ob[:0], old), lotCountKeys(nb[:0], s)
	if t.lotc == nil {
		t.lotc = map[string]int64{}
	}
	for _, k := range ok {
		if !slices.Contains(nk, k) {
			t.lotc[k]--
		}
	}
	for _, k := range nk {
		if !slices.Contains(ok, k) {
			t.lotc[k]++
		}
	}
}

// flushLotCounts adds the transaction's counter deltas to the stored
// counts, in key order.
func (t *Tx) flushLotCounts() error {
	keys := make([]string, 0, len(t.lotc))
	for k, d := range t.lotc {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		kb := []byte(k)
		var n int64
		b, err := t.get(kb)
		switch {
		case err == nil:
			v, w := binary.Uvarint(b)
			if w <= 0 || w != len(b) {
				return corrupt(kb, errors.New("lot count"))
			}
			n = int64(v)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		n += t.lotc[k]
		switch {
		case n < 0:
			return corrupt(kb, fmt.Errorf("lot count below zero (%d)", n))
		case n == 0:
			err = t.del(kb)
		default:
			err = t.set(kb, binary.AppendUvarint(nil, uint64(n)))
		}
		if err != nil {
			return err
		}
	}
	clear(t.lotc)
	return nil
}

// ShipmentCount is how many units of a lot one shipment took, and the
// second the last of them shipped.
type ShipmentCount struct {
	Shipment string
	Units    int
	Last     time.Time
}

// LotCounts are one lot's counters.
type LotCounts struct {
	GTIN, Lot  string
	Total      int                 // every unit of the lot
	ByStatus   map[unit.Status]int // every unit, by status
	ByLocation map[string]int      // units here, by location ("" for none)
	Here       int                 // units here (in stock, picked, packed)
	HereHeld   int                 // units here with holds of their own
	Shipped    []ShipmentCount     // shipped units, by shipment id
}

// LotCounts returns the counters of one lot of a GTIN or, with anyLot,
// of each of its lots (in lot order), from the counters the write path
// keeps. Lots without units are left out.
func (r *Reader) LotCounts(gtin, lot string, anyLot bool) ([]LotCounts, error) {
	if gtin == "" {
		return nil, nil
	}
	prefix := key(tLotCount, gtin, "")
	if !anyLot {
		prefix = key(tLotCount, gtin, lot, "")
	}
	var out []LotCounts
	var cur *LotCounts
	err := r.scan(prefix, nil, true, func(k, v []byte) (bool, error) {
		rest := k[len(key(tLotCount, gtin, "")):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 || i+1 >= len(rest) {
			return false, corrupt(k, errors.New("lot count key"))
		}
		l, kind, tail := string(rest[:i]), rest[i+1], rest[i+2:]
		n, w := binary.Uvarint(v)
		if w <= 0 || w != len(v) {
			return false, corrupt(k, errors.New("lot count"))
		}
		if cur == nil || cur.Lot != l {
			out = append(out, LotCounts{GTIN: gtin, Lot: l, ByStatus: map[unit.Status]int{}, ByLocation: map[string]int{}})
			cur = &out[len(out)-1]
		}
		switch kind {
		case lcStatus:
			if len(tail) != 1 {
				return false, corrupt(k, errors.New("lot count status"))
			}
			cur.ByStatus[unit.Status(tail[0])] += int(n)
			cur.Total += int(n)
		case lcLocation:
			cur.ByLocation[string(tail)] += int(n)
			cur.Here += int(n)
		case lcHeld:
			cur.HereHeld += int(n)
		case lcShipment:
			j := bytes.IndexByte(tail, 0)
			if j < 0 || len(tail)-j-1 != 8 {
				return false, corrupt(k, errors.New("lot count shipment"))
			}
			id, at := string(tail[:j]), time.Unix(int64(binary.BigEndian.Uint64(tail[j+1:])), 0).UTC()
			if m := len(cur.Shipped); m > 0 && cur.Shipped[m-1].Shipment == id {
				cur.Shipped[m-1].Units += int(n)
				if at.After(cur.Shipped[m-1].Last) {
					cur.Shipped[m-1].Last = at
				}
			} else {
				cur.Shipped = append(cur.Shipped, ShipmentCount{Shipment: id, Units: int(n), Last: at})
			}
		default:
			return false, corrupt(k, errors.New("lot count kind"))
		}
		return true, nil
	})
	return out, err
}

// countUnits computes every lot counter from the unit records.
func countUnits(r *Reader) (map[string]int64, error) {
	counts := map[string]int64{}
	var ks [5]string
	err := r.scan([]byte{tUnit}, nil, true, func(k, v []byte) (bool, error) {
		s, err := decodeUnit(event.Key(k[1:]), v)
		if err != nil {
			return false, corrupt(k, err)
		}
		for _, ck := range lotCountKeys(ks[:0], &s) {
			counts[ck]++
		}
		return true, nil
	})
	return counts, err
}

// lotCountsKept reports whether the state keeps the counters, in this
// layout.
func (r *Reader) lotCountsKept() (bool, error) {
	v, err := r.get(keyLotCounts)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && bytes.Equal(v, []byte{lotCountVersion}), err
}

// ensureLotCounts builds the lot counters from the unit records when the
// state does not keep them yet (a data directory or a snapshot from
// before they existed), then marks the state as keeping them. The result
// depends on the unit records only, so every replica builds the same.
func (s *Store) ensureLotCounts() error {
	var kept bool
	if err := s.View(func(r *Reader) error { var err error; kept, err = r.lotCountsKept(); return err }); err != nil {
		return err
	}
	if kept {
		return nil
	}
	if err := s.db.DropPrefix([]byte{tLotCount}, []byte{tOrderCount}); err != nil {
		return fmt.Errorf("lot counts: %w", err)
	}
	var counts map[string]int64
	if err := s.View(func(r *Reader) error { var err error; counts, err = countUnits(r); return err }); err != nil {
		return fmt.Errorf("lot counts: %w", err)
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wb := s.db.NewWriteBatch()
	for _, k := range keys {
		if err := wb.Set([]byte(k), binary.AppendUvarint(nil, uint64(counts[k]))); err != nil {
			wb.Cancel()
			return fmt.Errorf("lot counts: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("lot counts: %w", err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyLotCounts, []byte{lotCountVersion}) }); err != nil {
		return fmt.Errorf("lot counts: %w", err)
	}
	return nil
}

// VerifyLotCounts recounts every lot counter from the unit records and
// compares them with the stored ones; the first difference is an
// ErrCorrupt.
func (r *Reader) VerifyLotCounts() error {
	want, err := countUnits(r)
	if err != nil {
		return err
	}
	seen := 0
	for _, t := range []byte{tLotCount, tOrderCount} {
		err = r.scan([]byte{t}, nil, true, func(k, v []byte) (bool, error) {
			n, w := binary.Uvarint(v)
			if w <= 0 || w != len(v) {
				return false, corrupt(k, errors.New("lot count"))
			}
			if int64(n) != want[string(k)] {
				return false, corrupt(k, fmt.Errorf("count %d, the units say %d", n, want[string(k)]))
			}
			seen++
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	if seen != len(want) {
		for k, n := range want {
			if ok, err := r.has([]byte(k)); err != nil || !ok {
				return corrupt([]byte(k), fmt.Errorf("count missing, the units say %d", n))
			}
		}
	}
	return nil
}

// OrderCounts are the units of an order (not containers) picked, packed
// and shipped.
type OrderCounts struct {
	Picked, Packed, Shipped int
}

// OrderCounts returns an order's counters.
func (r *Reader) OrderCounts(order string) (OrderCounts, error) {
	var c OrderCounts
	if order == "" {
		return c, nil
	}
	prefix := key(tOrderCount, order, "")
	err := r.scan(prefix, nil, true, func(k, v []byte) (bool, error) {
		n, w := binary.Uvarint(v)
		if w <= 0 || w != len(v) || len(k) != len(prefix)+1 {
			return false, corrupt(k, errors.New("order count"))
		}
		switch unit.Status(k[len(prefix)]) {
		case unit.StatusPicked:
			c.Picked = int(n)
		case unit.StatusPacked:
			c.Packed = int(n)
		case unit.StatusShipped:
			c.Shipped = int(n)
		default:
			return false, corrupt(k, errors.New("order count status"))
		}
		return true, nil
	})
	return c, err
}
