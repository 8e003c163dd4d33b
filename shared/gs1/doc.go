// Package gs1 reads and writes GS1 barcode data: scanner output with or
// without a symbology identifier (]d2, ]C1, ]Q3, ]e0 ...), element strings
// with group separators, the bracketed form "(01)...(21)...", and GS1
// Digital Link URIs. Every AI of the GS1 Barcode Syntax Dictionary is
// known, with its lengths, character set, check digits, date rules and
// pairing rules.
//
// Parse answers "is this valid GS1 data?"; Identify answers the question
// the workflows ask, "is this a usable product identifier?", and refuses
// plain DataMatrix, missing serials and serials swallowed by a missing
// group separator with errors a person at the scanner can act on.
//
// The package is pure: no I/O, no clock except where Policy.Today is left
// zero, no mutable package state.
package gs1
