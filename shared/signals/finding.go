// Package signals finds what a person would miss in the serialization
// data: the same pack identity turning up twice, a serial that does not
// look like its manufacturer's serials, a lot whose expiry disagrees with
// every other sighting of it, returns of units never shipped from here, a
// device whose scans stop looking like work.
//
// Everything here is pure: no I/O, no clock (time is the events' own
// hybrid logical clock), no random numbers, no map iteration where the
// order shows in a result. The site's analyzer feeds it the committed log
// in order; a handheld can score serials with the same format models.
//
// Deterministic signals (Tracker) are certain: they follow from what the
// site has recorded. Learned signals (FormatModel, LotModel, WorkModel,
// SupplierModel) are scores with a threshold each; each finding says in
// words why.
package signals

import (
	"fmt"
	"strings"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Rules the signals raise. Names are stable: stores and consoles key on
// them.
const (
	// Deterministic.
	RuleClonedSerial     unit.Rule = "CLONED_SERIAL"      // the same pack identity in two places
	RuleNoSupplierData   unit.Rule = "NO_SUPPLIER_DATA"   // received, announced by no supplier
	RuleReturnNotShipped unit.Rule = "RETURN_NOT_SHIPPED" // returned here, never shipped from here
	RuleTwoPlaces        unit.Rule = "TWO_PLACES"         // scanned in two places too close in time
	// Learned.
	RuleSerialFormat unit.Rule = "SERIAL_FORMAT" // serial unlike the manufacturer's serials
	RuleUnknownLot   unit.Rule = "UNKNOWN_LOT"   // lot unlike the product's lots
	RuleLotExpiry    unit.Rule = "LOT_EXPIRY"    // expiry unlike every other sighting of the lot
	RuleWorkShape    unit.Rule = "WORK_SHAPE"    // a device's work unlike the fleet's
	RuleUserShape    unit.Rule = "USER_SHAPE"    // a user's work, across devices, unlike the staff's
	// A shipment unlike what its supplier sends (products, units, lots).
	RuleSupplierProfile unit.Rule = "SUPPLIER_PROFILE"
	// A user who looks units up and then does not handle them, far more
	// often than the staff: scouting stock.
	RuleLookupNoWork unit.Rule = "LOOKUP_NO_WORK"
)

// Rules lists the signal rules in a fixed order.
func Rules() []unit.Rule {
	return []unit.Rule{RuleClonedSerial, RuleNoSupplierData, RuleReturnNotShipped, RuleTwoPlaces,
		RuleSerialFormat, RuleUnknownLot, RuleLotExpiry, RuleWorkShape, RuleSupplierProfile,
		RuleUserShape, RuleLookupNoWork}
}

// IsRule reports whether r is a signal rule.
func IsRule(r unit.Rule) bool {
	for _, x := range Rules() {
		if x == r {
			return true
		}
	}
	return false
}

// Finding is one signal raised for one unit (a device's finding names the
// unit of the scan that completed the evidence). Its id is derived from
// its content, so the same finding proposed twice opens one exception.
type Finding struct {
	Rule   unit.Rule     `json:"rule"`
	Unit   event.Key     `json:"unit"`
	Event  event.ID      `json:"event"` // the scan that raised it
	Client string        `json:"client"`
	Site   string        `json:"site"`
	Device string        `json:"device,omitempty"`
	At     hlc.Timestamp `json:"at"` // the scan's time
	// Score is 1 for a deterministic signal, else how unusual, 0–1.
	Score float64 `json:"score"`
	// Certain findings quarantine the unit (a cloned serial).
	Certain bool `json:"certain,omitempty"`
	// Cause names what a false-alarm verdict silences: later findings
	// with the same cause are not raised again.
	Cause  string      `json:"cause"`
	Detail string      `json:"detail"` // for the shift lead, in words
	Events []event.ID  `json:"events,omitempty"`
	Units  []event.Key `json:"units,omitempty"`
}

// ID is the exception id the finding opens: derived from (rule, unit,
// first event), as every exception's is.
func (f *Finding) ID() string { return unit.ExceptionID(f.Rule, f.Unit, f.Event) }

// Severity orders the finding in the exception queue: certain findings
// and scores of 0.95 and above are high, 0.85 and above medium.
func (f *Finding) Severity() unit.Severity {
	switch {
	case f.Certain || f.Score >= 0.95:
		return unit.SeverityHigh
	case f.Score >= 0.85:
		return unit.SeverityMedium
	}
	return unit.SeverityLow
}

// Validate checks what apply relies on.
func (f *Finding) Validate() error {
	switch {
	case !IsRule(f.Rule):
		return fmt.Errorf("%w: rule %q is not a signal", ErrFinding, f.Rule)
	case f.Event.IsZero():
		return fmt.Errorf("%w: no event", ErrFinding)
	case f.Client == "":
		return fmt.Errorf("%w: no client", ErrFinding)
	case f.Score < 0 || f.Score > 1 || f.Score != f.Score:
		return fmt.Errorf("%w: score %v outside 0–1", ErrFinding, f.Score)
	case f.Cause == "" || len(f.Cause) > 512:
		return fmt.Errorf("%w: cause must be 1–512 bytes", ErrFinding)
	case len(f.Detail) > 2048:
		return fmt.Errorf("%w: detail longer than 2048 bytes", ErrFinding)
	case len(f.Events) > unit.MaxExceptionEvents || len(f.Units) > unit.MaxExceptionEvents:
		return fmt.Errorf("%w: more than %d pieces of evidence", ErrFinding, unit.MaxExceptionEvents)
	}
	return f.Unit.Validate()
}

// Exception is the exception the finding opens.
func (f *Finding) Exception() unit.Exception {
	evs := append([]event.ID{f.Event}, f.Events...)
	evs = dedupIDs(evs)
	if len(evs) > unit.MaxExceptionEvents {
		evs = evs[:unit.MaxExceptionEvents]
	}
	var devs []string
	if f.Device != "" {
		devs = []string{f.Device}
	}
	return unit.Exception{
		ID: f.ID(), Rule: f.Rule, Severity: f.Severity(), Status: unit.ExceptionOpen,
		Unit: f.Unit, Client: f.Client, Site: f.Site,
		Detail: fmt.Sprintf("%s (score %.2f)", f.Detail, f.Score),
		Events: evs, Devices: devs, Opened: f.At, Updated: f.At,
	}
}

func dedupIDs(in []event.ID) []event.ID {
	out := in[:0:0]
	for _, id := range in {
		dup := false
		for _, o := range out {
			if o == id {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

// cause joins the parts of a cause.
func cause(r unit.Rule, parts ...string) string {
	return string(r) + "|" + strings.Join(parts, "|")
}

// Verdict is a person's judgement of a finding.
type Verdict string

// Verdicts.
const (
	VerdictReal       Verdict = "real"
	VerdictFalseAlarm Verdict = "false_alarm"
)

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool { return v == VerdictReal || v == VerdictFalseAlarm }
