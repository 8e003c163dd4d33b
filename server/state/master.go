package state

import (
	"github.com/custodyhq/custody/shared/master"
)

// Master data: M kind id → JSON. Small tables, read often, written
// rarely; JSON keeps them readable in a backup.

func getMaster[T any](r *Reader, kind byte, id string) (T, error) {
	var v T
	err := r.getJSON(key(tMaster, string(kind)+id), &v)
	return v, err
}

func listMaster[T any](r *Reader, kind byte, keep func(*T) bool) ([]T, error) {
	prefix := []byte{tMaster, kind}
	var out []T
	err := r.scan(prefix, nil, true, func(k, v []byte) (bool, error) {
		var rec T
		if err := jsonDecode(k, v, &rec); err != nil {
			return false, err
		}
		if keep == nil || keep(&rec) {
			out = append(out, rec)
		}
		return true, nil
	})
	return out, err
}

func (t *Tx) putMaster(kind byte, id string, v any) error {
	if kind != mNode {
		if err := t.noteFeed(kind, id); err != nil {
			return err
		}
	}
	return t.setJSON(key(tMaster, string(kind)+id), v)
}

// Site returns the site record.
func (r *Reader) Site() (master.Site, error) { return getMaster[master.Site](r, mSite, "") }

// PutSite stores the site record.
func (t *Tx) PutSite(s master.Site) error { return t.putMaster(mSite, "", s) }

// Client returns one client.
func (r *Reader) Client(id string) (master.Client, error) {
	return getMaster[master.Client](r, mClient, id)
}

// Clients lists the clients keep accepts (all when keep is nil).
func (r *Reader) Clients(keep func(*master.Client) bool) ([]master.Client, error) {
	return listMaster(r, mClient, keep)
}

// PutClient stores a client.
func (t *Tx) PutClient(c master.Client) error { return t.putMaster(mClient, c.ID, c) }

// Product returns one product by GTIN.
func (r *Reader) Product(gtin string) (master.Product, error) {
	return getMaster[master.Product](r, mProduct, gtin)
}

// Products lists products.
func (r *Reader) Products(keep func(*master.Product) bool) ([]master.Product, error) {
	return listMaster(r, mProduct, keep)
}

// PutProduct stores a product.
func (t *Tx) PutProduct(p master.Product) error {
	delete(t.prodClient, p.GTIN)
	return t.putMaster(mProduct, p.GTIN, p)
}

// Location returns one location.
func (r *Reader) Location(id string) (master.Location, error) {
	return getMaster[master.Location](r, mLocation, id)
}

// Locations lists locations.
func (r *Reader) Locations() ([]master.Location, error) {
	return listMaster[master.Location](r, mLocation, nil)
}

// PutLocation stores a location.
func (t *Tx) PutLocation(l master.Location) error { return t.putMaster(mLocation, l.ID, l) }

// Partner returns one partner.
func (r *Reader) Partner(id string) (master.Partner, error) {
	return getMaster[master.Partner](r, mPartner, id)
}

// Partners lists partners.
func (r *Reader) Partners() ([]master.Partner, error) {
	return listMaster[master.Partner](r, mPartner, nil)
}

// PutPartner stores a partner.
func (t *Tx) PutPartner(p master.Partner) error { return t.putMaster(mPartner, p.ID, p) }
