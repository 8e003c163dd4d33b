package state

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// The activity index: every event a client had at the site that has an
// EPCIS form, by the time the event carries (its HLC, the device's clock
// when the work was done, not the time it reached the site), so that a
// client's events of a period (its EPCIS) and "what was received or
// shipped between two times" answer from the period's keys instead of
// reading every event, ASN, shipment or unit.
//
//	r client 0 hour index part → records, one after another:
//	    ms (8) id (16) kind [uvarint units, uvarint length, ASN or shipment id]
//
// One key holds the client's events of one raft entry whose times fall
// in one hour (hours since 1970, 8 bytes; index the entry's raft index;
// part 0, or the parts a rebuild wrote), so the index costs a key per
// entry and client, not per event: a coalesced entry of hundreds of
// events writes one or a few. ms is the event's HLC in milliseconds; id
// the event id. kind is actReceive or actShip for a receipt or a
// shipment, with the saleable units (not containers) it reached and
// changed, through its containers too, and its ASN or shipment; actEvent
// for any other event, and for a receipt or shipment that changed
// nothing (every subject refused, or already so: the same case scanned
// twice). A rejected event is not indexed, nor one without a client or
// an EPCIS form (an ASN's announcements, notes). Readers sort what they
// read by time and id: the order within a key is not meaningful.
//
// The index is written by Commit from what PutEvent gathered, and
// rebuilt from the stored events when a state has none (keyActivity
// absent: a data directory or a snapshot of an older version). Like the
// lot counters it is left out of Hash: it is a function of the event
// records, which are hashed.

// tActivity is the activity index's table.
const tActivity byte = 'r'

// Kinds of activity (the byte after a record's id).
const (
	actReceive byte = 'R'
	actShip    byte = 'S'
	actEvent   byte = 'E'
)

// keyActivity marks a state that keeps the activity index (value: the
// layout version).
var keyActivity = []byte{tMeta, 'a', 'c', 't', 'i', 'v', 'i', 't', 'y'}

// activityVersion is the index's layout; a state marked with another
// builds it again (1: receipts and shipments only; 2–4: a key per event).
const activityVersion = 5

// msPerHour is the span of one index key's times.
const msPerHour = uint64(time.Hour / time.Millisecond)

// actGroup names one key of the index but for its part.
type actGroup struct {
	client string
	hour   uint64
	index  uint64
}

func (g actGroup) key(part uint16) []byte {
	k := make([]byte, 0, 2+len(g.client)+8+8+2)
	k = append(append(append(k, tActivity), g.client...), 0)
	k = binary.BigEndian.AppendUint64(k, g.hour)
	k = binary.BigEndian.AppendUint64(k, g.index)
	return binary.BigEndian.AppendUint16(k, part)
}

// actGroupOf is the group of a stored event's index record; ok is false
// when the event is not indexed.
func actGroupOf(rec *Record) (actGroup, bool) {
	ev := &rec.Event
	if rec.Result == nil || ev.Client == "" || ev.EPCIS().Type == "" {
		return actGroup{}, false
	}
	return actGroup{client: ev.Client, hour: uint64(max(ev.HLC.Millis(), 0)) / msPerHour, index: rec.Index}, true
}

// appendActRecord appends the index record of an indexed event to b.
func appendActRecord(b []byte, rec *Record) []byte {
	ev := &rec.Event
	b = binary.BigEndian.AppendUint64(b, uint64(max(ev.HLC.Millis(), 0)))
	b = append(b, ev.ID[:]...)
	kind, ref := byte(0), ""
	switch ev.Kind {
	case event.KindReceive:
		kind, ref = actReceive, ev.Ctx.ASN
	case event.KindShip:
		kind, ref = actShip, ev.Ctx.Shipment
	}
	took, units := false, 0
	if kind != 0 {
		for _, s := range rec.Result.Subjects {
			if s.Verdict == unit.VerdictRefused || s.Verdict == unit.VerdictMerged {
				continue
			}
			took = true
			if !s.Key.IsContainer() {
				units++
			}
		}
	}
	if !took {
		return append(b, actEvent)
	}
	b = binary.AppendUvarint(append(b, kind), uint64(units))
	b = binary.AppendUvarint(b, uint64(len(ref)))
	return append(b, ref...)
}

// actRec is one decoded record of the index.
type actRec struct {
	ms    uint64
	id    event.ID
	kind  byte
	units uint64
	ref   string
}

// decodeActivity calls fn for each record of one index value.
func decodeActivity(k, v []byte, fn func(actRec)) error {
	bad := func() error { return corrupt(k, errors.New("activity record")) }
	for len(v) > 0 {
		if len(v) < 8+16+1 {
			return bad()
		}
		var r actRec
		r.ms = binary.BigEndian.Uint64(v)
		copy(r.id[:], v[8:24])
		r.kind = v[24]
		v = v[25:]
		switch r.kind {
		case actEvent:
		case actReceive, actShip:
			n, w := binary.Uvarint(v)
			if w <= 0 {
				return bad()
			}
			r.units, v = n, v[w:]
			l, w := binary.Uvarint(v)
			if w <= 0 || uint64(len(v)-w) < l {
				return bad()
			}
			r.ref, v = string(v[w:w+int(l)]), v[w+int(l):]
		default:
			return bad()
		}
		fn(r)
	}
	return nil
}

// putActivity gathers the index record of a stored event (PutEvent);
// Commit writes them (flushActivity).
func (t *Tx) putActivity(rec *Record) error {
	g, ok := actGroupOf(rec)
	if !ok {
		return nil
	}
	if t.act == nil {
		t.act = map[actGroup][]byte{}
	}
	t.act[g] = appendActRecord(t.act[g], rec)
	return nil
}

// flushActivity writes the index keys the transaction gathered, part 0
// of each group (an entry applied again writes the same key again).
func (t *Tx) flushActivity() error {
	groups := make([]actGroup, 0, len(t.act))
	for g := range t.act {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b actGroup) int {
		return bytes.Compare(a.key(0), b.key(0))
	})
	for _, g := range groups {
		if err := t.set(g.key(0), t.act[g]); err != nil {
			return err
		}
	}
	t.act = nil
	return nil
}

// activityWindow calls fn for the index records of client whose time in
// whole milliseconds is in [ceil(from), ceil(to)), in time and id order.
func (r *Reader) activityWindow(client string, from, to time.Time, fn func(actRec) (bool, error)) error {
	if client == "" || !from.Before(to) {
		return nil
	}
	lo, hi := ceilMillis(from), ceilMillis(to)
	if lo >= hi {
		return nil
	}
	prefix := key(tActivity, client, "")
	start := binary.BigEndian.AppendUint64(bytes.Clone(prefix), lo/msPerHour)
	last := (hi - 1) / msPerHour
	var recs []actRec
	err := r.scanFrom(prefix, start, func(k, v []byte) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) != 8+8+2 {
			return false, corrupt(k, errors.New("activity key"))
		}
		if binary.BigEndian.Uint64(rest) > last {
			return false, nil
		}
		return true, decodeActivity(k, v, func(a actRec) {
			if a.ms >= lo && a.ms < hi {
				recs = append(recs, a)
			}
		})
	})
	if err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b actRec) int {
		if a.ms != b.ms {
			return cmp.Compare(a.ms, b.ms)
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	for i, a := range recs {
		if i > 0 && recs[i-1].id == a.id {
			continue // an event in two parts of a rebuild: once
		}
		if more, err := fn(a); err != nil || !more {
			return err
		}
	}
	return nil
}

// ClientEvents calls fn for the stored events of client whose time (HLC)
// is in [from, to), in time order, until fn returns false: the period's
// keys of the activity index, then each event's record.
func (r *Reader) ClientEvents(client string, from, to time.Time, fn func(Record) (bool, error)) error {
	return r.activityWindow(client, from, to, func(a actRec) (bool, error) {
		rec, err := r.Event(a.id)
		if errors.Is(err, ErrNotFound) {
			return false, corrupt(a.id[:], errors.New("activity record of no event"))
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
// [from, to), from the activity index (the period's keys only).
func (r *Reader) Activity(client string, from, to time.Time) (ActivityCounts, error) {
	var c ActivityCounts
	asns, ships := map[string]bool{}, map[string]bool{}
	err := r.activityWindow(client, from, to, func(a actRec) (bool, error) {
		switch a.kind {
		case actReceive:
			c.Receipts++
			c.ReceivedUnits += int(a.units)
			if a.ref != "" && !asns[a.ref] {
				asns[a.ref] = true
				c.ASNs++
			}
		case actShip:
			c.Shipping++
			c.ShippedUnits += int(a.units)
			if a.ref != "" && !ships[a.ref] {
				ships[a.ref] = true
				c.Shipments++
			}
		}
		return true, nil
	})
	return c, err
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

// rebuildChunk bounds the records a rebuild gathers before writing them.
const rebuildChunk = 64 << 20

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
	// The events are read in id order, not by entry: records gather by
	// group and are written as a group's next part whenever what is
	// gathered grows past rebuildChunk.
	wb := s.db.NewWriteBatch()
	groups := map[actGroup][]byte{}
	parts := map[actGroup]uint16{}
	size := 0
	flush := func() error {
		for g, b := range groups {
			if err := wb.Set(g.key(parts[g]), b); err != nil {
				return err
			}
			parts[g]++
		}
		clear(groups)
		size = 0
		return nil
	}
	err := s.View(func(r *Reader) error {
		return r.scan([]byte{tEvent}, nil, true, func(k, v []byte) (bool, error) {
			rec, err := decodeRecord(v)
			if err != nil {
				return false, corrupt(k, err)
			}
			g, ok := actGroupOf(&rec)
			if !ok {
				return true, nil
			}
			if parts[g] == ^uint16(0) {
				return false, fmt.Errorf("%w: too many parts of one entry's activity", ErrCorrupt)
			}
			n := len(groups[g])
			groups[g] = appendActRecord(groups[g], &rec)
			if size += len(groups[g]) - n; size > rebuildChunk {
				return true, flush()
			}
			return true, nil
		})
	})
	if err == nil {
		err = flush()
	}
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
