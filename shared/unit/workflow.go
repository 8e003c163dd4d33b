package unit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/custodyhq/custody/shared/event"
)

// Catalog is the master data the workflow rules read. The site's state
// and the handheld's replica both have it; a Store that is also a
// Catalog gets the rules that need master data (unknown GTIN, product
// without data).
type Catalog interface {
	// ProductClient returns the client that owns product gtin; ok is
	// false when the product is not in the master data.
	ProductClient(gtin string) (client string, ok bool, err error)
	// ASNAnnounces reports whether ASN asn announces product gtin; ok
	// is false when the ASN is not known.
	ASNAnnounces(asn, gtin string) (announces, ok bool, err error)
}

// Reasons a device gives on a receive outside an ASN, which the
// workflow rules read.
const (
	// ReasonNotAnnounced, followed by the ASN id: a pack of a product
	// the ASN does not announce arrived with it.
	ReasonNotAnnounced = "not announced on ASN "
	// ReasonNeverShipped: a return of a serial this site has no record of.
	ReasonNeverShipped = "return of a serial never shipped from here"
)

// Raised is a workflow finding for one unit.
type Raised struct {
	Key event.Key
	Finding
	// version is the unit's version before the event: a finding on a
	// receive or return stands only when the event changed the unit.
	version uint64
}

// Records reports whether events of kind k record what a workflow found
// rather than change units: they are kept and raise their exceptions
// even though no unit changes.
func Records(k event.Kind) bool {
	return k == event.KindCloseASN || k == event.KindShortPick || k == event.KindVerifyMismatch
}

// Notes reports whether events of kind k only note what a user did on a
// device (a look-up): they are kept in the log and answered applied, but
// they record nothing on any unit: no state, no version, no exception,
// no history.
func Notes(k event.Kind) bool { return k == event.KindLookup }

// Workflow decides the workflow exceptions an event raises: SHORTAGE
// (an ASN closed with announced items not received), OVERAGE is the
// rules' own (Apply), AGGREGATION_MISMATCH (a container opened that does
// not hold what was recorded), UNKNOWN_GTIN, PRODUCT_WITHOUT_DATA,
// WRONG_SERIAL (a return of a serial never shipped from here),
// LOT_MISMATCH and EXPIRY_MISMATCH (a return carrying another lot or
// expiry than recorded). It reads the replica as it is before the event
// applies, and cat (nil: the rules that need master data are skipped).
// The handheld and the site run it through Evaluate on the same events,
// so both raise the same exceptions under the same ids.
func Workflow(st Store, cat Catalog, ev *event.Event) ([]Raised, error) {
	var out []Raised
	version := uint64(0)
	add := func(k event.Key, r Rule, format string, a ...any) {
		out = append(out, Raised{Key: k, Finding: Finding{Rule: r, Detail: fmt.Sprintf(format, a...)}, version: version})
	}
	switch ev.Kind {
	case event.KindReceive:
		for _, s := range ev.Subjects {
			k := s.Key
			if k.IsContainer() {
				continue
			}
			cur, err := st.Unit(k)
			if err != nil {
				return nil, fmt.Errorf("unit %s: %w", k, err)
			}
			version = cur.Version
			gtin := k.GTIN()
			if cat != nil {
				_, known, err := cat.ProductClient(gtin)
				if err != nil {
					return nil, fmt.Errorf("product %s: %w", gtin, err)
				}
				if !known {
					add(k, RuleUnknownGTIN, "GTIN %s of %s is not in the product master data: received to quarantine", gtin, k)
					continue
				}
			}
			if cur.Known() || ev.Ctx.ASN != "" {
				continue
			}
			switch {
			case strings.HasPrefix(ev.Ctx.Reason, ReasonNotAnnounced) && cat != nil:
				asn := strings.TrimPrefix(ev.Ctx.Reason, ReasonNotAnnounced)
				announces, ok, err := cat.ASNAnnounces(asn, gtin)
				if err != nil {
					return nil, fmt.Errorf("asn %s: %w", asn, err)
				}
				if ok && !announces {
					add(k, RuleNoData, "%s arrived on ASN %s, which announces no GTIN %s: product without data, received to quarantine", k, asn, gtin)
				}
			case ev.Ctx.Reason == ReasonNeverShipped:
				add(k, RuleWrongSerial, "returned %s was never shipped from this site: received to quarantine as suspect", k)
			}
		}
	case event.KindReturn:
		for _, s := range ev.Subjects {
			cur, err := st.Unit(s.Key)
			if err != nil {
				return nil, fmt.Errorf("unit %s: %w", s.Key, err)
			}
			if !cur.Known() {
				continue
			}
			version = cur.Version
			if ev.Ctx.Lot != "" && cur.Lot != "" && ev.Ctx.Lot != cur.Lot {
				add(s.Key, RuleLotMismatch, "returned %s carries lot %s; it was shipped as lot %s", s.Key, ev.Ctx.Lot, cur.Lot)
			}
			if ev.Ctx.Expiry != "" && cur.Expiry != "" && ev.Ctx.Expiry != cur.Expiry {
				add(s.Key, RuleExpiryMismatch, "returned %s carries expiry %s; it was shipped with %s", s.Key, ev.Ctx.Expiry, cur.Expiry)
			}
		}
	case event.KindCloseASN:
		for _, s := range ev.Subjects {
			cur, err := st.Unit(s.Key)
			if err != nil {
				return nil, fmt.Errorf("unit %s: %w", s.Key, err)
			}
			if cur.Status != StatusExpected || cur.ASN != ev.Ctx.ASN {
				continue // it arrived after all (another device received it)
			}
			inside, err := countInside(st, s.Key, 0)
			if err != nil {
				return nil, err
			}
			d := fmt.Sprintf("%s was announced on ASN %s but not received", s.Key, ev.Ctx.ASN)
			if inside > 0 {
				d += fmt.Sprintf(" (with %d inside)", inside)
			}
			add(s.Key, RuleShortage, "%s", d)
		}
	case event.KindVerifyMismatch:
		c := ev.Subjects[0].Key
		expected, err := st.Children(c)
		if err != nil {
			return nil, fmt.Errorf("children of %s: %w", c, err)
		}
		found := make([]event.Key, 0, len(ev.Subjects)-1)
		for _, s := range ev.Subjects[1:] {
			found = append(found, s.Key)
		}
		var missing, extra []event.Key
		for _, k := range expected {
			if !slices.Contains(found, k) {
				missing = append(missing, k)
			}
		}
		for _, k := range found {
			if !slices.Contains(expected, k) {
				extra = append(extra, k)
			}
		}
		if len(missing) == 0 && len(extra) == 0 {
			break
		}
		add(c, RuleAggregation, "%s", MismatchDetail(c, len(expected), missing, extra))
	}
	return out, nil
}

// MismatchDetail says what a container opened holds against what was
// recorded in it.
func MismatchDetail(c event.Key, expected int, missing, extra []event.Key) string {
	d := fmt.Sprintf("%s holds %d of %d expected", c, expected-len(missing), expected)
	if len(missing) > 0 {
		d += "; missing: " + KeyList(missing)
	}
	if len(extra) > 0 {
		d += "; extra: " + KeyList(extra)
	}
	return d
}

// KeyList names up to ten keys as people read them, and how many more.
func KeyList(ks []event.Key) string {
	const max = 10
	var b strings.Builder
	for i, k := range ks {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(ks)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k.String())
	}
	return b.String()
}

// countInside counts everything inside container k.
func countInside(st Store, k event.Key, depth int) (int, error) {
	if !k.IsContainer() || depth >= maxDepth {
		return 0, nil
	}
	kids, err := st.Children(k)
	if err != nil {
		return 0, fmt.Errorf("children of %s: %w", k, err)
	}
	n := len(kids)
	for _, c := range kids {
		m, err := countInside(st, c, depth+1)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}
