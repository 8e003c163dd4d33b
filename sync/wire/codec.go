package wire

import (
	"encoding/binary"
	"fmt"
)

// The primitive encodings every message is built from: uvarints for
// numbers and lengths, a byte for booleans and small enums, big-endian
// fixed 8 bytes for clock values, length-prefixed bytes for strings.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendU64(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendList[T any](b []byte, items []T, enc func([]byte, *T) []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	for i := range items {
		b = enc(b, &items[i])
	}
	return b
}

// reader decodes from a byte slice. The first failure sticks: later reads
// return zero values, and err says what went wrong first. Nothing it
// reads is trusted: every length is checked against what is left.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	r.b = nil
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("truncated: want %d bytes, %d left", n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("boolean out of range")
	return false
}

func (r *reader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	if n > 1 && r.b[n-1] == 0 {
		r.fail("overlong varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	v := r.u64()
	if v > 1<<32-1 {
		r.fail("value %d out of range", v)
		return 0
	}
	return uint32(v)
}

func (r *reader) u16() uint16 {
	v := r.u64()
	if v > 1<<16-1 {
		r.fail("value %d out of range", v)
		return 0
	}
	return uint16(v)
}

// int reads a non-negative int that must fit 31 bits (counts, sizes).
func (r *reader) int() int {
	v := r.u64()
	if v > 1<<31-1 {
		r.fail("value %d out of range", v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes() []byte {
	return r.take(r.u64())
}

func (r *reader) string() string {
	return string(r.bytes())
}

func (r *reader) fixed(dst []byte) {
	copy(dst, r.take(uint64(len(dst))))
}

// count reads a list length. Every element takes at least minSize bytes,
// so a count that could not fit in what is left is refused before any
// allocation.
func (r *reader) count(minSize int) int {
	n := r.u64()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b))/uint64(max(minSize, 1)) {
		r.fail("list of %d elements in %d bytes", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) strings() []string {
	n := r.count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.string()
	}
	return out
}

func readList[T any](r *reader, minSize int, dec func(*reader, *T)) []T {
	n := r.count(minSize)
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		dec(r, &out[i])
		if r.err != nil {
			return nil
		}
	}
	return out
}

// done fails unless every byte was used.
func (r *reader) done() {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
}
