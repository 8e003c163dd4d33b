package event

import (
	"encoding/binary"
	"fmt"

	"github.com/custodyhq/custody/shared/hlc"
)

// Binary encoding: a version byte, then fixed fields and length-prefixed
// strings in a fixed order. It is what the outbox, raft entries and the
// state store keep. Decoding never panics and never trusts a length.
const codecVersion = 1

// Flags after the hold reason. A flag adds a field after the flags byte,
// so events without it keep the bytes they always had.
const (
	flagInferred = 1 << iota // Ctx.Inferred
	flagQty                  // a uvarint quantity (Ctx.Qty) follows
)

// AppendBinary appends e's encoding to b.
func (e *Event) AppendBinary(b []byte) []byte {
	b = append(b, codecVersion)
	b = append(b, e.ID[:]...)
	b = appendString(b, e.Device)
	b = binary.AppendUvarint(b, uint64(e.Epoch))
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.HLC))
	b = appendString(b, e.User)
	b = appendString(b, e.Site)
	b = appendString(b, e.Client)
	b = append(b, byte(e.Kind))
	b = binary.AppendUvarint(b, uint64(len(e.Subjects)))
	for _, s := range e.Subjects {
		b = appendString(b, string(s.Key))
		b = binary.AppendUvarint(b, s.BaseVersion)
	}
	c := &e.Ctx
	for _, s := range [...]string{c.ASN, c.Order, c.Line, c.Shipment, c.From, c.To, string(c.Parent), c.Lot, c.Expiry, c.Destination, c.Reason} {
		b = appendString(b, s)
	}
	flags := byte(0)
	if c.Inferred {
		flags |= flagInferred
	}
	if c.Qty != 0 {
		flags |= flagQty
	}
	b = append(b, byte(c.Hold), flags)
	if c.Qty != 0 {
		b = binary.AppendUvarint(b, uint64(c.Qty))
	}
	return b
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (e *Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(make([]byte, 0, 160)), nil }

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (e *Event) UnmarshalBinary(data []byte) error {
	rest, err := e.decode(data)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrEncoding, len(rest))
	}
	return nil
}

// DecodeBinary decodes one event from the front of data and returns what
// follows it, for reading a sequence of events.
func (e *Event) DecodeBinary(data []byte) ([]byte, error) { return e.decode(data) }

func (e *Event) decode(data []byte) ([]byte, error) {
	d := decoder{b: data}
	if v := d.byte(); v != codecVersion {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("%w: version %d", ErrEncoding, v)
	}
	var out Event
	copy(out.ID[:], d.take(16))
	out.Device = d.string()
	epoch := d.uvarint()
	if epoch > 1<<32-1 {
		d.fail("epoch out of range")
	}
	out.Epoch = uint32(epoch)
	out.Seq = d.uvarint()
	out.HLC = hlc.Timestamp(d.uint64())
	out.User = d.string()
	out.Site = d.string()
	out.Client = d.string()
	out.Kind = Kind(d.byte())
	n := d.uvarint()
	if n > MaxSubjects {
		d.fail("too many subjects")
	}
	if d.err == nil && n > 0 {
		out.Subjects = make([]Subject, n)
		for i := range out.Subjects {
			out.Subjects[i].Key = Key(d.string())
			out.Subjects[i].BaseVersion = d.uvarint()
		}
	}
	c := &out.Ctx
	for _, p := range [...]*string{&c.ASN, &c.Order, &c.Line, &c.Shipment, &c.From, &c.To, (*string)(&c.Parent), &c.Lot, &c.Expiry, &c.Destination, &c.Reason} {
		*p = d.string()
	}
	c.Hold = HoldReason(d.byte())
	flags := d.byte()
	c.Inferred = flags&flagInferred != 0
	if flags&^(flagInferred|flagQty) != 0 {
		d.fail("unknown flags")
	}
	if flags&flagQty != 0 {
		q := d.uvarint()
		if q == 0 || q > 1<<32-1 {
			d.fail("quantity out of range")
		}
		c.Qty = uint32(q)
	}
	if d.err != nil {
		return nil, d.err
	}
	*e = out
	return d.b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrEncoding, why)
	}
	d.b = nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	v := d.take(1)
	if d.err != nil {
		return 0
	}
	return v[0]
}

func (d *decoder) uint64() uint64 {
	v := d.take(8)
	if d.err != nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	var canon [binary.MaxVarintLen64]byte
	if n <= 0 || n != binary.PutUvarint(canon[:], v) {
		// One value, one encoding: overlong forms are refused.
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > MaxCodecField {
		d.fail("string too long")
		return ""
	}
	v := d.take(int(n))
	if d.err != nil {
		return ""
	}
	return string(v)
}
