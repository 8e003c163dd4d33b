package store

import (
	"encoding/binary"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Unit states are the bulk of a replica (a million expected units is a
// normal size), so they are kept in a compact binary form rather than
// JSON: a version byte, four small fields, three varints, ten
// length-prefixed strings and, when set, the last event's id.
const stateVersion = 1

const flagLastEvent = 1

// maxStateString bounds one string of an encoded state.
const maxStateString = 1024

func appendState(b []byte, s *unit.State) []byte {
	flags := byte(0)
	if !s.LastEvent.IsZero() {
		flags |= flagLastEvent
	}
	b = append(b, stateVersion, byte(s.Status), byte(s.Holds), byte(s.Completeness), flags)
	b = binary.AppendUvarint(b, s.Version)
	b = binary.AppendUvarint(b, uint64(s.Updated))
	b = binary.AppendUvarint(b, uint64(s.Since))
	for _, f := range [...]string{s.Client, s.Lot, s.Expiry, s.Location, string(s.Parent), s.ASN, s.Order, s.Line, s.Shipment, s.LastDevice} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	if flags&flagLastEvent != 0 {
		b = append(b, s.LastEvent[:]...)
	}
	return b
}

// decodeState reads what appendState wrote. It never panics and never
// trusts a length.
func decodeState(k event.Key, b []byte) (unit.State, error) {
	bad := func(why string) (unit.State, error) {
		return unit.State{}, fmt.Errorf("%w: unit %s: %s", ErrCorrupt, k, why)
	}
	if len(b) < 5 {
		return bad("truncated")
	}
	if b[0] != stateVersion {
		return bad(fmt.Sprintf("version %d", b[0]))
	}
	s := unit.State{Key: k, Status: unit.Status(b[1]), Holds: event.Holds(b[2]), Completeness: unit.Completeness(b[3])}
	flags := b[4]
	if flags&^flagLastEvent != 0 {
		return bad("unknown flags")
	}
	b = b[5:]
	var nums [3]uint64
	for i := range nums {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return bad("bad varint")
		}
		nums[i], b = v, b[n:]
	}
	s.Version, s.Updated, s.Since = nums[0], hlc.Timestamp(nums[1]), hlc.Timestamp(nums[2])
	for _, p := range [...]*string{&s.Client, &s.Lot, &s.Expiry, &s.Location, (*string)(&s.Parent), &s.ASN, &s.Order, &s.Line, &s.Shipment, &s.LastDevice} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > maxStateString || n > uint64(len(b)-w) {
			return bad("bad string")
		}
		*p = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	if flags&flagLastEvent != 0 {
		if len(b) < 16 {
			return bad("truncated event id")
		}
		copy(s.LastEvent[:], b[:16])
		b = b[16:]
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return s, nil
}
