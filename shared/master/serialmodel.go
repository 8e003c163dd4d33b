package master

import (
	"math"

	"github.com/custodyhq/custody/shared/event"
)

// Sizes of a serial model: the longest serial it describes (GS1 serials
// are at most 20 characters), the character classes (digits, capital
// letters, small letters, symbols) and the characters counted.
const (
	SerialModelLen     = 20
	SerialModelClasses = 4
	SerialModelChars   = 128
)

// SerialModel is how one product's serials look, learned by the site's
// analyzer from the serials its supplier data carried, as the site
// publishes it for handhelds: counts of lengths, of the character class
// at each position, of characters and of the longest run of equal or
// consecutive characters. The counts are the model; shared/signals
// judges a serial by them (signals.SerialModelFrom).
type SerialModel struct {
	GTIN   string `json:"gtin"`
	Client string `json:"client"` // the product's client: who may see the model
	// MinSupport and Threshold are the analyzer's: a model judges
	// nothing before MinSupport serials, and a score at or above
	// Threshold is suspect.
	MinSupport int64                                     `json:"min_support"`
	Threshold  float64                                   `json:"threshold"`
	N          int64                                     `json:"n"`
	Lengths    [SerialModelLen + 1]int64                 `json:"lengths"`
	Classes    [SerialModelLen][SerialModelClasses]int64 `json:"classes"`
	Chars      [SerialModelChars]int64                   `json:"chars"`
	Runs       [SerialModelLen + 1]int64                 `json:"runs"`
	Close      int64                                     `json:"close"` // serials that followed the one before
}

// Validate checks the record: a GTIN, a client, counts no greater than
// the serials learned, a threshold between 0 and 1.
func (m *SerialModel) Validate() error {
	if err := event.CheckGTIN(m.GTIN); err != nil {
		return invalid("serial model gtin: %v", err)
	}
	if err := checkIDs("serial model "+m.GTIN, "client", m.Client); err != nil {
		return err
	}
	if m.Client == "" {
		return invalid("serial model %s: no client", m.GTIN)
	}
	if m.N <= 0 || m.MinSupport <= 0 || m.Close < 0 || m.Close > m.N {
		return invalid("serial model %s: counts n %d, min support %d, close %d", m.GTIN, m.N, m.MinSupport, m.Close)
	}
	if math.IsNaN(m.Threshold) || m.Threshold <= 0 || m.Threshold > 1 {
		return invalid("serial model %s: threshold %v not in (0, 1]", m.GTIN, m.Threshold)
	}
	var lengths, runs int64
	for i := range m.Lengths {
		if m.Lengths[i] < 0 || m.Runs[i] < 0 {
			return invalid("serial model %s: negative count", m.GTIN)
		}
		lengths += m.Lengths[i]
		runs += m.Runs[i]
	}
	if lengths != m.N || runs != m.N {
		return invalid("serial model %s: %d lengths and %d runs for %d serials", m.GTIN, lengths, runs, m.N)
	}
	for i := range m.Classes {
		for _, c := range m.Classes[i] {
			if c < 0 || c > m.N {
				return invalid("serial model %s: class count %d at %d", m.GTIN, c, i)
			}
		}
	}
	for _, c := range m.Chars {
		if c < 0 {
			return invalid("serial model %s: negative character count", m.GTIN)
		}
	}
	return nil
}
