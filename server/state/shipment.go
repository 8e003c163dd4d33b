package state

import "github.com/custodyhq/custody/shared/master"

// Shipment returns one outbound shipment.
func (r *Reader) Shipment(id string) (master.Shipment, error) {
	return getMaster[master.Shipment](r, mShipment, id)
}

// Shipments lists shipments keep accepts.
func (r *Reader) Shipments(keep func(*master.Shipment) bool) ([]master.Shipment, error) {
	return listMaster(r, mShipment, keep)
}

// PutShipment stores a shipment.
func (t *Tx) PutShipment(s master.Shipment) error { return t.putMaster(mShipment, s.ID, s) }
