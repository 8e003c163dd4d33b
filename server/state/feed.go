package state

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// The change feed: f index → kind and id of each record the entry at
// that raft index wrote (a unit, an exception, a master record). The
// processor names the entry it applies (FeedAt) and every write through
// PutUnit, PutException and the master setters notes its record once
// per entry. Each entry also drops the feed of the entry FeedWindow
// before it, so the feed is the last FeedWindow entries on every
// replica alike (it is part of the hash and of snapshots). Devices
// follow the site with it: what changed after the index their replica
// reflects.

// tFeed is the feed's table byte.
const tFeed byte = 'f'

// FeedWindow is how many raft entries the feed remembers. A device whose
// cursor is older resyncs from a snapshot.
const FeedWindow = 4096

// Feed record kinds: the master kinds (see keys.go) and these.
const (
	FeedUnit      byte = 'u'
	FeedException byte = 'x'
)

// FeedRef names one changed record. Kind is FeedUnit, FeedException or a
// master kind byte (MasterSite, MasterClient, …); ID is the unit key,
// the exception id, the GTIN of a product or the record's id ("" for the
// site).
type FeedRef struct {
	Kind byte
	ID   string
}

// Master kinds as feed kinds, for readers outside the package.
const (
	MasterSite     = mSite
	MasterClient   = mClient
	MasterProduct  = mProduct
	MasterLocation = mLocation
	MasterPartner  = mPartner
	MasterUser     = mUser
	MasterASN      = mASN
	MasterOrder    = mOrder
	MasterShipment = mShipment
	MasterHold     = mHold
	MasterSerial   = mSerial
)

// feedState is a transaction's position in the feed: the entry being
// applied and the references it noted so far, written as one record
// when the next entry starts or the transaction commits.
type feedState struct {
	index uint64
	refs  []byte // kind, uvarint length, id; one after another
	n     int    // references in refs
	seen  map[FeedRef]bool
	// The bound (feedlimit.go), read once per transaction.
	bound     FeedBound
	boundRead bool
}

// feedKey is the key of one entry's feed record. (Records written before
// the feed was kept per entry carry a 4-byte position after the index
// and one reference each; Feed reads both.)
func feedKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tFeed}, index)
}

// FeedAt starts the feed of the entry at index: later writes are noted
// under it. A feed kept by entries (no limit, feedlimit.go) also drops
// the feed of entry index-FeedWindow.
func (t *Tx) FeedAt(index uint64) error {
	if err := t.flushFeed(); err != nil {
		return err
	}
	t.feed.index = index
	if t.feed.seen == nil {
		t.feed.seen = map[FeedRef]bool{}
	}
	clear(t.feed.seen)
	b, err := t.feedBound()
	if err != nil {
		return err
	}
	if index <= FeedWindow || b.Limit > 0 {
		return nil
	}
	old := feedKey(index - FeedWindow)
	if ok, err := t.has(old); err != nil {
		return fmt.Errorf("state get: %w", err)
	} else if ok {
		if err := t.del(old); err != nil {
			return err
		}
	}
	return t.dropLegacyFeed(old)
}

// dropLegacyFeed deletes the per-reference records of the old layout
// under prefix. Only records written before the per-entry layout have
// that form, and those are committed, so a read-only view finds them all
// without sorting this transaction's pending writes.
func (t *Tx) dropLegacyFeed(prefix []byte) error {
	var keys [][]byte
	err := t.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); len(k) == len(prefix)+4 {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("state scan: %w", err)
	}
	for _, k := range keys {
		if err := t.del(k); err != nil {
			return err
		}
	}
	return nil
}

// flushFeed writes the current entry's feed record, if it noted anything.
func (t *Tx) flushFeed() error {
	if t.feed.index == 0 || len(t.feed.refs) == 0 {
		return nil
	}
	refs, n := t.feed.refs, t.feed.n
	t.feed.refs, t.feed.n = nil, 0
	if err := t.set(feedKey(t.feed.index), refs); err != nil {
		return err
	}
	return t.boundFeed(n)
}

// noteFeed records that the current entry wrote the record (once).
func (t *Tx) noteFeed(kind byte, id string) error {
	if t.feed.index == 0 {
		return nil
	}
	ref := FeedRef{kind, id}
	if t.feed.seen[ref] {
		return nil
	}
	t.feed.seen[ref] = true
	t.feed.refs = append(t.feed.refs, kind)
	t.feed.refs = binary.AppendUvarint(t.feed.refs, uint64(len(id)))
	t.feed.refs = append(t.feed.refs, id...)
	t.feed.n++
	return nil
}

// decodeFeed calls fn for each reference of a feed record with key k.
func decodeFeed(k, v []byte, fn func(FeedRef)) error {
	bad := fmt.Errorf("%w: feed record", ErrCorrupt)
	switch len(k) {
	case 13: // one reference: kind, id
		if len(v) < 1 {
			return bad
		}
		fn(FeedRef{v[0], string(v[1:])})
		return nil
	case 9:
	default:
		return bad
	}
	if len(v) == 0 {
		return bad
	}
	for len(v) > 0 {
		kind := v[0]
		n, w := binary.Uvarint(v[1:])
		if w <= 0 || uint64(len(v)-1-w) < n {
			return bad
		}
		fn(FeedRef{kind, string(v[1+w : 1+w+int(n)])})
		v = v[1+w+int(n):]
	}
	return nil
}

// Feed returns the records written by the entries after index after,
// in log order (a record written by several entries appears once, at
// its last write), stopping after the entry that brings the count to
// limit or more. to is the last index the answer covers; more reports
// that the feed goes on beyond it. A position older than the window is
// ErrFeedGone.
func (r *Reader) Feed(after uint64, limit int) (refs []FeedRef, to uint64, more bool, err error) {
	applied, err := r.Applied()
	if err != nil {
		return nil, 0, false, err
	}
	if after >= applied {
		return nil, after, false, nil
	}
	bound, err := r.FeedBound()
	if err != nil {
		return nil, 0, false, err
	}
	if after+1 < bound.From {
		return nil, 0, false, fmt.Errorf("%w: %d, the feed starts after %d", ErrFeedGone, after, bound.From-1)
	}
	at := map[FeedRef]int{}
	to = applied
	var stopAt uint64
	start := binary.BigEndian.AppendUint32(feedKey(after), ^uint32(0))
	err = r.scan([]byte{tFeed}, start, true, func(k, v []byte) (bool, error) {
		if len(k) < 9 {
			return false, fmt.Errorf("%w: feed record", ErrCorrupt)
		}
		idx := binary.BigEndian.Uint64(k[1:9])
		if stopAt != 0 && idx > stopAt {
			to, more = stopAt, true
			return false, nil
		}
		err := decodeFeed(k, v, func(ref FeedRef) {
			if i, ok := at[ref]; ok {
				refs[i] = FeedRef{} // keep the latest place only
			}
			at[ref] = len(refs)
			refs = append(refs, ref)
		})
		if err != nil {
			return false, err
		}
		if stopAt == 0 && len(at) >= max(limit, 1) {
			stopAt = idx
		}
		return true, nil
	})
	if err != nil {
		return nil, 0, false, err
	}
	out := refs[:0]
	for _, x := range refs {
		if x != (FeedRef{}) {
			out = append(out, x)
		}
	}
	return out, to, more, nil
}
