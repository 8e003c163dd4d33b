package event

import "fmt"

// Kind is what an event does. The numbers are stored and sent: append new
// kinds at the end and never renumber.
type Kind uint8

// Kinds.
const (
	KindUnknown      Kind = iota
	KindExpect            // an ASN announces the unit: expected at the site
	KindReceive           // received into stock
	KindVerify            // a container opened and its contents checked
	KindUnpack            // taken out of its container
	KindMove              // put away or moved to another location
	KindPick              // picked for an order line
	KindUnpick            // put back: a pick undone
	KindPack              // packed into a container
	KindShip              // left the building on a shipment
	KindVoidShip          // a shipment voided before it left
	KindHold              // put on hold with a reason
	KindRelease           // a hold lifted
	KindDecommission      // decommissioned (taken out of the supply chain)
	KindDestroy           // destroyed
	KindRevert            // an authorized correction: decommissioned back to active
	KindReturn            // a saleable return received back
	KindCount             // seen during a count
	// Workflow records: what a device found, for the shared workflow
	// rules (shared/unit) to decide on at the device and at the site.
	KindCloseASN       // an ASN closed: the subjects are what was announced and not received (none: complete)
	KindShortPick      // an order line cannot be filled: order, line, quantity (Ctx.Qty) and reason; no subject
	KindVerifyMismatch // a container opened and found not to match: the container, then what was found inside
	// KindLookup: a user looked the subjects up on a device (what they
	// are, where, in what state). It records who looked, not custody:
	// no unit changes and it has no EPCIS counterpart.
	KindLookup
	kindEnd
)

var kindNames = [...]string{
	KindUnknown:        "unknown",
	KindExpect:         "expect",
	KindReceive:        "receive",
	KindVerify:         "verify",
	KindUnpack:         "unpack",
	KindMove:           "move",
	KindPick:           "pick",
	KindUnpick:         "unpick",
	KindPack:           "pack",
	KindShip:           "ship",
	KindVoidShip:       "void_ship",
	KindHold:           "hold",
	KindRelease:        "release",
	KindDecommission:   "decommission",
	KindDestroy:        "destroy",
	KindRevert:         "revert",
	KindReturn:         "return",
	KindCount:          "count",
	KindCloseASN:       "close_asn",
	KindShortPick:      "short_pick",
	KindVerifyMismatch: "verify_mismatch",
	KindLookup:         "lookup",
}

// Kinds lists every known kind in number order.
func Kinds() []Kind {
	out := make([]Kind, 0, kindEnd-1)
	for k := KindUnknown + 1; k < kindEnd; k++ {
		out = append(out, k)
	}
	return out
}

// Subjectless reports whether an event of kind k may have no subject:
// an ASN closed with nothing missing, a short pick.
func (k Kind) Subjectless() bool { return k == KindCloseASN || k == KindShortPick }

// Internal reports whether events of kind k stay inside the site and
// have no EPCIS counterpart. A look-up is one: it is not a custody
// event.
func (k Kind) Internal() bool {
	return k == KindExpect || k == KindCloseASN || k == KindShortPick || k == KindLookup
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k > KindUnknown && k < kindEnd }

// String is the kind's stable name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind reads a kind name.
func ParseKind(s string) (Kind, error) {
	for k := KindUnknown + 1; k < kindEnd; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return KindUnknown, fmt.Errorf("%w: %q", ErrUnknownKind, s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownKind, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// HoldReason is why a unit is held. Reasons combine as a set (Holds).
type HoldReason uint8

// Hold reasons, as bits.
const (
	HoldSuspect HoldReason = 1 << iota
	HoldRecall
	HoldDamaged
	HoldExpired
	HoldInvestigation
	holdEnd
)

var holdNames = []struct {
	r    HoldReason
	name string
}{
	{HoldSuspect, "suspect"},
	{HoldRecall, "recall"},
	{HoldDamaged, "damaged"},
	{HoldExpired, "expired"},
	{HoldInvestigation, "investigation"},
}

// ParseHoldReason reads one reason name.
func ParseHoldReason(s string) (HoldReason, error) {
	for _, h := range holdNames {
		if h.name == s {
			return h.r, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown hold reason %q (want suspect, recall, damaged, expired or investigation)", ErrInvalid, s)
}

// Holds is a set of hold reasons. The zero value holds nothing.
type Holds uint8

// Has reports whether r is in the set.
func (h Holds) Has(r HoldReason) bool { return h&Holds(r) != 0 }

// With returns the set with r added.
func (h Holds) With(r HoldReason) Holds { return h | Holds(r) }

// Without returns the set with r removed.
func (h Holds) Without(r HoldReason) Holds { return h &^ Holds(r) }

// Reasons lists the reasons in the set in a fixed order.
func (h Holds) Reasons() []HoldReason {
	var out []HoldReason
	for _, n := range holdNames {
		if h.Has(n.r) {
			out = append(out, n.r)
		}
	}
	return out
}

// String is the reason's name.
func (r HoldReason) String() string {
	for _, h := range holdNames {
		if h.r == r {
			return h.name
		}
	}
	return fmt.Sprintf("hold(%d)", uint8(r))
}

// String lists the reasons, comma separated ("" when none).
func (h Holds) String() string {
	s := ""
	for _, r := range h.Reasons() {
		if s != "" {
			s += ","
		}
		s += r.String()
	}
	return s
}
