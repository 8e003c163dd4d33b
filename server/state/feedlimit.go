package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The feed's bound. Clusters from before it keep the last FeedWindow
// entries, however much or little they changed: a busy site then forgets
// a device's cursor in minutes, and a handheld back from an offline shift
// always downloads its whole replica again. A cluster with a limit keeps
// the newest entries' records up to that many references (changed
// records), so the window is as long as the site is quiet: with the
// default, about 130 MB of records, three minutes at 20,000 events/s and
// a day at 50 /s.
//
// The limit is set through the log (Tx.SetFeedLimit, the processor's
// FeedLimit command), so every replica switches at the same entry, and
// lives in the meta table with two counters kept by every entry: the
// references held and the first entry whose record may still be there.
// Trimming is deterministic: it reads through the transaction (pending
// writes included), so how raft grouped entries into batches changes
// nothing, and it never drops the record of the entry being applied.

// DefaultFeedRefs is the feed limit a new cluster starts with.
const DefaultFeedRefs = 1 << 22

// trimSlack is how far past its limit the feed grows before it is
// trimmed back to the limit (a fraction of the limit): trimming reads
// through the transaction's pending writes, which Badger sorts for every
// read, so it runs now and then rather than with every entry.
const trimSlack = 16

// maxTrimPerEntry bounds the records one entry drops; a large trim is
// spread over the entries that follow.
const maxTrimPerEntry = 4096

var (
	keyFeedLimit = []byte{tMeta, 'f', 'e', 'e', 'd', 'l', 'i', 'm', 'i', 't'}
	keyFeedHeld  = []byte{tMeta, 'f', 'e', 'e', 'd', 'h', 'e', 'l', 'd'}
	keyFeedFrom  = []byte{tMeta, 'f', 'e', 'e', 'd', 'f', 'r', 'o', 'm'}
)

// FeedBound is how the feed is kept: by references (Limit > 0; Held of
// them held) or, with Limit 0, the last FeedWindow entries. Either way a
// cursor can follow the feed from entry From on (after ≥ From-1).
type FeedBound struct {
	Limit uint64 `json:"limit_refs"`
	Held  uint64 `json:"held_refs"`
	From  uint64 `json:"from_index"`
}

func (r *Reader) meta64(k []byte) (uint64, error) {
	v, err := r.get(k)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta %q", ErrCorrupt, k[1:])
	}
	return binary.BigEndian.Uint64(v), nil
}

// FeedBound reads how the feed is kept. For a feed kept by entries
// (Limit 0) From is where the window starts and Held is not counted.
func (r *Reader) FeedBound() (FeedBound, error) {
	var b FeedBound
	var err error
	if b.Limit, err = r.meta64(keyFeedLimit); err != nil {
		return FeedBound{}, err
	}
	if b.Limit == 0 {
		applied, err := r.Applied()
		if err != nil {
			return FeedBound{}, err
		}
		b.From = 1
		if applied > FeedWindow {
			b.From = applied - FeedWindow + 1
		}
		return b, nil
	}
	if b.Held, err = r.meta64(keyFeedHeld); err != nil {
		return FeedBound{}, err
	}
	b.From, err = r.meta64(keyFeedFrom)
	return b, err
}

// feedBound loads the bound once per transaction.
func (t *Tx) feedBound() (*FeedBound, error) {
	if !t.feed.boundRead {
		b, err := t.Reader.FeedBound()
		if err != nil {
			return nil, err
		}
		t.feed.bound, t.feed.boundRead = b, true
	}
	return &t.feed.bound, nil
}

// SetFeedLimit keeps the feed to the newest records holding at most
// refs references from this entry on (FeedAt names the entry). A feed
// kept by entries until now switches: the records it still has are
// counted, and cursors it could serve stay servable.
func (t *Tx) SetFeedLimit(refs uint64) error {
	if refs == 0 {
		return fmt.Errorf("%w: a feed limit of 0 references", ErrCorrupt)
	}
	b, err := t.feedBound()
	if err != nil {
		return err
	}
	if b.Limit == 0 {
		b.From = 1
		if t.feed.index > FeedWindow {
			b.From = t.feed.index - FeedWindow + 1
		}
		b.Held = 0
		err := t.scan([]byte{tFeed}, feedKey(b.From-1), true, func(k, v []byte) (bool, error) {
			return true, decodeFeed(k, v, func(FeedRef) { b.Held++ })
		})
		if err != nil {
			return err
		}
	}
	b.Limit = refs
	if err := t.set(keyFeedLimit, binary.BigEndian.AppendUint64(nil, b.Limit)); err != nil {
		return err
	}
	return t.writeFeedBound()
}

// writeFeedBound writes the counters every entry moves.
func (t *Tx) writeFeedBound() error {
	b := &t.feed.bound
	for _, kv := range []struct {
		k []byte
		v uint64
	}{{keyFeedHeld, b.Held}, {keyFeedFrom, b.From}} {
		if err := t.set(kv.k, binary.BigEndian.AppendUint64(nil, kv.v)); err != nil {
			return err
		}
	}
	return nil
}

// boundFeed counts a record of n references just written and, when the
// feed holds a slack past its limit, drops the oldest records down to
// it (never the current entry's). A feed kept by entries has nothing to
// count.
func (t *Tx) boundFeed(n int) error {
	b, err := t.feedBound()
	if err != nil || b.Limit == 0 {
		return err
	}
	b.Held += uint64(n)
	if b.Held > b.Limit+b.Limit/trimSlack {
		if err := t.trimFeed(b); err != nil {
			return err
		}
	}
	return t.writeFeedBound()
}

// trimFeed drops the oldest records until the feed holds no more than
// its limit, at most maxTrimPerEntry of them (the next entries go on
// while the feed is still past its slack). It depends on the stored
// bound and records alone, never on what else this transaction holds:
// replicas batch entries differently.
func (t *Tx) trimFeed(b *FeedBound) error {
	var drop [][]byte
	var refs, last uint64
	err := t.scan([]byte{tFeed}, feedKey(b.From-1), true, func(k, v []byte) (bool, error) {
		if len(k) < 9 {
			return false, fmt.Errorf("%w: feed record", ErrCorrupt)
		}
		idx := binary.BigEndian.Uint64(k[1:9])
		if idx >= t.feed.index || b.Held-refs <= b.Limit || len(drop) == maxTrimPerEntry {
			return false, nil
		}
		var n uint64
		if err := decodeFeed(k, v, func(FeedRef) { n++ }); err != nil {
			return false, err
		}
		// Never wrap the counter: a feed holding more than it counted is
		// a state to restore, not to trim to nothing.
		if n > b.Held-refs {
			return false, fmt.Errorf("%w: the feed holds more references than it counted", ErrCorrupt)
		}
		refs += n
		drop = append(drop, append([]byte(nil), k...))
		last = idx
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := t.del(k); err != nil {
			return err
		}
	}
	if len(drop) > 0 {
		b.Held -= refs
		b.From = last + 1
	}
	return nil
}
