package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Units: u key → state, in a compact binary form. Indexes kept with
// every write: by lot (l), by container (c), by location (p), by status
// (s) and units with holds of their own (o).

// Unit record versions. Version 1 (written) carries the unit key in the
// value too; version 2, which takes it from the record's key and is 38
// bytes shorter, is read but not yet written: replicas hash their records'
// bytes and older binaries cannot read it, so switching needs a point in
// the log every replica passes (a format command), not a new binary.
const (
	unitCodec      = 1
	unitCodecNoKey = 2
)

func encodeUnit(s *unit.State) []byte {
	b := make([]byte, 0, 128)
	b = append(b, unitCodec, byte(s.Status), byte(s.Holds), byte(s.Completeness))
	for _, f := range [...]string{string(s.Key), s.Client, s.Lot, s.Expiry, s.Location, string(s.Parent), s.ASN, s.Order, s.Line, s.Shipment, s.LastDevice} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, s.Version)
	b = append(b, s.LastEvent[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Updated))
	return binary.BigEndian.AppendUint64(b, uint64(s.Since))
}

// decodeUnit decodes the record of unit k.
func decodeUnit(k event.Key, b []byte) (unit.State, error) {
	var s unit.State
	bad := fmt.Errorf("%w: unit", ErrCorrupt)
	if len(b) < 4 || b[0] != unitCodec && b[0] != unitCodecNoKey {
		return s, bad
	}
	s.Status, s.Holds, s.Completeness = unit.Status(b[1]), event.Holds(b[2]), unit.Completeness(b[3])
	v1 := b[0] == unitCodec
	b = b[4:]
	var strs [11]string
	fields := strs[1:]
	if v1 {
		fields = strs[:]
	}
	for i := range fields {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return s, bad
		}
		fields[i] = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	if v1 && event.Key(strs[0]) != k {
		return s, bad
	}
	s.Key, s.Client, s.Lot, s.Expiry, s.Location = k, strs[1], strs[2], strs[3], strs[4]
	s.Parent, s.ASN, s.Order, s.Line, s.Shipment, s.LastDevice = event.Key(strs[5]), strs[6], strs[7], strs[8], strs[9], strs[10]
	v, w := binary.Uvarint(b)
	if w <= 0 || len(b)-w != 16+16 {
		return s, bad
	}
	s.Version = v
	b = b[w:]
	copy(s.LastEvent[:], b[:16])
	s.Updated = hlc.Timestamp(binary.BigEndian.Uint64(b[16:]))
	s.Since = hlc.Timestamp(binary.BigEndian.Uint64(b[24:]))
	return s, nil
}

// Unit returns the unit's state; the zero State when unknown.
func (r *Reader) Unit(k event.Key) (unit.State, error) {
	b, err := r.get(key(tUnit, string(k)))
	if errors.Is(err, ErrNotFound) {
		return unit.State{}, nil
	}
	if err != nil {
		return unit.State{}, err
	}
	return decodeUnit(k, b)
}

// Children lists the direct contents of a container, in key order.
func (r *Reader) Children(parent event.Key) ([]event.Key, error) {
	prefix := key(tChild, string(parent), "")
	var out []event.Key
	err := r.scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
		out = append(out, event.Key(k[len(prefix):]))
		return true, nil
	})
	return out, err
}

// Page is a page of a list: the items and, when there may be more, the
// cursor to pass as After for the next page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// UnitFilter selects units for Units.
type UnitFilter struct {
	GTIN, Lot string // by lot; with AnyLot, every unit of the GTIN
	AnyLot    bool
	Parent    event.Key   // by container
	Location  string      // by location
	Status    unit.Status // by status (StatusNone: any)
	Held      bool        // units on hold: their own holds, and (with a GTIN) lot and product holds
	Client    func(string) bool
	After     string // cursor: the last key of the previous page
	Limit     int    // 0: no limit
}

// Units lists units through the most selective index the filter names,
// in key order; Client filters out units the caller may not see.
func (r *Reader) Units(f UnitFilter) (Page[unit.State], error) {
	var prefix []byte
	strip := -1 // how much of a key is not the unit key (-1: the whole prefix)
	switch {
	case f.GTIN != "" && f.Lot == "" && f.AnyLot:
		prefix, strip = append([]byte{tUnit}, "01"+f.GTIN...), 1
	case f.GTIN != "":
		prefix = key(tLot, f.GTIN, f.Lot, "")
	case f.Parent != "":
		prefix = key(tChild, string(f.Parent), "")
	case f.Location != "":
		prefix = key(tLocation, f.Location, "")
	case f.Status != unit.StatusNone:
		prefix = []byte{tStatus, byte(f.Status)}
	case f.Held:
		prefix = []byte{tHeld}
	default:
		prefix = []byte{tUnit}
	}
	if strip < 0 {
		strip = len(prefix)
	}
	var after []byte
	if f.After != "" {
		after = append(append([]byte(nil), prefix[:strip]...), f.After...)
	}
	var page Page[unit.State]
	inherited := map[string]event.Holds{}
	err := r.scan(prefix, after, false, func(k, _ []byte) (bool, error) {
		uk := event.Key(k[strip:])
		st, err := r.Unit(uk)
		if err != nil {
			return false, err
		}
		if !st.Known() {
			return true, nil
		}
		if f.Held && st.Holds == 0 && f.GTIN != "" {
			// Held through a lot or product hold (the held index lists
			// only units with holds of their own).
			ck := st.Key.GTIN() + "\x00" + st.Lot
			h, ok := inherited[ck]
			if !ok {
				if h, err = r.Inherited(st); err != nil {
					return false, err
				}
				inherited[ck] = h
			}
			if h == 0 {
				return true, nil
			}
		} else if f.Held && st.Holds == 0 {
			return true, nil
		}
		if f.Status != unit.StatusNone && st.Status != f.Status ||
			f.Location != "" && st.Location != f.Location || f.Client != nil && !f.Client(st.Client) {
			return true, nil
		}
		if f.Limit > 0 && len(page.Items) == f.Limit {
			page.Next = string(page.Items[len(page.Items)-1].Key)
			return false, nil
		}
		page.Items = append(page.Items, st)
		return true, nil
	})
	return page, err
}

// Unit returns the unit's state, from the transaction's cache when it
// was read or written before.
func (t *Tx) Unit(k event.Key) (unit.State, error) {
	if s, ok := t.units[k]; ok {
		return s, nil
	}
	rec, ok := t.cache.get(k)
	if !ok {
		var err error
		rec, err = t.Reader.get(key(tUnit, string(k)))
		if errors.Is(err, ErrNotFound) {
			rec = []byte{}
		} else if err != nil {
			return unit.State{}, err
		}
		t.enc[k] = rec
	}
	var s unit.State
	if len(rec) > 0 {
		var err error
		if s, err = decodeUnit(k, rec); err != nil {
			return unit.State{}, err
		}
	}
	t.units[k] = s
	return s, nil
}

// PutUnit stores a unit's state and keeps its indexes.
func (t *Tx) PutUnit(s unit.State) error {
	if err := t.noteFeed(FeedUnit, string(s.Key)); err != nil {
		return err
	}
	old, err := t.Unit(s.Key)
	if err != nil {
		return err
	}
	t.units[s.Key] = s
	t.countLot(&old, &s)
	k := string(s.Key)
	if old.Known() {
		if old.Lot != s.Lot && old.Key.GTIN() != "" {
			if err := t.del(key(tLot, old.Key.GTIN(), old.Lot, k)); err != nil {
				return err
			}
		}
		if old.Parent != "" && old.Parent != s.Parent {
			if err := t.del(key(tChild, string(old.Parent), k)); err != nil {
				return err
			}
		}
		if old.Location != "" && old.Location != s.Location {
			if err := t.del(key(tLocation, old.Location, k)); err != nil {
				return err
			}
		}
		if old.Status != s.Status {
			if err := t.del(append([]byte{tStatus, byte(old.Status)}, k...)); err != nil {
				return err
			}
		}
		if old.Holds != 0 && s.Holds == 0 {
			if err := t.del(key(tHeld, k)); err != nil {
				return err
			}
		}
	}
	rec := encodeUnit(&s)
	if err := t.set(key(tUnit, k), rec); err != nil {
		return err
	}
	t.enc[s.Key] = rec
	if g := s.Key.GTIN(); g != "" && (!old.Known() || old.Lot != s.Lot) {
		if err := t.set(key(tLot, g, s.Lot, k), nil); err != nil {
			return err
		}
	}
	if s.Parent != "" && old.Parent != s.Parent {
		if err := t.set(key(tChild, string(s.Parent), k), nil); err != nil {
			return err
		}
	}
	if s.Location != "" && old.Location != s.Location {
		if err := t.set(key(tLocation, s.Location, k), nil); err != nil {
			return err
		}
	}
	if !old.Known() || old.Status != s.Status {
		if err := t.set(append([]byte{tStatus, byte(s.Status)}, k...), nil); err != nil {
			return err
		}
	}
	if s.Holds != 0 && old.Holds != s.Holds {
		if err := t.set(key(tHeld, k), []byte{byte(s.Holds)}); err != nil {
			return err
		}
	}
	return nil
}
