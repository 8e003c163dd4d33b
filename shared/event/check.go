package event

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/custodyhq/custody/shared/gs1"
)

// The checks a scan gets, for identifiers and dates that enter the site
// some other way (an event, master data, an ASN). One function per rule;
// master data and the site's doors call these.

// Check is Validate and the GS1 checks of the key's content: the check
// digit of the GTIN or SSCC and a serial in character set 82. (Validate
// alone checks the shape: keys are read back from storage with it.)
func (k Key) Check() error {
	if err := k.Validate(); err != nil {
		return err
	}
	if k.IsSSCC() {
		if err := CheckDigits(k.SSCCValue()); err != nil {
			return fmt.Errorf("%w: %q: SSCC %v", ErrKey, string(k), err)
		}
		return nil
	}
	if err := CheckDigits(k.GTIN()); err != nil {
		return fmt.Errorf("%w: %q: GTIN %v", ErrKey, string(k), err)
	}
	if !gs1.IsCSet82(k.Serial()) {
		return fmt.Errorf("%w: %q: the serial holds a character outside GS1 character set 82", ErrKey, string(k))
	}
	return nil
}

// CheckDigits checks the last digit of a GTIN, SSCC or GLN against the
// others (GS1 mod 10).
func CheckDigits(digits string) error {
	if len(digits) < 2 || !allDigits(digits) {
		return fmt.Errorf("%q is not all digits", digits)
	}
	want, err := gs1.CheckDigit(digits[:len(digits)-1])
	if err != nil {
		return err
	}
	if got := digits[len(digits)-1]; got != want {
		return fmt.Errorf("check digit is %c, want %c", got, want)
	}
	return nil
}

// CheckGTIN checks a GTIN-14: 14 digits with the right check digit.
func CheckGTIN(gtin string) error {
	if len(gtin) != gtinLen {
		return fmt.Errorf("%w: GTIN %q is not 14 digits", ErrInvalid, gtin)
	}
	if err := CheckDigits(gtin); err != nil {
		return fmt.Errorf("%w: GTIN %q: %v", ErrInvalid, gtin, err)
	}
	return nil
}

// CheckText checks a string field: at most MaxField bytes of UTF-8
// without control characters (a GS separator, a NUL or a newline inside
// a field is a scanner or integration fault, never data).
func CheckText(s string) error {
	if len(s) > MaxField {
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalid, len(s), MaxField)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalid)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: control character %U", ErrInvalid, r)
		}
	}
	return nil
}

// CheckLot checks a lot as AI (10) allows it: at most 20 characters of
// GS1 character set 82 ("" is no lot).
func CheckLot(lot string) error {
	switch {
	case len(lot) > MaxLot:
		return fmt.Errorf("%w: lot of %d characters, at most %d", ErrInvalid, len(lot), MaxLot)
	case !gs1.IsCSet82(lot):
		return fmt.Errorf("%w: lot %q holds a character outside GS1 character set 82", ErrInvalid, lot)
	}
	return nil
}

// CheckExpiry checks an expiry as AI (17) allows it: YYMMDD naming a
// real day, DD 00 for the month's last ("" is no expiry).
func CheckExpiry(yymmdd string) error {
	if yymmdd == "" {
		return nil
	}
	// Whether YYMMDD names a real day depends on the century only for 29
	// February of a year 00; a fixed reference year keeps the check the
	// same on every replica and every day.
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := gs1.Date(yymmdd, ref); err != nil {
		var ge *gs1.Error
		if errors.As(err, &ge) {
			return fmt.Errorf("%w: expiry %q: %s", ErrInvalid, yymmdd, ge.Reason)
		}
		return fmt.Errorf("%w: expiry %q is not a date", ErrInvalid, yymmdd)
	}
	return nil
}

// CheckDestination checks what can name where a shipment goes: a GLN
// (13 digits with the right check digit) or a partner id (letters,
// digits, '-', '.' and '_', at most MaxField bytes). Whether the partner
// exists is for whoever holds the partners to say.
func CheckDestination(s string) error {
	if len(s) == 13 && allDigits(s) {
		if err := CheckDigits(s); err != nil {
			return fmt.Errorf("%w: GLN %s: %v", ErrInvalid, s, err)
		}
		return nil
	}
	if err := CheckID(s); err != nil {
		return fmt.Errorf("%w: destination %q is neither a GLN nor a partner id", ErrInvalid, s)
	}
	return nil
}

// CheckID checks a record id that names a party or a place for people
// and in URLs: 1 to MaxField bytes of letters, digits, '-', '.' and '_'.
func CheckID(s string) error {
	if s == "" || len(s) > MaxField {
		return fmt.Errorf("%w: an id has 1 to %d characters", ErrInvalid, MaxField)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return fmt.Errorf("%w: id %q: %q is not a letter, digit, '-', '.' or '_'", ErrInvalid, s, c)
		}
	}
	return nil
}
