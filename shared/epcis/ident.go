package epcis

import "strings"

// Identifier syntax checks. They check form only (lengths, digits, check
// digits where the value carries one, the GS1 character set); whether an
// identifier is known is the business of master data, not of the codec.

// idKind says what an identifier position expects.
type idKind uint8

const (
	idInstance idKind = iota // epcList, childEPCs, parentID, input/output EPCs
	idClass                  // epcClass of a quantity element
	idAny                    // readPoint, bizLocation, source, destination: any URI, EPCs checked
)

// checkID returns "" when s is acceptable in position k, or the reason it
// is not.
func checkID(s string, k idKind) string {
	if s == "" {
		return "empty identifier"
	}
	switch {
	case strings.HasPrefix(s, "urn:epc:id:"):
		if k == idClass {
			return "instance-level EPC " + quote(s) + " where a class is expected"
		}
		return checkEPCURN(s[len("urn:epc:id:"):])
	case strings.HasPrefix(s, "urn:epc:class:"), strings.HasPrefix(s, "urn:epc:idpat:"):
		if k == idInstance {
			return "class-level identifier " + quote(s) + " where an instance EPC is expected"
		}
		return checkClassURN(s)
	case strings.HasPrefix(s, "urn:epc:"):
		return "unknown EPC URN form " + quote(s)
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		if !isURI(s) {
			return "malformed URI " + quote(s)
		}
		dl, isDL, why := parseDigitalLink(s)
		if !isDL {
			return ""
		}
		if why != "" {
			return "bad GS1 Digital Link " + quote(s) + ": " + why
		}
		switch {
		case k == idInstance && !dl.instance:
			return "Digital Link " + quote(s) + " names a class, not an instance"
		case k == idClass && dl.instance:
			return "Digital Link " + quote(s) + " names an instance, not a class"
		}
		return ""
	}
	if !isURI(s) {
		return "not a URI: " + quote(s)
	}
	return ""
}

// checkEPCURN checks the part of an EPC pure identity URN after
// "urn:epc:id:".
func checkEPCURN(rest string) string {
	scheme, body, ok := strings.Cut(rest, ":")
	if !ok || body == "" {
		return "EPC URN without a value: " + quote("urn:epc:id:"+rest)
	}
	var buf [4]string
	parts := splitDots(body, buf[:0])
	bad := func(why string) string { return "bad " + scheme + " EPC " + quote("urn:epc:id:"+rest) + ": " + why }
	switch scheme {
	case "sgtin": // CompanyPrefix.IndicatorItemRef.Serial
		if len(parts) != 3 {
			return bad("want CompanyPrefix.ItemReference.Serial")
		}
		if w := digitFields(parts[0], parts[1], 13); w != "" {
			return bad(w)
		}
		if w := checkComponent(parts[2], 1, 20); w != "" {
			return bad("serial " + w)
		}
	case "sscc", "gsrn", "gsrnp":
		if len(parts) != 2 {
			return bad("want CompanyPrefix.Reference")
		}
		if w := digitFields(parts[0], parts[1], 17); w != "" {
			return bad(w)
		}
	case "sgln": // CompanyPrefix.LocationRef.Extension
		if len(parts) != 3 {
			return bad("want CompanyPrefix.LocationReference.Extension")
		}
		if w := digitFields(parts[0], parts[1], 12); w != "" {
			return bad(w)
		}
		if w := checkComponent(parts[2], 1, 20); w != "" {
			return bad("extension " + w)
		}
	case "pgln":
		if len(parts) != 2 {
			return bad("want CompanyPrefix.PartyReference")
		}
		if w := digitFields(parts[0], parts[1], 12); w != "" {
			return bad(w)
		}
	case "grai", "gdti", "sgcn": // CompanyPrefix.Type.Serial
		if len(parts) != 3 {
			return bad("want CompanyPrefix.Type.Serial")
		}
		if w := digitFields(parts[0], parts[1], 12); w != "" {
			return bad(w)
		}
		max := 16
		switch scheme {
		case "gdti":
			max = 17
		case "sgcn":
			max = 12
		}
		if w := checkComponent(parts[2], 1, max); w != "" {
			return bad("serial " + w)
		}
	case "giai": // CompanyPrefix.AssetRef, at most 30 characters together
		body, ref, ok := strings.Cut(body, ".")
		if !ok {
			return bad("want CompanyPrefix.AssetReference")
		}
		if !allDigits(body) || len(body) < 6 || len(body) > 12 {
			return bad("company prefix must be 6 to 12 digits")
		}
		if w := checkComponent(ref, 1, 30-len(body)); w != "" {
			return bad("asset reference " + w)
		}
	case "cpi", "ginc", "gsin", "itip", "upui", "gid", "usdod", "adi", "bic", "imovn", "pgln-ext":
		for _, p := range parts {
			if w := checkComponent(p, 0, 64); w != "" {
				return bad(w)
			}
		}
	default:
		return "unknown EPC scheme " + quote(scheme)
	}
	return ""
}

// splitDots splits s at '.' into dst without allocating for up to
// cap(dst) parts.
func splitDots(s string, dst []string) []string {
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// checkClassURN checks urn:epc:class:lgtin and urn:epc:idpat forms.
func checkClassURN(s string) string {
	var buf [4]string
	if rest, ok := strings.CutPrefix(s, "urn:epc:class:lgtin:"); ok {
		parts := splitDots(rest, buf[:0])
		if len(parts) != 3 {
			return "bad lgtin class " + quote(s) + ": want CompanyPrefix.ItemReference.Lot"
		}
		if w := digitFields(parts[0], parts[1], 13); w != "" {
			return "bad lgtin class " + quote(s) + ": " + w
		}
		if w := checkComponent(parts[2], 1, 20); w != "" {
			return "bad lgtin class " + quote(s) + ": lot " + w
		}
		return ""
	}
	if rest, ok := strings.CutPrefix(s, "urn:epc:idpat:sgtin:"); ok {
		parts := splitDots(rest, buf[:0])
		if len(parts) != 3 || parts[2] != "*" {
			return "bad sgtin pattern " + quote(s) + ": want CompanyPrefix.ItemReference.*"
		}
		if w := digitFields(parts[0], parts[1], 13); w != "" {
			return "bad sgtin pattern " + quote(s) + ": " + w
		}
		return ""
	}
	if strings.HasPrefix(s, "urn:epc:idpat:") || strings.HasPrefix(s, "urn:epc:class:") {
		if !isURI(s) {
			return "malformed URI " + quote(s)
		}
		return ""
	}
	return "unknown EPC class form " + quote(s)
}

// digitFields checks a company prefix (6–12 digits) and a digit reference
// whose combined length must be total.
func digitFields(prefix, ref string, total int) string {
	if len(prefix) < 6 || len(prefix) > 12 || !allDigits(prefix) {
		return "company prefix must be 6 to 12 digits"
	}
	if !allDigits(ref) {
		return "reference must be digits"
	}
	if len(prefix)+len(ref) != total {
		return "company prefix and reference must have " + itoa(total) + " digits together"
	}
	return ""
}

// checkComponent checks an EPC URN component: GS1 character set 82, with
// the characters that must be escaped written as %XX. Lengths count
// decoded characters.
func checkComponent(s string, min, max int) string {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return "has a truncated %-escape"
			}
			d, ok := unhex2(s[i+1], s[i+2])
			if !ok || !isCS82(d) {
				return "has a bad %-escape"
			}
			i += 2
			n++
			continue
		}
		if !isURNChar(c) {
			return "has character " + quote(string(rune(c))) + " outside the GS1 character set (or unescaped)"
		}
		n++
	}
	if n < min {
		return "is empty"
	}
	if n > max {
		return "is longer than " + itoa(max) + " characters"
	}
	return ""
}

func unhex2(a, b byte) (byte, bool) {
	h, ok1 := unhex(a)
	l, ok2 := unhex(b)
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isCS82 reports whether c is in GS1 AI encodable character set 82.
func isCS82(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!\"%&'()*+,-./:;<=>?_", c) >= 0
}

// isURNChar reports whether c may appear unescaped in an EPC URN component.
func isURNChar(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!'()*+,-:;=_", c) >= 0
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkDigitOK verifies the GS1 mod-10 check digit that ends d.
func checkDigitOK(d string) bool {
	if len(d) < 2 || !allDigits(d) {
		return false
	}
	sum := 0
	w := 3
	for i := len(d) - 2; i >= 0; i-- {
		sum += int(d[i]-'0') * w
		w = 4 - w
	}
	return byte((10-sum%10)%10) == d[len(d)-1]-'0'
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// digitalLink is what the checks need from a parsed GS1 Digital Link URI.
type digitalLink struct {
	primary  string // primary key AI
	instance bool   // names one object, not a class
}

// parseDigitalLink recognises a GS1 Digital Link URI (on any domain) by a
// path segment that is a primary-key AI followed by a value. isDL is false
// for other http(s) URIs; why is non-empty when it is a Digital Link but a
// value is malformed.
func parseDigitalLink(s string) (dl digitalLink, isDL bool, why string) {
	rest := s[strings.Index(s, "://")+3:]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return dl, false, ""
	}
	path := rest[slash+1:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	start := -1
	for i := 0; i+1 < len(segs); i++ {
		if _, ok := dlPrimary(segs[i]); ok {
			start = i
			break
		}
	}
	if start < 0 {
		return dl, false, ""
	}
	segs = segs[start:]
	if len(segs)%2 != 0 {
		return dl, true, "odd number of path segments after the primary key"
	}
	dl.primary = segs[0]
	rule, _ := dlPrimary(segs[0])
	v, ok := pctDecode(segs[1])
	if !ok {
		return dl, true, "bad %-escape in " + segs[0]
	}
	inst, w := rule(v)
	if w != "" {
		return dl, true, "AI (" + segs[0] + ") " + w
	}
	dl.instance = inst
	quals := dlQualifiers(segs[0])
	qi := 0
	for i := 2; i < len(segs); i += 2 {
		ai := segs[i]
		pos := -1
		for j := qi; j < len(quals); j++ {
			if quals[j].ai == ai {
				pos = j
				break
			}
		}
		if pos < 0 {
			return dl, true, "qualifier (" + ai + ") not allowed here or out of order after (" + dl.primary + ")"
		}
		qi = pos + 1
		v, ok := pctDecode(segs[i+1])
		if !ok {
			return dl, true, "bad %-escape in (" + ai + ")"
		}
		if w := checkAIText(v, quals[pos].max); w != "" {
			return dl, true, "AI (" + ai + ") " + w
		}
		if quals[pos].instance {
			dl.instance = true
		}
	}
	return dl, true, ""
}

type dlQual struct {
	ai       string
	max      int
	instance bool
}

// dlQualifiers lists, in the required order, the key qualifiers a primary
// key may carry.
func dlQualifiers(primary string) []dlQual {
	switch primary {
	case "01":
		return []dlQual{{"22", 20, false}, {"10", 20, false}, {"21", 20, true}}
	case "8006":
		return []dlQual{{"22", 20, false}, {"10", 20, false}, {"21", 20, true}}
	case "414":
		return []dlQual{{"254", 20, true}, {"7040", 4, false}}
	case "8010":
		return []dlQual{{"8011", 12, true}}
	case "8004":
		return []dlQual{{"7040", 4, false}}
	}
	return nil
}

// dlPrimary returns the value check for a primary-key AI. The check
// reports whether the value alone names an instance.
func dlPrimary(ai string) (func(string) (bool, string), bool) {
	fixed := func(n int, instance bool) func(string) (bool, string) {
		return func(v string) (bool, string) {
			if len(v) != n || !allDigits(v) {
				return false, "must be " + itoa(n) + " digits"
			}
			if !checkDigitOK(v) {
				return false, "has a wrong check digit"
			}
			return instance, ""
		}
	}
	// keyPlus: n digits with check digit, then an optional serial of up to
	// max characters that makes it an instance.
	keyPlus := func(lead, n, max int, digitsOnly bool) func(string) (bool, string) {
		return func(v string) (bool, string) {
			if len(v) < lead+n || !allDigits(v[:lead+n]) {
				return false, "must start with " + itoa(lead+n) + " digits"
			}
			if !checkDigitOK(v[lead : lead+n]) {
				return false, "has a wrong check digit"
			}
			ser := v[lead+n:]
			if digitsOnly && ser != "" && !allDigits(ser) {
				return false, "serial must be digits"
			}
			if w := checkAIText(ser, max); ser != "" && w != "" {
				return false, "serial " + w
			}
			return ser != "", ""
		}
	}
	text := func(max int) func(string) (bool, string) {
		return func(v string) (bool, string) {
			if w := checkAIText(v, max); w != "" {
				return false, w
			}
			return true, ""
		}
	}
	switch ai {
	case "01":
		return func(v string) (bool, string) {
			switch len(v) {
			case 8, 12, 13, 14:
			default:
				return false, "must be a GTIN of 8, 12, 13 or 14 digits"
			}
			if !allDigits(v) {
				return false, "must be digits"
			}
			if !checkDigitOK(v) {
				return false, "has a wrong check digit"
			}
			return false, ""
		}, true
	case "00":
		return fixed(18, true), true
	case "414", "417":
		return fixed(13, true), true
	case "8017", "8018":
		return fixed(18, true), true
	case "402":
		return fixed(17, true), true
	case "8003":
		return keyPlus(1, 13, 16, false), true
	case "253":
		return keyPlus(0, 13, 17, false), true
	case "255":
		return keyPlus(0, 13, 12, true), true
	case "8006":
		return func(v string) (bool, string) {
			if len(v) != 18 || !allDigits(v) {
				return false, "must be 18 digits"
			}
			if !checkDigitOK(v[:14]) {
				return false, "has a wrong check digit"
			}
			return false, ""
		}, true
	case "8004", "401", "8010", "8013":
		return text(30), true
	}
	return nil, false
}

// checkAIText checks an AI value in character set 82, 1..max long.
func checkAIText(v string, max int) string {
	if v == "" {
		return "is empty"
	}
	if len(v) > max {
		return "is longer than " + itoa(max) + " characters"
	}
	for i := 0; i < len(v); i++ {
		if !isCS82(v[i]) {
			return "has character " + quote(string(rune(v[i]))) + " outside the GS1 character set"
		}
	}
	return ""
}

// pctDecode undoes URI percent-encoding.
func pctDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			d, ok := unhex2(s[i+1], s[i+2])
			if !ok {
				return "", false
			}
			b = append(b, d)
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}
