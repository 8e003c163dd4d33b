package store

import "github.com/custodyhq/custody/shared/master"

// ASNs lists the ASNs in the replica, by id.
func (t *Tx) ASNs() ([]ASN, error) { return listJSON[ASN](t, mASN) }

// Orders lists the orders in the replica, by id.
func (t *Tx) Orders() ([]master.Order, error) { return listJSON[master.Order](t, mOrder) }

// Shipments lists the shipments in the replica (the site's and those
// created on the device), by id.
func (t *Tx) Shipments() ([]master.Shipment, error) { return listJSON[master.Shipment](t, mShipment) }
