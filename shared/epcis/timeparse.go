package epcis

import "time"

// zoneCache hands out one *time.Location per UTC offset within a decode,
// so times read from one document share locations and parsing does not
// allocate a zone per value.
type zoneCache struct {
	offs [4]int
	locs [4]*time.Location
	n    int
}

func (z *zoneCache) zone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	for i := 0; i < z.n; i++ {
		if z.offs[i] == off {
			return z.locs[i]
		}
	}
	loc := time.FixedZone("", off)
	if z.n < len(z.offs) {
		z.offs[z.n], z.locs[z.n] = off, loc
		z.n++
	}
	return loc
}

// parse reads an RFC 3339 date-time with a time zone
// (YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)), the form EPCIS requires.
func (z *zoneCache) parse(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	ns := 0
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			ns += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, false
		}
	}
	if i >= len(s) {
		return time.Time{}, false
	}
	var loc *time.Location
	switch s[i] {
	case 'Z', 'z':
		if i+1 != len(s) {
			return time.Time{}, false
		}
		loc = time.UTC
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := num(i+1, i+3)
		om, ok2 := num(i+4, i+6)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := oh*3600 + om*60
		if s[i] == '-' {
			off = -off
		}
		loc = z.zone(off)
	default:
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseTime parses one date-time without a shared zone cache.
func parseTime(s string) (time.Time, bool) {
	var z zoneCache
	return z.parse(s)
}
