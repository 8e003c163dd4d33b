package event

import (
	"encoding/binary"
	"fmt"
)

// Limits on events and on what carries them, defined here once. Validate
// and the codec enforce them; the site's HTTP API, the sync session, the
// coalescer that packs events into raft entries and the ASN import use
// the same numbers, so nothing one door accepts is too large for the
// log or for apply.
const (
	// MaxSubjects is the most subjects one event names. The codec refuses
	// more, so an entry holding more cannot be proposed.
	MaxSubjects = 1000
	// MaxField is the longest string field Validate accepts (device,
	// user, site, client and every context field), in bytes.
	MaxField = 256
	// MaxLot is the longest lot (GS1 AI 10); a serial (AI 21) is at most
	// as long. Both use GS1 character set 82.
	MaxLot = 20
	// MaxKey is the longest subject key: "01" + GTIN-14 + "21" + serial.
	MaxKey = 2 + gtinLen + 2 + maxSerie
	// MaxCodecField is the longest string the codec reads. A rejected
	// event is stored as it was sent, so the decoder reads back fields
	// Validate refuses, up to this bound; nothing longer can be encoded
	// into an entry the decoder reads.
	MaxCodecField = 4 * MaxField
	// MaxBatch is the most events one request may carry: an HTTP
	// submission, one sync submission, one coalescer call.
	MaxBatch = 10000
	// MaxEntry is the most bytes of events in one raft entry.
	MaxEntry = 128 << 10
	// MaxEncoded bounds the encoding of an event Validate accepts:
	// version, id, three varints, the clock, kind, hold, flags, fourteen
	// strings and every subject. It leaves room in an entry for the
	// entry's header.
	MaxEncoded = 1 + 16 + 3*binary.MaxVarintLen64 + 8 + 3 + 14*(binary.MaxVarintLen16+MaxField) +
		MaxSubjects*(1+MaxKey+binary.MaxVarintLen64)
)

// Admit reports whether e may enter the raft log: its encoding is at
// most MaxEncoded bytes (no event Validate accepts is longer, and one
// that long fits an entry) and decodes with the codec apply decodes
// with. Whoever proposes events calls it; an event it refuses must not
// be proposed, since apply could not read the entry. An admitted event
// may still fail Validate at apply: it is then recorded as rejected and
// takes its place in its device's sequence.
func (e *Event) Admit() error {
	b := e.AppendBinary(make([]byte, 0, 256))
	if len(b) > MaxEncoded {
		return fmt.Errorf("%w: the event encodes to %d bytes, at most %d", ErrInvalid, len(b), MaxEncoded)
	}
	var back Event
	if err := back.UnmarshalBinary(b); err != nil {
		return err
	}
	return nil
}
