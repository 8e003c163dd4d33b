package unit

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Exception is a problem people must look at. There is at most one open
// exception per (unit, rule): later findings join it.
type Exception struct {
	ID       string          `json:"id"`
	Rule     Rule            `json:"rule"`
	Severity Severity        `json:"severity"`
	Status   ExceptionStatus `json:"status"`
	Unit     event.Key       `json:"unit"`
	Client   string          `json:"client"`
	Site     string          `json:"site"`
	Detail   string          `json:"detail"`
	Events   []event.ID      `json:"events"`
	Devices  []string        `json:"devices,omitempty"`
	Opened   hlc.Timestamp   `json:"opened"`
	Updated  hlc.Timestamp   `json:"updated"`
	By       string          `json:"by,omitempty"`   // who acknowledged or resolved it
	Note     string          `json:"note,omitempty"` // what they said
}

// MaxExceptionEvents bounds how many event IDs one exception keeps.
const MaxExceptionEvents = 64

// ExceptionID is the deterministic id of the exception first raised by
// event ev for unit k under rule r: every replica derives the same one.
func ExceptionID(r Rule, k event.Key, ev event.ID) string {
	h := sha256.New()
	h.Write([]byte(r))
	h.Write([]byte{0})
	h.Write([]byte(k))
	h.Write([]byte{0})
	h.Write(ev[:])
	return "X" + hex.EncodeToString(h.Sum(nil)[:10])
}

// Open starts an exception from a finding.
func Open(f Finding, k event.Key, ev *event.Event, display hlc.Timestamp) Exception {
	return Exception{
		ID:       ExceptionID(f.Rule, k, ev.ID),
		Rule:     f.Rule,
		Severity: f.Rule.Info().Severity,
		Status:   ExceptionOpen,
		Unit:     k,
		Client:   ev.Client,
		Site:     ev.Site,
		Detail:   f.Detail,
		Events:   []event.ID{ev.ID},
		Devices:  []string{ev.Device},
		Opened:   display,
		Updated:  display,
	}
}

// Join adds a later event's finding to an open exception. It reports
// whether anything changed (the same event joining twice changes nothing).
func (x *Exception) Join(f Finding, ev *event.Event, display hlc.Timestamp) bool {
	if slices.Contains(x.Events, ev.ID) {
		return false
	}
	// Clip first: never write into spare capacity of a slice the store
	// may share with another copy.
	if len(x.Events) < MaxExceptionEvents {
		x.Events = append(slices.Clip(x.Events), ev.ID)
	}
	if !slices.Contains(x.Devices, ev.Device) {
		x.Devices = append(slices.Clip(x.Devices), ev.Device)
	}
	x.Detail = f.Detail
	if display > x.Updated {
		x.Updated = display
	}
	return true
}

// Active reports whether later findings for the same unit and rule join x.
func (x *Exception) Active() bool { return x.Status != ExceptionResolved }
