// Package wire is the sync protocol's frame format: a versioned envelope
// around one message per websocket binary frame, and a hand-written
// compact codec for every message.
//
// A frame is
//
//	magic 'C' 'U' | version 1 | type | uvarint request id | payload
//
// and a payload is the message's fields in a fixed order: uvarint numbers
// and lengths, one byte for booleans and small enums, length-prefixed
// strings, and inside PUSH each event's own binary encoding (package
// shared/event) behind a length. Decoding never panics, never trusts a
// length and refuses trailing bytes.
//
// These structs are the wire's, not the domain's: convert.go turns them
// into package protocol and shared types and back.
package wire

import (
	"errors"
	"fmt"
)

// Errors returned by Decode.
var (
	// ErrMalformed reports bytes that are not a well-formed frame.
	ErrMalformed = errors.New("wire: malformed frame")
	// ErrVersion reports a frame of an envelope version this code does
	// not speak (or no Custody frame at all: bad magic).
	ErrVersion = errors.New("wire: unsupported frame version")
	// ErrUnknownType reports a well-formed envelope of an unknown type.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrTooLarge reports a record that cannot fit any frame.
	ErrTooLarge = errors.New("wire: record larger than a frame")
)

// Envelope constants.
const (
	magic0 = 'C'
	magic1 = 'U'
	// FrameVersion is the envelope version this code writes and reads.
	FrameVersion = 1
	// HeaderMax is the most bytes the envelope takes before the payload.
	HeaderMax = 4 + 10
)

// Type is a message type. The numbers are sent: append only.
type Type uint8

// Message types.
const (
	TypeHello   Type = 1  // device → site: first frame
	TypeWelcome Type = 2  // site → device: answer to HELLO
	TypePush    Type = 3  // device → site: a run of outbox events
	TypePushAck Type = 4  // site → device: verdicts, after commit and apply
	TypeNackGap Type = 5  // site → device: the push does not continue the sequence
	TypeSub     Type = 6  // device → site: send me the feed after this cursor
	TypeChanges Type = 7  // site → device: a part of a change set
	TypeResync  Type = 8  // site → device: a part of a snapshot to rebuild from
	TypeBusy    Type = 9  // site → device: come back later
	TypePing    Type = 10 // either way: keepalive and clock
	TypePong    Type = 11 // either way: answer to PING
	TypeError   Type = 12 // either way: a fault; the connection closes after it
	typeEnd     Type = 13
)

var typeNames = [...]string{"", "HELLO", "WELCOME", "PUSH", "PUSH_ACK", "NACK_GAP", "SUB", "CHANGES", "RESYNC", "BUSY", "PING", "PONG", "ERROR"}

// String is the type's protocol name.
func (t Type) String() string {
	if t > 0 && t < typeEnd {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Message is one of the message structs of this package.
type Message interface {
	Type() Type
	appendTo(b []byte) []byte
	decode(r *reader)
}

// Frame is a decoded frame.
type Frame struct {
	ID  uint64 // request id: chosen by the requester, echoed by the answer
	Msg Message
}

// Append appends the frame for m with request id id to b.
func Append(b []byte, id uint64, m Message) []byte {
	b = append(b, magic0, magic1, FrameVersion, byte(m.Type()))
	b = appendU64(b, id)
	return m.appendTo(b)
}

// Encode returns the frame for m with request id id.
func Encode(id uint64, m Message) []byte { return Append(make([]byte, 0, 64), id, m) }

// Decode reads one frame. The message may alias data (PUSH event bytes
// do): keep data unchanged while the message is in use.
func Decode(data []byte) (Frame, error) {
	if len(data) < 4 || data[0] != magic0 || data[1] != magic1 {
		return Frame{}, fmt.Errorf("%w: no Custody frame", ErrVersion)
	}
	if data[2] != FrameVersion {
		return Frame{}, fmt.Errorf("%w: version %d, this side speaks %d", ErrVersion, data[2], FrameVersion)
	}
	m := newMessage(Type(data[3]))
	if m == nil {
		return Frame{}, fmt.Errorf("%w: %d", ErrUnknownType, data[3])
	}
	r := reader{b: data[4:]}
	id := r.u64()
	m.decode(&r)
	r.done()
	if r.err != nil {
		return Frame{}, fmt.Errorf("%s: %w", Type(data[3]), r.err)
	}
	return Frame{ID: id, Msg: m}, nil
}

// PeekType returns the type and request id of a frame without decoding
// its payload (ok false when the envelope is not readable).
func PeekType(data []byte) (t Type, id uint64, ok bool) {
	if len(data) < 4 || data[0] != magic0 || data[1] != magic1 || data[2] != FrameVersion {
		return 0, 0, false
	}
	r := reader{b: data[4:]}
	id = r.u64()
	return Type(data[3]), id, r.err == nil
}

func newMessage(t Type) Message {
	switch t {
	case TypeHello:
		return &Hello{}
	case TypeWelcome:
		return &Welcome{}
	case TypePush:
		return &Push{}
	case TypePushAck:
		return &PushAck{}
	case TypeNackGap:
		return &NackGap{}
	case TypeSub:
		return &Sub{}
	case TypeChanges:
		return &Changes{}
	case TypeResync:
		return &Resync{}
	case TypeBusy:
		return &Busy{}
	case TypePing:
		return &Ping{}
	case TypePong:
		return &Pong{}
	case TypeError:
		return &Error{}
	}
	return nil
}
