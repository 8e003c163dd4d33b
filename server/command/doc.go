// Package command is what the raft log carries and the processor that
// applies it to the state. It knows nothing of raft: a log of (index,
// bytes) entries can be replayed through a Processor alone, which is how
// tests, benchmarks and offline repair drive it.
//
// Every entry is an envelope: a version byte, the command type as a
// uvarint and the payload. Type numbers are append-only. An entry whose
// payload does not decode for its type is refused (ErrPayload), the same
// on every replica, and changes nothing; CheckEntry lets proposers
// refuse it first. An envelope version or type this binary does not know
// (a newer binary wrote it) panics rather than let replicas diverge. A
// command that decodes but is not acceptable (a product with a bad GTIN)
// is answered with an error and changes nothing, the same on every
// replica.
package command

import "errors"

// Errors returned by this package.
var (
	// ErrEnvelope reports bytes that are not a command envelope.
	ErrEnvelope = errors.New("command: malformed envelope")
	// ErrUnknownType reports an envelope version or command type this
	// version does not know: a newer binary wrote it.
	ErrUnknownType = errors.New("command: unknown type")
	// ErrPayload reports an entry whose payload does not decode for its
	// type (or bytes that are not an envelope): apply refuses it and
	// proposers must not propose it.
	ErrPayload = errors.New("command: malformed payload")
	// ErrRejected reports a well-formed command the state does not accept.
	ErrRejected = errors.New("command: rejected")
	// ErrNotFound reports a command about a record that does not exist.
	ErrNotFound = errors.New("command: not found")
)
