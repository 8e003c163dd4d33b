package state

import "github.com/custodyhq/custody/shared/master"

// Order returns one outbound order.
func (r *Reader) Order(id string) (master.Order, error) {
	return getMaster[master.Order](r, mOrder, id)
}

// Orders lists orders keep accepts.
func (r *Reader) Orders(keep func(*master.Order) bool) ([]master.Order, error) {
	return listMaster(r, mOrder, keep)
}

// PutOrder stores an order.
func (t *Tx) PutOrder(o master.Order) error { return t.putMaster(mOrder, o.ID, o) }
