package store

import (
	"fmt"

	"github.com/custodyhq/custody/shared/master"
)

// SerialModel returns the serial model the site published for a
// product (ErrNotFound when it published none).
func (t *Tx) SerialModel(gtin string) (master.SerialModel, error) {
	var m master.SerialModel
	return m, t.getJSON(mSerial, gtin, &m)
}

// PutSerialModel stores a product's serial model from the site,
// replacing the one before.
func (t *Tx) PutSerialModel(m master.SerialModel) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return t.putJSON(mSerial, m.GTIN, m)
}
