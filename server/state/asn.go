package state

import "github.com/custodyhq/custody/shared/master"

// ASN returns one inbound ASN.
func (r *Reader) ASN(id string) (master.ASN, error) { return getMaster[master.ASN](r, mASN, id) }

// ASNs lists ASNs keep accepts.
func (r *Reader) ASNs(keep func(*master.ASN) bool) ([]master.ASN, error) {
	return listMaster(r, mASN, keep)
}

// PutASN stores an ASN.
func (t *Tx) PutASN(a master.ASN) error { return t.putMaster(mASN, a.ID, a) }
