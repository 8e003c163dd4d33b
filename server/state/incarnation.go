package state

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// The incarnation names one life of a cluster's log. Devices follow the
// change feed with a cursor of raft indexes; a cluster restored from a
// backup restarts its log at the backup's index, so an index from before
// the restore may name another history. Each incarnation gets an id of
// its own, written once: by the restore path before the first node
// starts (Store.SetIncarnation) or through the log (Tx.SetIncarnation,
// the processor keeping the first). It lives in the meta table: in
// snapshots and backups, so every replica has it, but not in Hash, like
// the applied index.

var keyIncarnation = []byte{tMeta, 'i', 'n', 'c', 'a', 'r', 'n', 'a', 't', 'i', 'o', 'n'}

// maxIncarnation bounds an incarnation id.
const maxIncarnation = 128

// Incarnation is the id of this state's cluster incarnation ("" when
// none was given).
func (r *Reader) Incarnation() (string, error) {
	b, err := r.get(keyIncarnation)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return string(b), err
}

// SetIncarnation records the incarnation id in this transaction.
func (t *Tx) SetIncarnation(id string) error {
	if err := checkIncarnation(id); err != nil {
		return err
	}
	return t.set(keyIncarnation, []byte(id))
}

// SetIncarnation gives a state no node runs on a new incarnation id and
// syncs it: the restore path calls it on the restored state before it is
// written out as the new cluster's first snapshot.
func (s *Store) SetIncarnation(id string) error {
	if err := checkIncarnation(id); err != nil {
		return err
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyIncarnation, []byte(id)) }); err != nil {
		return fmt.Errorf("state set: %w", err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("state sync: %w", err)
	}
	return nil
}

func checkIncarnation(id string) error {
	if id == "" || len(id) > maxIncarnation {
		return fmt.Errorf("%w: incarnation id of %d bytes", ErrCorrupt, len(id))
	}
	return nil
}
