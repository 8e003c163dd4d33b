package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Hash is a digest of every record except the meta table (the applied
// index), the lot and order counters (derived from the units) and the
// activity index (derived from the events), in key order: two replicas at the same applied index with equal
// hashes hold the same state.
func (r *Reader) Hash() (string, error) {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	err := r.scan(nil, nil, true, func(k, v []byte) (bool, error) {
		if k[0] == tMeta || k[0] == tLotCount || k[0] == tOrderCount || k[0] == tActivity { // lotcount.go, activity.go
			return true, nil
		}
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		h.Write(k)
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		h.Write(v)
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func corrupt(k []byte, err error) error {
	return fmt.Errorf("%w: %q: %v", ErrCorrupt, k, err)
}
