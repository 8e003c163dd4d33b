package signals

import "fmt"

// LotModel knows, per product, how its lots look, and per lot, the
// expiry and the supplier every sighting of it carried. It learns from
// supplier data (ASN items).
type LotModel struct {
	formats map[string]*FormatModel // gtin → lot format
	lots    map[lotKey]*lotStats
}

type lotKey struct{ gtin, lot string }

type lotStats struct {
	n        int64
	expiry   map[string]int64
	supplier map[string]int64
}

// NewLotModel returns an empty model.
func NewLotModel() *LotModel {
	return &LotModel{formats: map[string]*FormatModel{}, lots: map[lotKey]*lotStats{}}
}

// Learn adds one unit's supplier data.
func (m *LotModel) Learn(gtin, lot, expiry, supplier string) {
	if gtin == "" || lot == "" {
		return
	}
	f := m.formats[gtin]
	if f == nil {
		f = &FormatModel{}
		m.formats[gtin] = f
	}
	f.Learn(lot)
	k := lotKey{gtin, lot}
	s := m.lots[k]
	if s == nil {
		s = &lotStats{expiry: map[string]int64{}, supplier: map[string]int64{}}
		m.lots[k] = s
	}
	s.n++
	if expiry != "" {
		s.expiry[expiry]++
	}
	if supplier != "" {
		s.supplier[supplier]++
	}
}

// Format is the lot format model of a product (nil when none).
func (m *LotModel) Format(gtin string) *FormatModel { return m.formats[gtin] }

// dominant returns the most frequent value of counts (ties: the smaller
// string) and its count, and the total.
func dominant(counts map[string]int64) (best string, bestN, total int64) {
	for v, n := range counts {
		total += n
		if n > bestN || n == bestN && v < best {
			best, bestN = v, n
		}
	}
	return best, bestN, total
}

// JudgeLot scores a lot as the product's lots look and as its supplier
// sends them: a lot shaped unlike the others, or a known lot from a
// supplier that never sent it.
func (m *LotModel) JudgeLot(gtin, lot, supplier string, minSupport int64) Judgement {
	var j Judgement
	s := m.lots[lotKey{gtin, lot}]
	if f := m.formats[gtin]; f != nil && lot != "" {
		// The lot's own units are left out: a forged lot arrives with
		// many packs and must not vouch for itself.
		var own int64
		if s != nil {
			own = s.n
		}
		fj := f.ScoreWithout(lot, own, minSupport)
		if fj.Score > 0 {
			j = Judgement{Score: fj.Score, Cause: "format " + fj.Cause,
				Reasons: append([]string{fmt.Sprintf("lot `%s` does not look like the lots of %s units seen for GTIN %s", lot, count(f.N), gtin)}, fj.Reasons...)}
		}
	}
	if s == nil || supplier == "" {
		return j
	}
	best, bestN, total := dominant(s.supplier)
	if total >= minSupport/4 && best != supplier && s.supplier[supplier]*100 < total {
		sc := float64(bestN) / float64(total)
		if sc > j.Score {
			j.Score, j.Cause = sc, "supplier "+supplier
			j.Reasons = append([]string{fmt.Sprintf("lot `%s` of GTIN %s came from %s on %s of %s units; here it comes from %s",
				lot, gtin, best, count(bestN), count(total), supplier)}, j.Reasons...)
		}
	}
	return j
}

// JudgeExpiry scores an expiry against every other sighting of the lot:
// a lot whose units agree on one expiry and one pack that says another.
func (m *LotModel) JudgeExpiry(gtin, lot, expiry string, minSupport int64) Judgement {
	s := m.lots[lotKey{gtin, lot}]
	if s == nil || expiry == "" {
		return Judgement{}
	}
	best, bestN, total := dominant(s.expiry)
	if total < minSupport || best == expiry {
		return Judgement{}
	}
	mine := s.expiry[expiry]
	// Only a lone dissenter is odd: a lot split between two expiries
	// (relabelled stock) is not.
	if mine*50 > total {
		return Judgement{}
	}
	sc := float64(bestN) / float64(total)
	return Judgement{Score: sc, Cause: "expiry " + expiry,
		Reasons: []string{fmt.Sprintf("lot `%s` of GTIN %s expires %s on %s of %s units seen; this pack says %s",
			lot, gtin, best, count(bestN), count(total), expiry)}}
}
