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

// FieldError is an event that breaks a rule about one field, named as in
// the event's JSON form ("ctx.lot", "subjects[3].key").
type FieldError struct {
	Field  string
	Reason string
	Err    error // ErrInvalid or ErrKey
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, a...), Err: ErrInvalid}
}

func keyErr(field string, err error) error {
	return &FieldError{Field: field, Reason: err.Error(), Err: err}
}

// Validate checks the envelope: every field an event of its kind needs,
// the size limits (limits.go), and the identifiers and dates an event
// carries with the checks a scan gets: GTIN and SSCC check digits,
// serials and lots in GS1 character set 82, an expiry that is a date,
// a destination that is a GLN or a partner id. The handheld calls it
// before it writes an event, the site's doors before they propose one,
// and apply before it evaluates one. Errors are *FieldError.
func (e *Event) Validate() error {
	switch {
	case e.ID.IsZero():
		return fieldErr("id", "no id")
	case e.Device == "":
		return fieldErr("device", "no device")
	case e.Seq == 0:
		return fieldErr("seq", "device sequence starts at 1")
	case e.HLC == 0:
		return fieldErr("hlc", "no hlc time")
	case e.User == "":
		return fieldErr("user", "no user")
	case e.Site == "":
		return fieldErr("site", "no site")
	case e.Client == "":
		return fieldErr("client", "no client")
	case !e.Kind.Valid():
		return fieldErr("kind", "unknown kind %d", uint8(e.Kind))
	case len(e.Subjects) == 0 && !e.Kind.Subjectless():
		return fieldErr("subjects", "%s with no subject", e.Kind)
	case len(e.Subjects) > MaxSubjects:
		return fieldErr("subjects", "%d subjects, at most %d", len(e.Subjects), MaxSubjects)
	}
	c := &e.Ctx
	for _, f := range [...]struct{ name, v string }{{"device", e.Device}, {"user", e.User}, {"site", e.Site},
		{"client", e.Client}, {"ctx.asn", c.ASN}, {"ctx.order", c.Order}, {"ctx.line", c.Line},
		{"ctx.shipment", c.Shipment}, {"ctx.from", c.From}, {"ctx.to", c.To}, {"ctx.parent", string(c.Parent)},
		{"ctx.lot", c.Lot}, {"ctx.expiry", c.Expiry}, {"ctx.destination", c.Destination}, {"ctx.reason", c.Reason}} {
		if err := CheckText(f.v); err != nil {
			return fieldErr(f.name, "%v", err)
		}
	}
	seen := make(map[Key]bool, len(e.Subjects))
	for i, s := range e.Subjects {
		if err := s.Key.Check(); err != nil {
			return keyErr(fmt.Sprintf("subjects[%d].key", i), err)
		}
		if seen[s.Key] {
			return fieldErr(fmt.Sprintf("subjects[%d].key", i), "subject %s listed twice", s.Key)
		}
		seen[s.Key] = true
	}
	if c.Parent != "" {
		if err := c.Parent.Check(); err != nil {
			return keyErr("ctx.parent", err)
		}
	}
	if err := CheckLot(c.Lot); err != nil {
		return fieldErr("ctx.lot", "%v", err)
	}
	if err := CheckExpiry(c.Expiry); err != nil {
		return fieldErr("ctx.expiry", "%v", err)
	}
	if c.Destination != "" {
		if err := CheckDestination(c.Destination); err != nil {
			return fieldErr("ctx.destination", "%v", err)
		}
	}
	switch e.Kind {
	case KindPick:
		if c.Order == "" {
			return fieldErr("ctx.order", "pick without an order")
		}
	case KindPack:
		if c.Parent == "" {
			return fieldErr("ctx.parent", "pack without a container")
		}
		if seen[c.Parent] {
			return fieldErr("ctx.parent", "container packed into itself")
		}
	case KindShip, KindVoidShip:
		if c.Shipment == "" {
			return fieldErr("ctx.shipment", "%s without a shipment", e.Kind)
		}
	case KindHold:
		if c.Hold == 0 {
			return fieldErr("ctx.hold", "hold without a reason")
		}
	case KindMove:
		if c.To == "" {
			return fieldErr("ctx.to", "move without a destination location")
		}
	case KindUnpack:
		if c.Parent == "" {
			return fieldErr("ctx.parent", "unpack without the container it comes out of")
		}
	case KindCloseASN, KindShortPick, KindVerifyMismatch:
		if err := e.validateWorkflow(); err != nil {
			return err
		}
	}
	if c.Hold != 0 && (c.Hold >= holdEnd || c.Hold&(c.Hold-1) != 0) {
		return fieldErr("ctx.hold", "hold reason %d is not one reason", c.Hold)
	}
	return nil
}
