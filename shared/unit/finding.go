package unit

import "fmt"

// Rule names a kind of exception. Names are stable: stores and consoles
// key on them.
type Rule string

// Rules raised by Apply, and by the workflows that know master data.
const (
	RuleDoublePick        Rule = "DOUBLE_PICK"
	RuleDoublePack        Rule = "DOUBLE_PACK"
	RuleHoldOverridesPick Rule = "HOLD_OVERRIDES_PICK"
	RuleHeldUnitMoved     Rule = "HELD_UNIT_MOVED"
	RuleShippedWhileHeld  Rule = "SHIPPED_WHILE_HELD"
	RuleActionOnInactive  Rule = "ACTION_ON_INACTIVE"
	RuleClockSkew         Rule = "CLOCK_SKEW"
	RuleDuplicateSerial   Rule = "DUPLICATE_SERIAL"
	RuleOverage           Rule = "OVERAGE"
	RuleShortage          Rule = "SHORTAGE"
	RuleExpired           Rule = "EXPIRED"
	RuleRecalled          Rule = "RECALLED"
	RuleAggregation       Rule = "AGGREGATION_MISMATCH"
	RuleUnknownGTIN       Rule = "UNKNOWN_GTIN"
	RuleNoData            Rule = "PRODUCT_WITHOUT_DATA"
	RuleLotMismatch       Rule = "LOT_MISMATCH"
	RuleExpiryMismatch    Rule = "EXPIRY_MISMATCH"
	RuleDamaged           Rule = "DAMAGED"
	RuleWrongSerial       Rule = "WRONG_SERIAL"
	// RuleDuplicateInNetwork: the operator of a network of sites found
	// the unit's GTIN and serial received at another site too.
	RuleDuplicateInNetwork Rule = "DUPLICATE_IN_NETWORK"
)

// Severity orders exceptions for the people who work them.
type Severity uint8

// Severities.
const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
)

// String is the severity's name.
func (s Severity) String() string {
	switch s {
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	for v := SeverityLow; v <= SeverityHigh; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unit: unknown severity %q", b)
}

// RuleInfo is what a rule means to the people who work its exceptions.
type RuleInfo struct {
	Severity Severity
	// AutoResolve is false for exceptions a person must close even when
	// a later event seems to settle them.
	AutoResolve bool
}

// Info returns the rule's severity and handling.
func (r Rule) Info() RuleInfo {
	switch r {
	case RuleDoublePick, RuleDoublePack, RuleClockSkew:
		return RuleInfo{SeverityLow, true}
	case RuleShippedWhileHeld, RuleDuplicateSerial, RuleRecalled, RuleDuplicateInNetwork:
		return RuleInfo{SeverityHigh, false}
	}
	return RuleInfo{SeverityMedium, true}
}

// Finding is an exception Apply (or a workflow) raises for one unit.
type Finding struct {
	Rule   Rule   `json:"rule"`
	Detail string `json:"detail"`
}

// ExceptionStatus is where an exception is in its handling.
type ExceptionStatus uint8

// Exception statuses: open → acknowledged → resolved.
const (
	ExceptionOpen ExceptionStatus = iota + 1
	ExceptionAcknowledged
	ExceptionResolved
)

// String is the status's name.
func (s ExceptionStatus) String() string {
	switch s {
	case ExceptionOpen:
		return "open"
	case ExceptionAcknowledged:
		return "acknowledged"
	case ExceptionResolved:
		return "resolved"
	}
	return fmt.Sprintf("exception-status(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s ExceptionStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *ExceptionStatus) UnmarshalText(b []byte) error {
	for v := ExceptionOpen; v <= ExceptionResolved; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unit: unknown exception status %q", b)
}
