package gs1

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps exactly one
// of them (test with errors.Is); errors about one Application Identifier are
// an *Error that also names the AI.
var (
	// Syntax of the carrier data.

	// ErrEmpty: there is no data at all.
	ErrEmpty = errors.New("gs1: no data")
	// ErrNoSymbology: strict parsing wanted a symbology identifier (]d2, ]C1 ...) and there was none.
	ErrNoSymbology = errors.New("gs1: missing symbology identifier")
	// ErrSymbology: the symbology identifier is malformed.
	ErrSymbology = errors.New("gs1: bad symbology identifier")
	// ErrUnknownAI: the data names an Application Identifier that does not exist.
	ErrUnknownAI = errors.New("gs1: unknown application identifier")
	// ErrSeparator: a group separator (GS) where no element can be.
	ErrSeparator = errors.New("gs1: misplaced group separator")
	// ErrBracketed: the bracketed form "(01)..." is malformed.
	ErrBracketed = errors.New("gs1: malformed bracketed data")

	// Content of one element.

	// ErrTooShort: a value is shorter than its AI allows.
	ErrTooShort = errors.New("gs1: value too short")
	// ErrTooLong: a value is longer than its AI allows.
	ErrTooLong = errors.New("gs1: value too long")
	// ErrCharset: a value holds a character its AI does not allow.
	ErrCharset = errors.New("gs1: character not allowed")
	// ErrCheckDigit: a check digit or check character pair is wrong.
	ErrCheckDigit = errors.New("gs1: wrong check digit")
	// ErrBadDate: a date or time field names a month, day, hour ... that does not exist.
	ErrBadDate = errors.New("gs1: invalid date or time")
	// ErrBadValue: a value breaks another rule of its AI (yes/no flag, piece of total, IBAN ...).
	ErrBadValue = errors.New("gs1: invalid value")

	// Relations between elements.

	// ErrPairing: a required AI is missing, or two AIs that must not be together are.
	ErrPairing = errors.New("gs1: invalid combination of AIs")
	// ErrDuplicateAI: the same AI appears twice with different values.
	ErrDuplicateAI = errors.New("gs1: AI repeated with a different value")

	// GS1 Digital Link.

	// ErrDigitalLink: the URI is not a GS1 Digital Link (no key, bad
	// qualifier order, not an allowed data attribute, bad percent-encoding).
	ErrDigitalLink = errors.New("gs1: invalid Digital Link URI")

	// Product identification (Identify).

	// ErrNotGS1: the data is not GS1 data at all (for example plain DataMatrix, ]d1).
	ErrNotGS1 = errors.New("gs1: not a GS1 product identifier")
	// ErrNoGTIN: a unit scan without a GTIN (01).
	ErrNoGTIN = errors.New("gs1: no GTIN")
	// ErrNoSerial: a unit scan without a serial number (21).
	ErrNoSerial = errors.New("gs1: no serial number")
	// ErrSwallowedSerial: the serial number was run into another field
	// because the scanner did not send a group separator.
	ErrSwallowedSerial = errors.New("gs1: serial swallowed by a missing group separator")
	// ErrNoLot: the policy requires a lot (10) and there is none.
	ErrNoLot = errors.New("gs1: no lot")
	// ErrNoExpiry: the policy requires an expiry date (17) and there is none.
	ErrNoExpiry = errors.New("gs1: no expiry date")
	// ErrNotContainer: a container scan that identifies no container (SSCC, or serialised case GTIN).
	ErrNotContainer = errors.New("gs1: not a container identifier")
	// ErrNoDigitalLinkKey: the data has no AI that can be a Digital Link primary key.
	ErrNoDigitalLinkKey = errors.New("gs1: no Digital Link primary key")
)

// Error is an error about the data, in words a person at the scanner can
// act on. AI is empty when the problem is not about one element.
type Error struct {
	AI     string // the Application Identifier concerned, "" if none
	Reason string // what is wrong, in plain words
	Err    error  // one of the sentinels above
}

func (e *Error) Error() string {
	if e.AI == "" {
		return e.Reason
	}
	var b strings.Builder
	b.Grow(8 + len(e.AI) + len(e.Reason))
	b.WriteString("AI (")
	b.WriteString(e.AI)
	b.WriteString("): ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func errAI(ai string, sentinel error, reason string) error {
	return &Error{AI: ai, Reason: reason, Err: sentinel}
}

func errData(sentinel error, reason string) error {
	return &Error{Reason: reason, Err: sentinel}
}
