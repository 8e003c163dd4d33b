package epcis

import (
	"bytes"
	"context"
	"fmt"
)

// Limits bound what a decoder takes on for one document, so that a large
// or hostile file costs a bounded amount of memory and time and is
// refused with ErrTooLarge as soon as it passes a bound, before the rest
// of it is read. A zero field takes its default.
type Limits struct {
	// MaxBytes bounds the input's size.
	MaxBytes int
	// MaxEvents bounds the events of the document (every event list
	// together). The decoders count events as they meet them and stop at
	// the first one over.
	MaxEvents int
	// MaxDepth bounds nesting: XML elements, JSON objects and arrays
	// (never more than the format's own bound, 128 elements for XML and
	// 264 levels for generic JSON values).
	MaxDepth int
	// MaxNodes bounds the XML elements and attributes, or the JSON
	// object members and array items, of the whole document: what the
	// decoder holds in memory grows with it.
	MaxNodes int
	// MaxProblems bounds the problems a *ValidationError lists; its
	// Total still counts every problem.
	MaxProblems int
}

// The defaults, generous enough for the largest files a partner sends
// (custodyctl works with them); a server taking documents from the
// network sets tighter ones from its body limit.
const (
	DefaultMaxBytes    = 256 << 20
	DefaultMaxEvents   = 1_000_000
	DefaultMaxNodes    = 20_000_000
	DefaultMaxProblems = 100
)

// timeCheckEvery is how many tokens or values a decoder reads between
// two looks at its context.
const timeCheckEvery = 1024

// DefaultLimits returns the limits Decode, DecodeJSON, DecodeXML and
// Validate use.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxProblems <= 0 {
		l.MaxProblems = DefaultMaxProblems
	}
	return l
}

// xmlDepth and jsonDepth are the nesting bounds for each format.
func (l Limits) xmlDepth() int {
	if l.MaxDepth > 0 && l.MaxDepth < maxXMLDepth {
		return l.MaxDepth
	}
	return maxXMLDepth
}

func (l Limits) jsonDepth() int {
	if l.MaxDepth > 0 && l.MaxDepth < maxDepth {
		return l.MaxDepth
	}
	return maxDepth
}

// tooLarge is the error for input over a limit.
func tooLarge(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrTooLarge}, a...)...)
}

// outOfTime is the error for a decoder whose context ended.
func outOfTime(ctx context.Context) error {
	return fmt.Errorf("%w: not read within the time allowed: %w", ErrTooLarge, context.Cause(ctx))
}

func (l Limits) checkSize(data []byte) error {
	if len(data) > l.MaxBytes {
		return tooLarge("%d bytes, at most %d", len(data), l.MaxBytes)
	}
	return nil
}

// Decode detects the format and decodes the document within the limits
// and ctx: when ctx ends first the error wraps ErrTooLarge and the
// context's cause. See DecodeJSON and DecodeXML for the other errors.
func (l Limits) Decode(ctx context.Context, data []byte) (*Document, Format, error) {
	f := Detect(data)
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch f {
	case FormatJSONLD:
		d, err := l.DecodeJSON(ctx, data)
		return d, f, err
	case FormatXML12:
		d, err := l.DecodeXML(ctx, data)
		return d, f, err
	}
	return nil, f, fmt.Errorf("%w: neither JSON nor XML", ErrUnknownFormat)
}

// Validate is (*Document).Validate within the limits and ctx.
func (l Limits) Validate(ctx context.Context, d *Document) error {
	l = l.withDefaults()
	ps := problems{max: l.MaxProblems}
	if err := validateDoc(ctx, d, paths{styleJSON}, &ps); err != nil {
		return err
	}
	return ps.err()
}
