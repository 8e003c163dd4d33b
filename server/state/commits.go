package state

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
)

// SplitEntries checks that raft entries were applied atomically: it
// returns the log indexes, among the event records of ids, whose records
// were not all committed in one Badger transaction. The processor
// commits an entry's writes together with its index, so a record of an
// entry written in another commit than its siblings means the entry's
// transaction split (Tx.Splits): a crash between the parts would have
// left a half-applied entry. Event records are written once, so their
// commit versions stay as applied. Only meaningful for a state built by
// applying the log: a state restored from a snapshot carries the
// restore's own write batches.
func (r *Reader) SplitEntries(ids []event.ID) ([]uint64, error) {
	versions := map[uint64]uint64{}
	var split []uint64
	for _, id := range ids {
		it, err := r.txn.Get(append([]byte{tEvent}, id[:]...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: event %s", ErrNotFound, id)
		}
		if err != nil {
			return nil, fmt.Errorf("state get: %w", err)
		}
		v, err := it.ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("state get: %w", err)
		}
		rec, err := decodeRecord(v)
		if err != nil {
			return nil, err
		}
		ver, ok := versions[rec.Index]
		switch {
		case !ok:
			versions[rec.Index] = it.Version()
		case ver != it.Version() && !slices.Contains(split, rec.Index):
			split = append(split, rec.Index)
		}
	}
	slices.Sort(split)
	return split, nil
}
