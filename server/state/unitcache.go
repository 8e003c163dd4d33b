package state

import (
	"sync"

	"github.com/custodyhq/custody/shared/event"
)

// unitCache holds unit records as last committed, for the write path
// only. The processor is the state's single writer and every unit
// write goes through Tx.PutUnit, so after a commit the cache and Badger
// agree; a transaction reads through it (Tx.Unit) and, once committed,
// puts back every unit it read or wrote. Readers (Store.View) never use
// it: a read transaction is a view at one index, the cache is the
// newest state. Restore empties it.
//
// Units are worked in bursts (received, moved, picked, packed and
// shipped within minutes of each other), so the units a batch touches
// were mostly touched by a batch shortly before: a hit saves a Badger
// look-up through every memtable and level, which in a mixed workload is
// about a quarter of the apply cost.
//
// It holds the records as stored (encodeUnit; empty for a unit the
// site does not know): two pointers an entry, not the dozen strings of a
// decoded state, so the collector has little to walk. A hit decodes.
//
// It is bounded with two generations: entries go into cur; when cur is
// full it becomes prev and a fresh cur starts, and a hit in prev moves
// the entry back to cur. At most 2×half entries are held.
type unitCache struct {
	mu   sync.Mutex
	half int
	cur  map[event.Key][]byte
	prev map[event.Key][]byte
}

// unitCacheSize is how many units the cache holds at most (a few tens of
// MB of decoded states).
const unitCacheSize = 1 << 17

func newUnitCache(size int) *unitCache {
	return &unitCache{half: max(size/2, 1), cur: map[event.Key][]byte{}}
}

// get returns the record of unit k as last committed; ok is false when
// the cache does not hold it.
func (c *unitCache) get(k event.Key) (rec []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.cur[k]; ok {
		return rec, true
	}
	rec, ok = c.prev[k]
	if ok {
		c.putLocked(k, rec)
	}
	return rec, ok
}

// put records committed unit records.
func (c *unitCache) put(units map[event.Key][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range units {
		c.putLocked(k, s)
	}
}

func (c *unitCache) putLocked(k event.Key, rec []byte) {
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.half {
		c.prev, c.cur = c.cur, make(map[event.Key][]byte, c.half)
	}
	c.cur[k] = rec
}

func (c *unitCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.prev = map[event.Key][]byte{}, nil
}
