package event

import (
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/shared/hlc"
)

// ID is an event's identity, a UUIDv7 chosen by whoever creates the event.
type ID [16]byte

// NewID returns a UUIDv7 for an event created at t, reading randomness
// from r. The time prefix keeps IDs of one device roughly in time order.
func NewID(t time.Time, r io.Reader) (ID, error) {
	var id ID
	if _, err := io.ReadFull(r, id[6:]); err != nil {
		return ID{}, fmt.Errorf("event id: %w", err)
	}
	ms := uint64(t.UnixMilli())
	id[0], id[1], id[2] = byte(ms>>40), byte(ms>>32), byte(ms>>24)
	id[3], id[4], id[5] = byte(ms>>16), byte(ms>>8), byte(ms)
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id, nil
}

// ParseID reads the canonical 36-character form.
func ParseID(s string) (ID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: event id %q", ErrInvalid, s)
	}
	return ID(u), nil
}

// String is the canonical UUID form.
func (id ID) String() string { return uuid.UUID(id).String() }

// IsZero reports whether id is unset.
func (id ID) IsZero() bool { return id == ID{} }

// Short is the first 8 hex digits, for messages to people.
func (id ID) Short() string { return hex.EncodeToString(id[:4]) }

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Subject is one thing an event acts on, with the version of its state
// the creating device last saw (0: the device knew nothing of it).
type Subject struct {
	Key         Key    `json:"key"`
	BaseVersion uint64 `json:"base,omitempty"`
}

// Context is the business context of an event. Which fields matter
// depends on the kind; unused ones stay empty.
type Context struct {
	ASN         string     `json:"asn,omitempty"`         // inbound shipment (expect, receive)
	Order       string     `json:"order,omitempty"`       // outbound order (pick, pack)
	Line        string     `json:"line,omitempty"`        // order line (pick)
	Shipment    string     `json:"shipment,omitempty"`    // outbound shipment (ship, void_ship)
	From        string     `json:"from,omitempty"`        // location before (move)
	To          string     `json:"to,omitempty"`          // location after (receive, move, return)
	Parent      Key        `json:"parent,omitempty"`      // container (expect, pack, unpack)
	Lot         string     `json:"lot,omitempty"`         // as scanned or announced (expect, receive)
	Expiry      string     `json:"expiry,omitempty"`      // YYMMDD as scanned or announced
	Destination string     `json:"destination,omitempty"` // ship-to party or GLN (ship)
	Hold        HoldReason `json:"hold,omitempty"`        // reason (hold, release; receive or return to hold)
	Reason      string     `json:"reason,omitempty"`      // free text or code a person gave
	Inferred    bool       `json:"inferred,omitempty"`    // received by its container's label only
	Qty         uint32     `json:"qty,omitempty"`         // how many (short_pick: the quantity short)
}

// Event is an immutable fact. Device, Epoch and Seq identify its place in
// the device's outbox; ID identifies it everywhere.
type Event struct {
	ID       ID            `json:"id"`
	Device   string        `json:"device"`
	Epoch    uint32        `json:"epoch"`
	Seq      uint64        `json:"seq"`
	HLC      hlc.Timestamp `json:"hlc"`
	User     string        `json:"user"`
	Site     string        `json:"site"`
	Client   string        `json:"client"`
	Kind     Kind          `json:"kind"`
	Subjects []Subject     `json:"subjects"`
	Ctx      Context       `json:"ctx"`
}

// Limits on an event's size, so one event always fits a raft entry.
const (
	MaxSubjects = 1000
	MaxField    = 256
)

// Validate checks the envelope: every field an event of its kind needs.
func (e *Event) Validate() error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	switch {
	case e.ID.IsZero():
		return fail("no id")
	case e.Device == "":
		return fail("no device")
	case e.Seq == 0:
		return fail("device sequence starts at 1")
	case e.HLC == 0:
		return fail("no hlc time")
	case e.User == "":
		return fail("no user")
	case e.Site == "":
		return fail("no site")
	case e.Client == "":
		return fail("no client")
	case !e.Kind.Valid():
		return fail("unknown kind %d", uint8(e.Kind))
	case len(e.Subjects) == 0 && !e.Kind.Subjectless():
		return fail("%s with no subject", e.Kind)
	case len(e.Subjects) > MaxSubjects:
		return fail("%d subjects, at most %d", len(e.Subjects), MaxSubjects)
	}
	for _, f := range []string{e.Device, e.User, e.Site, e.Client, e.Ctx.ASN, e.Ctx.Order, e.Ctx.Line,
		e.Ctx.Shipment, e.Ctx.From, e.Ctx.To, e.Ctx.Lot, e.Ctx.Expiry, e.Ctx.Destination, e.Ctx.Reason} {
		if len(f) > MaxField {
			return fail("a field is longer than %d bytes", MaxField)
		}
	}
	seen := make(map[Key]bool, len(e.Subjects))
	for _, s := range e.Subjects {
		if err := s.Key.Validate(); err != nil {
			return err
		}
		if seen[s.Key] {
			return fail("subject %s listed twice", s.Key)
		}
		seen[s.Key] = true
	}
	if e.Ctx.Parent != "" {
		if err := e.Ctx.Parent.Validate(); err != nil {
			return err
		}
	}
	switch e.Kind {
	case KindPick:
		if e.Ctx.Order == "" {
			return fail("pick without an order")
		}
	case KindPack:
		if e.Ctx.Parent == "" {
			return fail("pack without a container")
		}
		if seen[e.Ctx.Parent] {
			return fail("container packed into itself")
		}
	case KindShip, KindVoidShip:
		if e.Ctx.Shipment == "" {
			return fail("%s without a shipment", e.Kind)
		}
	case KindHold:
		if e.Ctx.Hold == 0 {
			return fail("hold without a reason")
		}
	case KindMove:
		if e.Ctx.To == "" {
			return fail("move without a destination location")
		}
	case KindUnpack:
		if e.Ctx.Parent == "" {
			return fail("unpack without the container it comes out of")
		}
	case KindCloseASN, KindShortPick, KindVerifyMismatch:
		if err := e.validateWorkflow(); err != nil {
			return err
		}
	}
	if e.Ctx.Hold != 0 && (e.Ctx.Hold >= holdEnd || e.Ctx.Hold&(e.Ctx.Hold-1) != 0) {
		return fail("hold reason %d is not one reason", e.Ctx.Hold)
	}
	return nil
}
