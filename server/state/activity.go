package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// The activity index: every receipt and every shipping event a client
// had at the site, by the time the event carries (its HLC, the device's
// clock when the work was done, not the time it reached the site), so
// that "what was received or shipped between two times" answers from
// the window's keys instead of reading every ASN, shipment or unit.
//
//	r client 0 kind ms id → uvarint units, then the ASN or shipment id
//	r client 0 E ms id    → "" (every stored event of the client)
//
// kind is actReceive or actShip; ms the event's HLC in milliseconds
// (8 bytes, big-endian); id the event id (16 bytes); units the saleable
// units (not containers) the event reached and did not refuse, through
// its containers too. An event whose every subject was refused, or that
// was rejected, is not indexed as a receipt or shipment; nor is a scan
// that changed nothing (merged: the same case scanned twice). The E keys
// list every applied event of a client that has an EPCIS form, by the
// same time: a client's events of a period (its EPCIS) are read from them.
//
// The index is written by PutEvent and rebuilt from the stored events
// when a state has none (keyActivity absent: a data directory or a
// snapshot of an older version). Like the lot counters it is left out
// of Hash: it is a function of the event records, which are hashed.

// tActivity is the activity index's table.
const tActivity byte = 'r'

// Kinds of activity (the byte after the client).
const (
	actReceive byte = 'R'
	actShip    byte = 'S'
	actEvent   byte = 'E'
)

// keyActivity marks a state that keeps the activity index (value: the
// layout version).
var keyActivity = []byte{tMeta, 'a', 'c', 't', 'i', 'v', 'i', 't', 'y'}

// activityVersion is the index's layout; a state marked with another
// builds it again.
const activityVersion = 3 // 1: receipts and shipments only; 2: every event's time, merged scans counted

// activityKind is the index kind of an event of kind k (0: not indexed).
func activityKind(k event.Kind) byte {
	switch k {
	case event.KindReceive:
		return actReceive
	case event.KindShip:
		return actShip
	}
	return 0
}

// activityEntry is the index key and value of a stored event (nil when
// the event is not indexed).
func activityEntry(rec *Record) (k, v []byte) {
	ev := &rec.Event
	kind := activityKind(ev.Kind)
	if kind == 0 || rec.Result == nil || ev.Client == "" {
		return nil, nil
	}
	took, units := false, 0
	for _, s := range rec.Result.Subjects {
		if s.Verdict == unit.VerdictRefused || s.Verdict == unit.VerdictMerged {
			continue // refused, or already so (a second scan of the same case)
		}
		took = true
		if !s.Key.IsContainer() {
			units++
		}
	}
	if !took {
		return nil, nil
	}
	k = append(key(tActivity, ev.Client, ""), kind)
	k = binary.BigEndian.AppendUint64(k, uint64(max(ev.HLC.Millis(), 0)))
	k = append(k, ev.ID[:]...)
	ref := ev.Ctx.ASN
	if kind == actShip {
		ref = ev.Ctx.Shipment
	}
	v = binary.AppendUvarint(nil, uint64(units))
	return k, append(v, ref...)
}

// eventTimeKey is the E key of a stored event: nil for an event that
// was rejected (PutEvent indexes applied events only, and a rebuild must
// give what live writes gave), has no client or has no EPCIS form (an
// ASN's announcements, notes).
func eventTimeKey(rec *Record) []byte {
	ev := &rec.Event
	if rec.Result == nil || ev.Client == "" || ev.EPCIS().Type == "" {
		return nil
	}
	k := append(key(tActivity, ev.Client, ""), actEvent)
	k = binary.BigEndian.AppendUint64(k, uint64(max(ev.HLC.Millis(), 0)))
	return append(k, ev.ID[:]...)
}

// putActivity indexes a stored event (PutEvent).
func (t *Tx) putActivity(rec *Record) error {
	if k := eventTimeKey(rec); k != nil {
		if err := t.set(k, nil); err != nil {
			return err
		}
	}
	k, v := activityEntry(rec)
	if k == nil {
		return nil
	}
	return t.set(k, v)
}

// ClientEvents calls fn for the stored events of client whose time (HLC)
// is in [from, to), in time order, until fn returns false: the window's
// keys of the activity index, then each event's record.
func (r *Reader) ClientEvents(client string, from, to time.Time, fn func(Record) (bool, error)) error {
	if client == "" || !from.Before(to) {
		return nil
	}
	prefix := append(key(tActivity, client, ""), actEvent)
	start := binary.BigEndian.AppendUint64(bytes.Clone(prefix), ceilMillis(from))
	end := ceilMillis(to)
	return r.scan(prefix, start, false, func(k, _ []byte) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+len(event.ID{}) {
			return false, corrupt(k, errors.New("event time key"))
		}
		if binary.BigEndian.Uint64(rest[:8]) >= end {
			return false, nil
		}
		var id event.ID
		copy(id[:], rest[8:])
		rec, err := r.Event(id)
		if errors.Is(err, ErrNotFound) {
			return false, corrupt(k, errors.New("event time key of no event"))
		}
		if err != nil {
			return false, err
		}
		if t := rec.Event.HLC.Time(); t.Before(from) || !t.Before(to) {
			return true, nil // the same millisecond, outside by its finer part
		}
		return fn(rec)
	})
}

// ActivityCounts are what one client received and shipped in a window.
type ActivityCounts struct {
	// Receipts are the receive events; ReceivedUnits the saleable units
	// they took in (through cases and pallets too); ASNs the distinct
	// ASNs they received against.
	Receipts, ReceivedUnits, ASNs int
	// Shipping are the ship events; ShippedUnits the saleable units
	// they shipped; Shipments the distinct shipments they shipped on.
	Shipping, ShippedUnits, Shipments int
}

// Activity counts what client received and shipped with event times in
// [from, to), from the activity index (the keys of the window only).
func (r *Reader) Activity(client string, from, to time.Time) (ActivityCounts, error) {
	var c ActivityCounts
	if client == "" || !from.Before(to) {
		return c, nil
	}
	for _, kind := range []byte{actReceive, actShip} {
		prefix := append(key(tActivity, client, ""), kind)
		start := binary.BigEndian.AppendUint64(bytes.Clone(prefix), ceilMillis(from))
		end := ceilMillis(to)
		refs := map[string]bool{}
		err := r.scanFrom(prefix, start, func(k, v []byte) (bool, error) {
			rest := k[len(prefix):]
			if len(rest) != 8+len(event.ID{}) {
				return false, corrupt(k, errors.New("activity key"))
			}
			if binary.BigEndian.Uint64(rest[:8]) >= end {
				return false, nil
			}
			n, w := binary.Uvarint(v)
			if w <= 0 {
				return false, corrupt(k, errors.New("activity value"))
			}
			ref := string(v[w:])
			if kind == actReceive {
				c.Receipts++
				c.ReceivedUnits += int(n)
				if ref != "" && !refs[ref] {
					refs[ref] = true
					c.ASNs++
				}
			} else {
				c.Shipping++
				c.ShippedUnits += int(n)
				if ref != "" && !refs[ref] {
					refs[ref] = true
					c.Shipments++
				}
			}
			return true, nil
		})
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// scanFrom calls fn for the keys under prefix from start (inclusive) in
// key order, with their values, until fn says stop.
func (r *Reader) scanFrom(prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	it := r.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("state scan: %w", err)
		}
		more, err := fn(item.Key(), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// activityKept reports whether the state keeps the activity index, in
// this layout.
func (r *Reader) activityKept() (bool, error) {
	v, err := r.get(keyActivity)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && bytes.Equal(v, []byte{activityVersion}), err
}

// ensureActivity builds the activity index from the stored events when
// the state does not keep it yet, then marks the state as keeping it.
// The result depends on the event records only, so every replica builds
// the same.
func (s *Store) ensureActivity() error {
	var kept bool
	if err := s.View(func(r *Reader) error { var err error; kept, err = r.activityKept(); return err }); err != nil {
		return err
	}
	if kept {
		return nil
	}
	if err := s.db.DropPrefix([]byte{tActivity}); err != nil {
		return fmt.Errorf("activity index: %w", err)
	}
	wb := s.db.NewWriteBatch()
	err := s.View(func(r *Reader) error {
		return r.scan([]byte{tEvent}, nil, true, func(k, v []byte) (bool, error) {
			rec, err := decodeRecord(v)
			if err != nil {
				return false, corrupt(k, err)
			}
			if ak, av := activityEntry(&rec); ak != nil {
				if err := wb.Set(ak, av); err != nil {
					return false, err
				}
			}
			if ek := eventTimeKey(&rec); ek != nil {
				if err := wb.Set(ek, nil); err != nil {
					return false, err
				}
			}
			return true, nil
		})
	})
	if err != nil {
		wb.Cancel()
		return fmt.Errorf("activity index: %w", err)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("activity index: %w", err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyActivity, []byte{activityVersion}) }); err != nil {
		return fmt.Errorf("activity index: %w", err)
	}
	return nil
}

// ensureDerived builds the indexes derived from other records that the
// state does not keep yet (lot counters, activity).
func (s *Store) ensureDerived() error {
	if err := s.ensureLotCounts(); err != nil {
		return err
	}
	return s.ensureActivity()
}

// ceilMillis is t in whole milliseconds since 1970, rounded up (0 before
// 1970): an index key holds an event's time in milliseconds, and the
// events in [from, to) are the keys in [ceilMillis(from), ceilMillis(to)).
func ceilMillis(t time.Time) uint64 {
	if t.Before(time.Unix(0, 0)) {
		return 0
	}
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return uint64(ms)
}
