package gs1

import (
	"strconv"
	"strings"
)

// linter is a content check of one component, named as in the dictionary.
type linter uint8

const (
	lintNone linter = iota // accepted by name, checked elsewhere or not at all
	lintCsum
	lintCsumAlpha
	lintYYMMD0
	lintYYMMDD
	lintYYYYMMDD
	lintHHMI
	lintHH
	lintMI
	lintSS
	lintYesNo
	lintZero
	lintNonZero
	lintWinding
	lintPieceOfTotal
	lintHyphen
	lintImporterIdx
	lintISO5218
	lintPosInSeqSlash
	lintNoZeroPrefix
	lintHasNonDigit
	lintLatitude
	lintLongitude
	lintPcenc
	lintIBAN
	lintAlpha2
)

// linterByName maps the dictionary's linter names. Names that map to
// lintNone are known but only checked structurally (by the component's
// length and character set): company-prefix positions need the GS1
// company-prefix register, and the code lists (ISO 3166, ISO 4217, package
// types, media types, coupon codes) are not carried here.
func linterByName(name string) (linter, bool) {
	switch name {
	case "csum":
		return lintCsum, true
	case "csumalpha":
		return lintCsumAlpha, true
	case "yymmd0":
		return lintYYMMD0, true
	case "yymmdd":
		return lintYYMMDD, true
	case "yyyymmdd":
		return lintYYYYMMDD, true
	case "hhmi":
		return lintHHMI, true
	case "hh":
		return lintHH, true
	case "mi":
		return lintMI, true
	case "ss":
		return lintSS, true
	case "yesno":
		return lintYesNo, true
	case "zero":
		return lintZero, true
	case "nonzero":
		return lintNonZero, true
	case "winding":
		return lintWinding, true
	case "pieceoftotal":
		return lintPieceOfTotal, true
	case "hyphen":
		return lintHyphen, true
	case "importeridx":
		return lintImporterIdx, true
	case "iso5218":
		return lintISO5218, true
	case "posinseqslash":
		return lintPosInSeqSlash, true
	case "nozeroprefix":
		return lintNoZeroPrefix, true
	case "hasnondigit":
		return lintHasNonDigit, true
	case "latitude":
		return lintLatitude, true
	case "longitude":
		return lintLongitude, true
	case "pcenc":
		return lintPcenc, true
	case "iban":
		return lintIBAN, true
	case "iso3166alpha2":
		return lintAlpha2, true
	case "gcppos1", "gcppos2", "iso3166", "iso3166999", "iso4217",
		"packagetype", "mediatype", "couponcode", "couponposoffer":
		return lintNone, true
	}
	return lintNone, false
}

// Character classes, one bit per set.
const (
	inN = 1 << iota
	inX
	inY
	inZ
)

// charClass is indexed by byte; built once, never written afterwards.
var charClass = func() (c [256]uint8) {
	for b := '0'; b <= '9'; b++ {
		c[b] |= inN | inX | inY | inZ
	}
	for b := 'A'; b <= 'Z'; b++ {
		c[b] |= inX | inY | inZ
	}
	for b := 'a'; b <= 'z'; b++ {
		c[b] |= inX | inZ
	}
	for _, b := range []byte("!\"%&'()*+,-./:;<=>?_") {
		c[b] |= inX
	}
	for _, b := range []byte("#-/") {
		c[b] |= inY
	}
	c['-'] |= inZ
	c['_'] |= inZ
	return c
}()

func csetBit(c cset) uint8 {
	switch c {
	case csetN:
		return inN
	case csetX:
		return inX
	case csetY:
		return inY
	default:
		return inZ
	}
}

// IsCSet82 reports whether s uses only GS1 character set 82 (the set of
// lots and serial numbers).
func IsCSet82(s string) bool {
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&inX == 0 {
			return false
		}
	}
	return true
}

// describeChar renders a byte for a message.
func describeChar(b byte) string {
	switch {
	case b == ' ':
		return "a space"
	case b == 0x1d:
		return "a group separator (GS)"
	case b < 0x20 || b >= 0x7f:
		return "byte 0x" + strconv.FormatUint(uint64(b)|0x100, 16)[1:]
	}
	return "'" + string(rune(b)) + "'"
}

// validate checks a value against its AI's format and linters.
func (e *entry) validate(v string) error {
	if len(v) < e.minLen {
		if len(v) == 0 {
			return errAI(e.ai, ErrTooShort, "the value is empty")
		}
		return errAI(e.ai, ErrTooShort, "the value is too short: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
	}
	if len(v) > e.maxLen {
		return errAI(e.ai, ErrTooLong, "the value is too long: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
	}
	pos := 0
	for ci := range e.comps {
		c := &e.comps[ci]
		if pos == len(v) && c.optional {
			break
		}
		var seg string
		if c.min == c.max {
			if len(v)-pos < c.min {
				return errAI(e.ai, ErrTooShort, "the value is too short: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
			}
			seg = v[pos : pos+c.min]
		} else {
			seg = v[pos:]
			if len(seg) > c.max {
				return errAI(e.ai, ErrTooLong, "the value is too long: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
			}
			if len(seg) < c.min {
				return errAI(e.ai, ErrTooShort, "the value is too short: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
			}
		}
		bit := csetBit(c.cset)
		for i := 0; i < len(seg); i++ {
			if charClass[seg[i]]&bit == 0 {
				if c.cset == csetZ && seg[i] == '=' && strings.Trim(seg[i:], "=") == "" {
					break // base64 padding at the end
				}
				return errAI(e.ai, ErrCharset, describeChar(seg[i])+" at position "+strconv.Itoa(pos+i+1)+" is not allowed ("+c.cset.String()+")")
			}
		}
		for _, l := range c.lints {
			if err := l.check(e.ai, seg); err != nil {
				return err
			}
		}
		pos += len(seg)
	}
	if pos != len(v) {
		return errAI(e.ai, ErrTooLong, "the value is too long: "+strconv.Itoa(len(v))+" characters, "+lengthWords(e))
	}
	return nil
}

func lengthWords(e *entry) string {
	if e.minLen == e.maxLen {
		return "exactly " + strconv.Itoa(e.maxLen) + " expected"
	}
	if e.minLen <= 1 {
		return "at most " + strconv.Itoa(e.maxLen) + " allowed"
	}
	return strconv.Itoa(e.minLen) + " to " + strconv.Itoa(e.maxLen) + " allowed"
}

var monthNames = [...]string{"", "January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"}

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if leap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkDate checks month and day; year is the full year when known, or a
// two-digit year (leap when divisible by 4, which is right for 1901-2099).
func checkDate(ai string, year, month, day int, dayZero bool) error {
	if month < 1 || month > 12 {
		return errAI(ai, ErrBadDate, "month "+strconv.Itoa(month)+" does not exist")
	}
	if day == 0 {
		if dayZero {
			return nil
		}
		return errAI(ai, ErrBadDate, "day 00 does not exist")
	}
	y := year
	if y < 100 {
		y += 2000
	}
	if max := daysIn(month, y); day > max {
		if month == 2 && day == 29 {
			yearText := strconv.Itoa(year)
			if year < 100 {
				if year < 10 {
					yearText = "'0" + strconv.Itoa(year)
				} else {
					yearText = "'" + strconv.Itoa(year)
				}
			}
			return errAI(ai, ErrBadDate, "29 February does not exist in "+yearText+" (not a leap year)")
		}
		return errAI(ai, ErrBadDate, "day "+strconv.Itoa(day)+" does not exist in "+monthNames[month])
	}
	return nil
}

func (l linter) check(ai, s string) error {
	switch l {
	case lintCsum:
		want, _ := CheckDigit(s[:len(s)-1])
		if s[len(s)-1] != want {
			return errAI(ai, ErrCheckDigit, "check digit is wrong (expected "+string(want)+")")
		}
	case lintCsumAlpha:
		return checkAlphaPair(ai, s)
	case lintYYMMD0, lintYYMMDD:
		return checkDate(ai, num(s[0:2]), num(s[2:4]), num(s[4:6]), l == lintYYMMD0)
	case lintYYYYMMDD:
		return checkDate(ai, num(s[0:4]), num(s[4:6]), num(s[6:8]), false)
	case lintHHMI:
		if h := num(s[0:2]); h > 23 {
			return errAI(ai, ErrBadDate, "hour "+s[0:2]+" does not exist")
		}
		if m := num(s[2:4]); m > 59 {
			return errAI(ai, ErrBadDate, "minute "+s[2:4]+" does not exist")
		}
	case lintHH:
		if num(s) > 23 {
			return errAI(ai, ErrBadDate, "hour "+s+" does not exist")
		}
	case lintMI:
		if num(s) > 59 {
			return errAI(ai, ErrBadDate, "minute "+s+" does not exist")
		}
	case lintSS:
		if num(s) > 59 {
			return errAI(ai, ErrBadDate, "second "+s+" does not exist")
		}
	case lintYesNo:
		if s != "0" && s != "1" {
			return errAI(ai, ErrBadValue, "must be 0 (no) or 1 (yes), not "+s)
		}
	case lintZero:
		if strings.Trim(s, "0") != "" {
			return errAI(ai, ErrBadValue, "must be 0, not "+s)
		}
	case lintNonZero:
		if strings.Trim(s, "0") == "" {
			return errAI(ai, ErrBadValue, "a dimension must not be zero")
		}
	case lintWinding:
		if s != "0" && s != "1" && s != "9" {
			return errAI(ai, ErrBadValue, "winding direction must be 0, 1 or 9, not "+s)
		}
	case lintPieceOfTotal:
		h := len(s) / 2
		p, t := num(s[:h]), num(s[h:])
		if p == 0 || t == 0 || p > t {
			return errAI(ai, ErrBadValue, "piece "+s[:h]+" of "+s[h:]+" is not possible")
		}
	case lintHyphen:
		if strings.Trim(s, "-") != "" {
			return errAI(ai, ErrBadValue, "only '-' may follow the number")
		}
	case lintImporterIdx:
		for i := 0; i < len(s); i++ {
			if c := s[i]; charClass[c]&inZ == 0 {
				return errAI(ai, ErrBadValue, "importer index "+describeChar(c)+" is not allowed")
			}
		}
	case lintISO5218:
		if s != "0" && s != "1" && s != "2" && s != "9" {
			return errAI(ai, ErrBadValue, "sex code must be 0, 1, 2 or 9, not "+s)
		}
	case lintPosInSeqSlash:
		i := strings.IndexByte(s, '/')
		if i <= 0 || i == len(s)-1 || strings.Trim(s[:i]+s[i+1:], "0123456789") != "" {
			return errAI(ai, ErrBadValue, "must be a position like 1/2, not "+s)
		}
		if p, t := num(s[:i]), num(s[i+1:]); p == 0 || p > t {
			return errAI(ai, ErrBadValue, "position "+s+" is not possible")
		}
	case lintNoZeroPrefix:
		if len(s) > 1 && s[0] == '0' {
			return errAI(ai, ErrBadValue, "must not start with 0")
		}
	case lintHasNonDigit:
		if strings.Trim(s, "0123456789") == "" {
			return errAI(ai, ErrBadValue, "must contain a character that is not a digit")
		}
	case lintLatitude:
		if num(s) > 1800000000 {
			return errAI(ai, ErrBadValue, "latitude out of range")
		}
	case lintLongitude:
		if num(s) > 3600000000 {
			return errAI(ai, ErrBadValue, "longitude out of range")
		}
	case lintPcenc:
		for i := 0; i < len(s); i++ {
			if s[i] == '%' && (i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0) {
				return errAI(ai, ErrBadValue, "'%' at position "+strconv.Itoa(i+1)+" is not followed by two hexadecimal digits")
			}
		}
	case lintIBAN:
		return checkIBAN(ai, s)
	case lintAlpha2:
		for i := 0; i < len(s); i++ {
			if s[i] < 'A' || s[i] > 'Z' {
				return errAI(ai, ErrBadValue, "country code must be two capital letters, not "+s)
			}
		}
	}
	return nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}

// CheckDigit computes the GS1 mod-10 check digit over digits (the digits of a
// GTIN, SSCC, GLN ... without their check digit): weights 3,1,3,1... from the
// right; check = (10 - sum mod 10) mod 10. The digit comes back as an ASCII
// character, '0' to '9', ready to compare with the last byte of a key.
func CheckDigit(digits string) (byte, error) {
	if digits == "" {
		return 0, errData(ErrCharset, "no digits to compute a check digit over")
	}
	sum := 0
	w := 3
	for i := len(digits) - 1; i >= 0; i-- {
		d := digits[i] - '0'
		if d > 9 {
			return 0, errData(ErrCharset, describeChar(digits[i])+" is not a digit")
		}
		sum += int(d) * w
		w ^= 2 // 3 -> 1 -> 3
	}
	return byte('0' + (10-sum%10)%10), nil
}

const (
	cset82Order = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	cset32      = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
)

// checkAlphaPair checks the two check characters that end a GMN (AI 8013,
// 8014): sum of CSET 82 positions weighted by primes from the right, mod
// 1021, written as two CSET 32 characters.
func checkAlphaPair(ai, s string) error {
	if len(s) < 3 {
		return errAI(ai, ErrTooShort, "too short to carry its two check characters")
	}
	primes := [...]int{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83}
	data := s[:len(s)-2]
	if len(data) > len(primes) {
		return errAI(ai, ErrTooLong, "the value is too long")
	}
	sum := 0
	for i := 0; i < len(data); i++ {
		sum += strings.IndexByte(cset82Order, data[i]) * primes[len(data)-1-i]
	}
	sum %= 1021
	want := string([]byte{cset32[sum>>5], cset32[sum&31]})
	if s[len(s)-2:] != want {
		return errAI(ai, ErrCheckDigit, "check characters are wrong (expected "+want+")")
	}
	return nil
}

func checkIBAN(ai, s string) error {
	if len(s) < 5 {
		return errAI(ai, ErrBadValue, "an IBAN is longer than "+strconv.Itoa(len(s))+" characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
		if !ok || (i < 2 && c <= '9') || (i >= 2 && i < 4 && c > '9') {
			return errAI(ai, ErrBadValue, "not an IBAN: "+describeChar(c)+" at position "+strconv.Itoa(i+1))
		}
	}
	rem := 0
	r := s[4:] + s[:4]
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c <= '9' {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A'+10)) % 97
		}
	}
	if rem != 1 {
		return errAI(ai, ErrCheckDigit, "the IBAN's check digits are wrong")
	}
	return nil
}
