package signals

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// SupplierModel knows, per supplier, what it usually sends: which
// products, how many units an ASN of it carries and how many lots. It
// learns from the ASNs the site imports, one ASN at a time, and judges
// a new ASN before learning it: a product the supplier never sent, far
// more units than any of its ASNs carried, or more lots than its ASNs
// mix. A diverted or counterfeit source tends to show as one of these.
type SupplierModel struct {
	suppliers map[string]*supplierStats
}

type supplierStats struct {
	asns     int64            // ASNs learned
	products map[string]int64 // GTIN → ASNs that carried it
	maxUnits int64            // most units one ASN carried
	maxLots  int              // most lots one ASN carried
}

// Shipment is one ASN as the supplier model sees it: the products it
// carries (in order), its units and its distinct lots.
type Shipment struct {
	ASN, Supplier string
	Products      []string
	Units         int64
	Lots          int
}

// NewSupplierModel returns an empty model.
func NewSupplierModel() *SupplierModel {
	return &SupplierModel{suppliers: map[string]*supplierStats{}}
}

// Learn adds one shipment to its supplier's profile.
func (m *SupplierModel) Learn(s *Shipment) {
	if s.Supplier == "" {
		return
	}
	st := m.suppliers[s.Supplier]
	if st == nil {
		st = &supplierStats{products: map[string]int64{}}
		m.suppliers[s.Supplier] = st
	}
	st.asns++
	for _, g := range s.Products {
		st.products[g]++
	}
	st.maxUnits = max(st.maxUnits, s.Units)
	st.maxLots = max(st.maxLots, s.Lots)
}

// Judge scores a shipment against its supplier's profile. A profile of
// fewer than minShipments ASNs judges nothing. The score is the share of
// the supplier's ASNs that speak against the shipment, n/(n+1) for n
// ASNs none of which looked like it: 0.95 after 19.
func (m *SupplierModel) Judge(s *Shipment, minShipments int64) Judgement {
	var j Judgement
	st := m.suppliers[s.Supplier]
	if st == nil || st.asns < minShipments || st.asns == 0 {
		return j
	}
	score := float64(st.asns) / float64(st.asns+1)
	n := count(st.asns)
	for _, g := range s.Products {
		if st.products[g] == 0 {
			j.Score = score
			if j.Cause == "" {
				j.Cause = "product " + g
			}
			j.Reasons = append(j.Reasons, fmt.Sprintf("ASN %s from %s carries GTIN %s, which none of the %s ASNs %s sent before carried (it sends %s)",
				s.ASN, s.Supplier, g, n, s.Supplier, m.usual(st)))
		}
	}
	if st.maxUnits > 0 && s.Units > 2*st.maxUnits {
		j.Score = score
		if j.Cause == "" {
			j.Cause = "units"
		}
		j.Reasons = append(j.Reasons, fmt.Sprintf("ASN %s from %s carries %s units; the largest of the %s ASNs %s sent before carried %s",
			s.ASN, s.Supplier, count(s.Units), n, s.Supplier, count(st.maxUnits)))
	}
	if st.maxLots > 0 && s.Lots > 2*st.maxLots {
		j.Score = score
		if j.Cause == "" {
			j.Cause = "lots"
		}
		j.Reasons = append(j.Reasons, fmt.Sprintf("ASN %s from %s mixes %d lots; the %s ASNs %s sent before carried at most %d",
			s.ASN, s.Supplier, s.Lots, n, s.Supplier, st.maxLots))
	}
	return j
}

// usual names the products a supplier sends most, most first (at most
// three).
func (m *SupplierModel) usual(st *supplierStats) string {
	gs := make([]string, 0, len(st.products))
	for g := range st.products {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b string) int {
		if c := cmp.Compare(st.products[b], st.products[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	more := ""
	if len(gs) > 3 {
		more = fmt.Sprintf(" and %d more", len(gs)-3)
		gs = gs[:3]
	}
	return "GTIN " + strings.Join(gs, ", ") + more
}

// asnInfo is what an ASN carries, gathered over its import (an ASN may
// come in parts) until the first receipt of one of its units judges it
// against its supplier's profile.
type asnInfo struct {
	supplier string
	products []string
	lots     []string
	units    int64
	judged   bool
}

// maxASNLots bounds the distinct lots remembered of one ASN.
const maxASNLots = 64

// carries notes what the newly announced items of an ASN carry.
func (a *Analyzer) carries(asn *master.ASN, items []learn) {
	if len(items) == 0 || asn.Supplier == "" {
		return
	}
	info := a.asns[asn.ID]
	if info == nil {
		info = &asnInfo{supplier: asn.Supplier}
		a.asns[asn.ID] = info
	}
	if info.judged {
		return
	}
	for _, l := range items {
		info.units++
		if g := l.it.Key.GTIN(); !slices.Contains(info.products, g) {
			info.products = append(info.products, g)
		}
		if lot := l.it.Lot; lot != "" && len(info.lots) < maxASNLots && !slices.Contains(info.lots, lot) {
			info.lots = append(info.lots, lot)
		}
	}
}

// shipment judges the ASN of a unit at its first receipt against its
// supplier's profile, raises the finding on that unit when the ASN is
// unlike what the supplier sends, and learns it otherwise.
func (a *Analyzer) shipment(out []Finding, ev *event.Event, k event.Key, u *unitInfo) []Finding {
	info := a.asns[u.asn]
	if info == nil || info.judged {
		return out
	}
	info.judged = true
	s := Shipment{ASN: u.asn, Supplier: info.supplier, Products: info.products, Units: info.units, Lots: len(info.lots)}
	info.products, info.lots = nil, nil
	j := a.supply.Judge(&s, a.cfg.MinShipments)
	if j.Score < a.cfg.SupplierThreshold {
		a.supply.Learn(&s)
		return out
	}
	f := a.finding(RuleSupplierProfile, k, ev, j.Score, cause(RuleSupplierProfile, s.Supplier, j.Cause),
		strings.Join(j.Reasons, "; ")+": hold the shipment and confirm it with the supplier")
	f.Units = []event.Key{k}
	return a.raise(out, u, f)
}
