package store

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// deletePrefixes removes what DropPrefix may leave behind (level-0
// tables another compaction held) and nothing else.
func TestDeletePrefixesLeavesOtherRecords(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	keep := []byte{pOutbox, 'k'}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{{pUnit, 'a'}, {pUnit, 'b'}, {pLot, 'c'}, keep} {
			if err := txn.Set(k, []byte("v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := deletePrefixes(s.db, replicaPrefixes); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for _, p := range replicaPrefixes {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
			it.Rewind()
			if it.Valid() {
				t.Errorf("key %q under a replica prefix survived", it.Item().Key())
			}
			it.Close()
		}
		if _, err := txn.Get(keep); err != nil {
			t.Errorf("outbox record: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
