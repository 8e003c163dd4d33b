package gs1

import (
	"strconv"
	"time"
)

// Date interprets a GS1 YYMMDD date (AI 11-17 and others). DD = 00 means
// the last day of the month. The century is chosen so that the year lies
// at most 49 years before and 50 years after ref's year (GS1 General
// Specifications, 7.12). The result is midnight UTC of that day.
func Date(yymmdd string, ref time.Time) (time.Time, error) {
	if len(yymmdd) != 6 || !allDigits(yymmdd) {
		return time.Time{}, errData(ErrBadDate, "a date must be 6 digits YYMMDD, not "+strconv.Quote(yymmdd))
	}
	yy, mm, dd := num(yymmdd[0:2]), num(yymmdd[2:4]), num(yymmdd[4:6])
	cy := ref.Year()
	y := cy/100*100 + yy
	switch diff := y - cy; {
	case diff > 50:
		y -= 100
	case diff < -49:
		y += 100
	}
	if err := checkDate("", y, mm, dd, true); err != nil {
		return time.Time{}, err
	}
	if dd == 0 {
		dd = daysIn(mm, y)
	}
	return time.Date(y, time.Month(mm), dd, 0, 0, 0, 0, time.UTC), nil
}

// allDigits reports whether s is non-empty and holds only ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
