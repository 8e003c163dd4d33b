package state

import (
	"encoding/binary"
	"fmt"
)

// The change feed: f index pos → kind and id of a record the entry at
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
)

// feedState is a transaction's position in the feed.
type feedState struct {
	index uint64
	pos   uint32
	seen  map[FeedRef]bool
}

func feedKey(index uint64, pos uint32) []byte {
	b := binary.BigEndian.AppendUint64([]byte{tFeed}, index)
	return binary.BigEndian.AppendUint32(b, pos)
}

// FeedAt starts the feed of the entry at index: later writes are noted
// under it. It also drops the feed of entry index-FeedWindow.
func (t *Tx) FeedAt(index uint64) error {
	t.feed.index, t.feed.pos = index, 0
	if t.feed.seen == nil {
		t.feed.seen = map[FeedRef]bool{}
	}
	clear(t.feed.seen)
	if index <= FeedWindow {
		return nil
	}
	old := binary.BigEndian.AppendUint64([]byte{tFeed}, index-FeedWindow)
	var keys [][]byte
	err := t.scan(old, nil, false, func(k, _ []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := t.del(k); err != nil {
			return err
		}
	}
	return nil
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
	t.feed.pos++
	return t.set(feedKey(t.feed.index, t.feed.pos), append([]byte{kind}, id...))
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
	if applied > FeedWindow && after < applied-FeedWindow {
		return nil, 0, false, fmt.Errorf("%w: %d, the feed starts after %d", ErrFeedGone, after, applied-FeedWindow)
	}
	at := map[FeedRef]int{}
	to = applied
	var stopAt uint64
	err = r.scan([]byte{tFeed}, feedKey(after, ^uint32(0)), true, func(k, v []byte) (bool, error) {
		if len(k) != 13 || len(v) < 1 {
			return false, fmt.Errorf("%w: feed record", ErrCorrupt)
		}
		idx := binary.BigEndian.Uint64(k[1:9])
		if stopAt != 0 && idx > stopAt {
			to, more = stopAt, true
			return false, nil
		}
		ref := FeedRef{v[0], string(v[1:])}
		if i, ok := at[ref]; ok {
			refs[i] = FeedRef{} // keep the latest place only
		}
		at[ref] = len(refs)
		refs = append(refs, ref)
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
