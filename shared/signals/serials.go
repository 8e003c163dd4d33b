package signals

import (
	"fmt"
	"strings"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// SerialModels are the per-product serial format models a handheld
// carries so it can flag a suspicious serial at the scan, offline. They
// are small (a few kilobytes per product) and judge exactly as the
// site's analyzer does: SuspectSerial decides for both.
type SerialModels struct {
	MinSupport int64                   `json:"min_support"`
	Threshold  float64                 `json:"threshold"`
	Models     map[string]*FormatModel `json:"models"` // GTIN → model
}

// HandheldModels copies the analyzer's serial models (only those that
// judge, having learned at least MinSupport serials) for a handheld.
func (a *Analyzer) HandheldModels() *SerialModels {
	out := &SerialModels{MinSupport: a.cfg.MinSupport, Threshold: a.cfg.FormatThreshold, Models: map[string]*FormatModel{}}
	for g, m := range a.serials {
		if m.N >= a.cfg.MinSupport {
			c := *m
			c.Prev = ""
			out.Models[g] = &c
		}
	}
	return out
}

// Suspect judges the serial of k against its product's model: the
// judgement, the words a person acts on, and whether it is suspect.
// Containers, products without a model and nil models judge nothing.
func (s *SerialModels) Suspect(k event.Key) (Judgement, string, bool) {
	if s == nil || k.IsContainer() {
		return Judgement{}, "", false
	}
	m := s.Models[k.GTIN()]
	if m == nil {
		return Judgement{}, "", false
	}
	return SuspectSerial(m, k, false, s.MinSupport, s.Threshold)
}

// SuspectSerial decides whether the serial of k looks unlike its
// product's model m, and says why. learned tells that m already
// learned this serial from supplier data (it is then left out, so a
// lone odd serial does not vouch for itself).
func SuspectSerial(m *FormatModel, k event.Key, learned bool, minSupport int64, threshold float64) (Judgement, string, bool) {
	score := m.Score
	if learned {
		score = m.ScoreLearned
	}
	j := score(k.Serial(), minSupport)
	if j.Score < threshold {
		return j, "", false
	}
	return j, fmt.Sprintf("serial `%s` does not look like the %s serials seen for GTIN %s: %s; check the pack against the supplier's data",
		k.Serial(), count(m.N), k.GTIN(), strings.Join(j.Reasons, ", ")), true
}

// ModelRecord is the record the site publishes of product gtin's serial
// model m, for the handhelds of client.
func ModelRecord(gtin, client string, m *FormatModel, minSupport int64, threshold float64) master.SerialModel {
	return master.SerialModel{GTIN: gtin, Client: client, MinSupport: minSupport, Threshold: threshold,
		N: m.N, Lengths: m.Lengths, Classes: m.Classes, Chars: m.Chars, Runs: m.Runs, Close: m.Close}
}

// SerialModelFrom reads a published record back as the model it was.
func SerialModelFrom(r *master.SerialModel) *FormatModel {
	return &FormatModel{N: r.N, Lengths: r.Lengths, Classes: r.Classes, Chars: r.Chars, Runs: r.Runs, Close: r.Close}
}

// SuspectPublished judges the serial of k against a published model of
// its product, as SerialModels.Suspect does.
func SuspectPublished(r *master.SerialModel, k event.Key) (Judgement, string, bool) {
	if r == nil || k.IsContainer() || r.GTIN != k.GTIN() {
		return Judgement{}, "", false
	}
	return SuspectSerial(SerialModelFrom(r), k, false, r.MinSupport, r.Threshold)
}

// Republish decides whether a product's model n serials strong has moved
// far enough from the one published (learned from published serials;
// 0 when none is) for the site to publish it again: once it judges at
// all, then each time it has learned a tenth more. A model grows by a
// record every tenth, so a product seen a million times is published
// some hundred times in all.
func Republish(published, n, minSupport int64) bool {
	if n < minSupport {
		return false
	}
	return published == 0 || n*10 >= published*11
}

// FormatLimits are the serial models' minimum support and threshold.
func (a *Analyzer) FormatLimits() (minSupport int64, threshold float64) {
	return a.cfg.MinSupport, a.cfg.FormatThreshold
}
