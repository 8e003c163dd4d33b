package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
)

// Pending lists up to max events not yet acknowledged by the site, in
// device sequence order (every pending event when max <= 0).
func (s *Store) Pending(max int) ([]event.Event, error) {
	var out []event.Event
	err := s.View(func(tx *Tx) error {
		return tx.scanValues([]byte{pOutbox}, func(_, id []byte) error {
			if max > 0 && len(out) >= max {
				return errStop
			}
			v, err := tx.get(append([]byte{pEvent}, id...))
			if err != nil {
				return fmt.Errorf("outbox event: %w", err)
			}
			var ev event.Event
			if err := ev.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: outbox event: %v", ErrCorrupt, err)
			}
			out = append(out, ev)
			return nil
		})
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}

var errStop = errors.New("stop")

// OutboxRange is the device's outbox as HELLO reports it: the epoch, the
// first pending and the last appended sequence numbers (First > Last when
// nothing is pending), and how many events are pending.
type OutboxRange struct {
	Epoch   uint32 `json:"epoch"`
	First   uint64 `json:"first"`
	Last    uint64 `json:"last"`
	Acked   uint64 `json:"acked"`
	Pending int    `json:"pending"`
}

// Outbox reports the outbox range.
func (s *Store) Outbox() (OutboxRange, error) {
	r := OutboxRange{Epoch: s.epoch}
	err := s.View(func(tx *Tx) error {
		last, err := tx.LastSeq()
		if err != nil {
			return err
		}
		r.Last = last
		if r.Acked, err = tx.acked(); err != nil {
			return err
		}
		r.First = r.Acked + 1
		tx.scan([]byte{pOutbox}, func([]byte) bool { r.Pending++; return true })
		return nil
	})
	return r, err
}

func (t *Tx) acked() (uint64, error) {
	v, err := t.get(metaAcked)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("%w: acked", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// AckThrough prunes the outbox entries of epoch up to and including seq:
// the site has committed them. The events stay as local history. An ack
// for another epoch or beyond the last appended event is refused.
func (s *Store) AckThrough(epoch uint32, seq uint64) (int, error) {
	if epoch != s.epoch {
		return 0, fmt.Errorf("%w: ack for epoch %d, the device is in epoch %d", ErrSequence, epoch, s.epoch)
	}
	pruned := 0
	for {
		n := 0
		err := s.Update(func(tx *Tx) error {
			last, err := tx.LastSeq()
			if err != nil {
				return err
			}
			if seq > last {
				return fmt.Errorf("%w: ack through %d, last appended %d", ErrSequence, seq, last)
			}
			acked, err := tx.acked()
			if err != nil {
				return err
			}
			if seq <= acked {
				return nil
			}
			var keys [][]byte
			o := badger.DefaultIteratorOptions
			o.PrefetchValues = false
			pfx := []byte{pOutbox}
			o.Prefix = pfx
			it := tx.txn.NewIterator(o)
			end := outboxKey(epoch, seq)
			for it.Seek(pfx); it.ValidForPrefix(pfx) && len(keys) < 5000; it.Next() {
				k := it.Item().KeyCopy(nil)
				if string(k) > string(end) {
					break
				}
				keys = append(keys, k)
			}
			it.Close()
			for _, k := range keys {
				if err := tx.del(k); err != nil {
					return err
				}
			}
			n = len(keys)
			if n < 5000 {
				return tx.set(metaAcked, binary.BigEndian.AppendUint64(nil, seq))
			}
			return nil
		})
		if err != nil {
			return pruned, err
		}
		pruned += n
		if n < 5000 {
			return pruned, nil
		}
	}
}
