package store

import (
	"errors"
	"slices"
)

// ProductClient implements unit.Catalog: the client owning product gtin
// in the replica's master data.
func (t *Tx) ProductClient(gtin string) (string, bool, error) {
	p, err := t.Product(gtin)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return p.Client, true, nil
}

// ASNAnnounces implements unit.Catalog: whether ASN asn announces
// product gtin (ok false when the replica has no such ASN).
func (t *Tx) ASNAnnounces(asn, gtin string) (announces, ok bool, err error) {
	a, err := t.ASN(asn)
	if errors.Is(err, ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	_, found := slices.BinarySearch(a.GTINs, gtin)
	return found, true, nil
}
