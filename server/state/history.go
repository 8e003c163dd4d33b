package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Events: e id → the event as committed, the raft index that applied it
// and what it did. History: h key 0 index pos → event id, one entry per
// unit the event reached (containers' contents included), so a unit's
// history is one prefix scan in log order.

// Record is an event as the site applied it.
type Record struct {
	Event  event.Event  `json:"event"`
	Index  uint64       `json:"index"`
	Result *unit.Result `json:"result,omitempty"` // nil when the event was rejected before evaluation
	Reason string       `json:"reason,omitempty"` // why it was rejected
}

func encodeRecord(rec *Record) ([]byte, error) {
	b := binary.AppendUvarint(nil, rec.Index)
	eb := rec.Event.AppendBinary(nil)
	b = binary.AppendUvarint(b, uint64(len(eb)))
	b = append(b, eb...)
	b = binary.AppendUvarint(b, uint64(len(rec.Reason)))
	b = append(b, rec.Reason...)
	if rec.Result != nil {
		b = appendResult(b, rec.Result)
	}
	return b, nil
}

// Result encoding: a version byte, the verdict, the reason, the subjects
// (key, verdict, reason, exception ids, via, version) and the order lines
// to reopen.
const resultCodec = 1

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendResult(b []byte, r *unit.Result) []byte {
	b = append(b, resultCodec, byte(r.Verdict))
	b = appendStr(b, r.Reason)
	b = binary.AppendUvarint(b, uint64(len(r.Subjects)))
	for _, s := range r.Subjects {
		b = appendStr(b, string(s.Key))
		b = append(b, byte(s.Verdict))
		b = appendStr(b, s.Reason)
		b = binary.AppendUvarint(b, uint64(len(s.Exceptions)))
		for _, x := range s.Exceptions {
			b = appendStr(b, x)
		}
		b = appendStr(b, string(s.Via))
		b = binary.AppendUvarint(b, s.Version)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Reopen)))
	for _, o := range r.Reopen {
		b = appendStr(b, o.Order)
		b = appendStr(b, o.Line)
	}
	return b
}

type rdr struct {
	b   []byte
	bad bool
}

func (r *rdr) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rdr) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rdr) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}

// count reads a list length no longer than the bytes left could hold.
func (r *rdr) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad = true
		return 0
	}
	return int(n)
}

func decodeResult(b []byte) (*unit.Result, error) {
	r := &rdr{b: b}
	if r.byte() != resultCodec {
		return nil, fmt.Errorf("%w: result version", ErrCorrupt)
	}
	res := &unit.Result{Verdict: unit.Verdict(r.byte()), Reason: r.str()}
	if n := r.count(); n > 0 {
		res.Subjects = make([]unit.SubjectResult, n)
		for i := range res.Subjects {
			s := &res.Subjects[i]
			s.Key, s.Verdict, s.Reason = event.Key(r.str()), unit.Verdict(r.byte()), r.str()
			if m := r.count(); m > 0 {
				s.Exceptions = make([]string, m)
				for j := range s.Exceptions {
					s.Exceptions[j] = r.str()
				}
			}
			s.Via, s.Version = event.Key(r.str()), r.uvarint()
			if r.bad {
				break
			}
		}
	}
	if n := r.count(); n > 0 {
		res.Reopen = make([]unit.OrderLine, n)
		for i := range res.Reopen {
			res.Reopen[i] = unit.OrderLine{Order: r.str(), Line: r.str()}
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, fmt.Errorf("%w: result", ErrCorrupt)
	}
	return res, nil
}

func decodeRecord(b []byte) (Record, error) {
	var rec Record
	bad := fmt.Errorf("%w: event record", ErrCorrupt)
	idx, w := binary.Uvarint(b)
	if w <= 0 {
		return rec, bad
	}
	rec.Index, b = idx, b[w:]
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return rec, bad
	}
	if err := rec.Event.UnmarshalBinary(b[w : w+int(n)]); err != nil {
		return rec, fmt.Errorf("%w: %v", bad, err)
	}
	b = b[w+int(n):]
	n, w = binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return rec, bad
	}
	rec.Reason = string(b[w : w+int(n)])
	b = b[w+int(n):]
	if len(b) > 0 {
		res, err := decodeResult(b)
		if err != nil {
			return rec, err
		}
		rec.Result = res
	}
	return rec, nil
}

// PutEvent stores an applied (or rejected) event and, for every unit its
// result reached, a history entry. pos is the event's place in its entry.
func (t *Tx) PutEvent(rec *Record, pos uint32) error {
	b, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if err := t.set(append([]byte{tEvent}, rec.Event.ID[:]...), b); err != nil {
		return err
	}
	if rec.Result == nil {
		return nil
	}
	if err := t.putActivity(rec); err != nil {
		return err
	}
	for _, s := range rec.Result.Subjects {
		if err := t.PutHistory(s.Key, rec, pos); err != nil {
			return err
		}
	}
	return nil
}

// PutHistory adds the stored event rec (at pos in its entry) to the
// history of k, which it reached without being one of its result's
// subjects: the container a pack filled, the contents of a container
// verified.
func (t *Tx) PutHistory(k event.Key, rec *Record, pos uint32) error {
	var suffix [12]byte
	binary.BigEndian.PutUint64(suffix[:8], rec.Index)
	binary.BigEndian.PutUint32(suffix[8:], pos)
	return t.set(append(key(tHistory, string(k), ""), suffix[:]...), rec.Event.ID[:])
}

// Event returns one stored event.
func (r *Reader) Event(id event.ID) (Record, error) {
	b, err := r.get(append([]byte{tEvent}, id[:]...))
	if err != nil {
		return Record{}, err
	}
	return decodeRecord(b)
}

// History lists the events that reached unit k, in log order (at most
// limit when limit > 0, the latest ones).
func (r *Reader) History(k event.Key, limit int) ([]Record, error) {
	prefix := key(tHistory, string(k), "")
	var ids []event.ID
	err := r.scan(prefix, nil, true, func(_, v []byte) (bool, error) {
		if len(v) != 16 {
			return false, fmt.Errorf("%w: history entry", ErrCorrupt)
		}
		ids = append(ids, event.ID(v))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(ids) > limit {
		ids = ids[len(ids)-limit:]
	}
	out := make([]Record, 0, len(ids))
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			continue
		}
		rec, err := r.Event(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
