package command

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// SerialModels publishes products' serial models for handhelds (the
// down-feed carries them to the devices that see the product's client).
// The analyzer on the leader proposes them when a model has moved far
// enough from the one published (signals.Republish).
type SerialModels struct {
	Models []master.SerialModel `json:"models"`
}

// SerialModelsResult says what became of a SerialModels command.
type SerialModelsResult struct {
	Stored  int `json:"stored"`
	Invalid int `json:"invalid"` // broke a rule, or named a product or client the site does not have
}

// MaxSerialModels bounds one SerialModels command: a model encodes to a
// few kilobytes at most, so a full command stays well inside an entry.
const MaxSerialModels = 16

func (b *batch) serialModels(v *SerialModels) any {
	if len(v.Models) == 0 || len(v.Models) > MaxSerialModels {
		return fmt.Errorf("%w: %d serial models, 1 to %d", ErrRejected, len(v.Models), MaxSerialModels)
	}
	var res SerialModelsResult
	for i := range v.Models {
		m := &v.Models[i]
		if m.Validate() != nil {
			res.Invalid++
			continue
		}
		p, err := b.tx.Product(m.GTIN)
		if errors.Is(err, state.ErrNotFound) || err == nil && p.Client != m.Client {
			res.Invalid++
			continue
		}
		must(err, "product")
		must(b.tx.PutSerialModel(*m), "serial model")
		res.Stored++
	}
	return res
}
