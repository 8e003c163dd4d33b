// Package state is the site's state in Badger: units and their indexes,
// the event history, exceptions, device high-water marks and verdicts,
// master data, plans and holds, and the change feed handhelds follow
// (feed.go). One file per resource.
//
// Writes go through a Tx, which the command processor opens for one raft
// entry (or a batch of them) and commits together with the last applied
// log index, so the state and the index it reflects never disagree. Tx
// implements unit.Store, so the shared rules evaluate events directly
// against it. Reads go through a Reader on a Badger read transaction: a
// consistent view at one applied index.
//
// Keys are a one-byte table prefix followed by the record's identity;
// see keys.go. A snapshot is the sorted stream of every record, each
// tagged with its table, so a restore can refuse anything it does not
// know.
package state

import "errors"

// Errors returned by this package.
var (
	// ErrNotFound reports a record that does not exist.
	ErrNotFound = errors.New("state: not found")
	// ErrCorrupt reports a stored value or snapshot stream that does not decode.
	ErrCorrupt = errors.New("state: corrupt record")
	// ErrUnknownTable reports a snapshot record of a table this version does not know.
	ErrUnknownTable = errors.New("state: unknown table in snapshot")
	// ErrFeedGone reports a position older than the change feed's window.
	ErrFeedGone = errors.New("state: position older than the change feed")
	// ErrPartial reports a view taken while a transaction cut short by
	// Badger's size limit was between its parts (see Tx.set).
	ErrPartial = errors.New("state: part of an entry")
)
