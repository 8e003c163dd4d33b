package state

import "github.com/custodyhq/custody/shared/master"

// SerialModel returns the serial model published for a product.
func (r *Reader) SerialModel(gtin string) (master.SerialModel, error) {
	return getMaster[master.SerialModel](r, mSerial, gtin)
}

// SerialModels lists the published serial models keep accepts (all when
// keep is nil), in GTIN order.
func (r *Reader) SerialModels(keep func(*master.SerialModel) bool) ([]master.SerialModel, error) {
	return listMaster(r, mSerial, keep)
}

// PutSerialModel stores a product's published serial model.
func (t *Tx) PutSerialModel(m master.SerialModel) error { return t.putMaster(mSerial, m.GTIN, m) }
