// Package unit derives a unit's state from events. Apply is the one
// place that decides what an event does to a unit: the site's FSM calls it
// in raft log order on every replica, and the handheld calls it against
// its local replica at the scan, so most problems are caught offline with
// the same words the site would use.
//
// Apply is a pure function: no clock, no randomness, no map iteration.
// Everything it needs — the current state, holds inherited from the lot,
// product or container, whether the user may make corrections, and the
// proposer's clock — comes in its Input.
package unit

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Status is where a unit is in its life at the site. The numbers are
// stored: append only.
type Status uint8

// Statuses.
const (
	StatusNone           Status = iota // unknown to the site
	StatusExpected                     // announced by an ASN, not yet here
	StatusInStock                      // received
	StatusPicked                       // picked for an order line
	StatusPacked                       // packed into an outbound container
	StatusShipped                      // left the building
	StatusDecommissioned               // taken out of the supply chain
	StatusDestroyed                    // destroyed
	StatusDispensed                    // dispensed to a patient (reported by a partner)
	statusEnd
)

var statusNames = [...]string{"none", "expected", "in_stock", "picked", "packed", "shipped", "decommissioned", "destroyed", "dispensed"}

// String is the status's stable name.
func (s Status) String() string {
	if s < statusEnd {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus reads a status name.
func ParseStatus(name string) (Status, error) {
	for i, n := range statusNames {
		if n == name {
			return Status(i), nil
		}
	}
	return StatusNone, fmt.Errorf("unit: unknown status %q", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// Inactive reports whether the unit has left the supply chain for good
// (only an authorized correction may act on it).
func (s Status) Inactive() bool {
	return s == StatusDecommissioned || s == StatusDestroyed || s == StatusDispensed
}

// Completeness of a container's contents.
type Completeness uint8

// Completeness values.
const (
	CompletenessUnknown  Completeness = iota
	CompletenessInferred              // received by its label: contents assumed from the ASN
	CompletenessVerified              // opened and its contents scanned
)

// String names the completeness as people read it ("" when unknown).
func (c Completeness) String() string {
	switch c {
	case CompletenessInferred:
		return "inferred"
	case CompletenessVerified:
		return "verified"
	}
	return ""
}

// MarshalJSON writes the completeness by name.
func (c Completeness) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// UnmarshalJSON reads the completeness by name, or as the number earlier
// documents carried.
func (c *Completeness) UnmarshalJSON(b []byte) error {
	var n uint8
	if err := json.Unmarshal(b, &n); err == nil {
		*c = Completeness(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("completeness: want a name or a number")
	}
	switch s {
	case "":
		*c = CompletenessUnknown
	case "inferred":
		*c = CompletenessInferred
	case "verified":
		*c = CompletenessVerified
	default:
		return fmt.Errorf("completeness %q: want inferred or verified", s)
	}
	return nil
}

// State is what the site knows of one unit, case or pallet.
type State struct {
	Key          event.Key     `json:"key"`
	Client       string        `json:"client,omitempty"`
	Lot          string        `json:"lot,omitempty"`
	Expiry       string        `json:"expiry,omitempty"` // YYMMDD as on the pack
	Status       Status        `json:"status"`
	Holds        event.Holds   `json:"holds,omitempty"` // the unit's own holds; see Input.Inherited
	Location     string        `json:"location,omitempty"`
	Parent       event.Key     `json:"parent,omitempty"`
	ASN          string        `json:"asn,omitempty"`
	Order        string        `json:"order,omitempty"`
	Line         string        `json:"line,omitempty"`
	Shipment     string        `json:"shipment,omitempty"`
	Completeness Completeness  `json:"completeness,omitempty"`
	Version      uint64        `json:"version"`
	LastEvent    event.ID      `json:"lastEvent"`
	LastDevice   string        `json:"lastDevice,omitempty"`
	Updated      hlc.Timestamp `json:"updated,omitempty"` // display time of the last change
	Since        hlc.Timestamp `json:"since,omitempty"`   // when the current status began
}

// Known reports whether the site has any record of the unit.
func (s State) Known() bool { return s.Status != StatusNone }
