// Package event is the immutable record of something that happened to a
// unit, case or pallet: who did what, on which device, with which base
// versions of its subjects, and in what context. Events are created on a
// handheld or the console, travel to the site, and are evaluated by the
// rules in package unit, in raft log order, on every replica.
//
// The package has no I/O. It defines the identifiers events speak of
// (subject keys, event IDs), the kinds, validation, a compact binary
// encoding for storage and raft entries, and each kind's EPCIS form.
package event

import "errors"

// Errors returned by this package.
var (
	// ErrInvalid reports an event that breaks an envelope rule.
	ErrInvalid = errors.New("event: invalid")
	// ErrKey reports a malformed subject key.
	ErrKey = errors.New("event: malformed subject key")
	// ErrEncoding reports bytes that are not an encoded event.
	ErrEncoding = errors.New("event: malformed encoding")
	// ErrUnknownKind reports a kind name or number this version does not know.
	ErrUnknownKind = errors.New("event: unknown kind")
)
