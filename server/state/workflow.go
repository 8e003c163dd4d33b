package state

import (
	"errors"
	"slices"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Workflow records: master data the shared workflow rules read
// (unit.Catalog), and the short picks devices report.

// mShortPick keys short picks: M Y order 0 line → ShortPick (JSON).
const mShortPick byte = 'Y'

// ProductClient implements unit.Catalog: the client owning product gtin.
// Apply asks it for every unit received, mostly of a few products: the
// answer is kept for the transaction (PutProduct forgets it).
func (t *Tx) ProductClient(gtin string) (string, bool, error) {
	if pc, ok := t.prodClient[gtin]; ok {
		return pc.client, pc.known, nil
	}
	pc := productClient{}
	p, err := t.Product(gtin)
	switch {
	case err == nil:
		pc = productClient{client: p.Client, known: true}
	case !errors.Is(err, ErrNotFound):
		return "", false, err
	}
	if t.prodClient == nil {
		t.prodClient = map[string]productClient{}
	}
	t.prodClient[gtin] = pc
	return pc.client, pc.known, nil
}

// productClient is a product's owner as ProductClient answered it.
type productClient struct {
	client string
	known  bool
}

// ASNAnnounces implements unit.Catalog: whether ASN asn announces
// product gtin (ok false when the ASN is not known).
func (t *Tx) ASNAnnounces(asn, gtin string) (announces, ok bool, err error) {
	a, err := t.ASN(asn)
	if errors.Is(err, ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	for _, it := range a.Items {
		if it.Key.GTIN() == gtin {
			return true, true, nil
		}
	}
	return false, true, nil
}

// ShortPick is an order line a device could not fill: how many short
// and why, with the event that said so.
type ShortPick struct {
	Order  string        `json:"order"`
	Line   string        `json:"line"`
	Client string        `json:"client"`
	Qty    uint32        `json:"qty"`
	Reason string        `json:"reason"`
	User   string        `json:"user"`
	Device string        `json:"device"`
	Event  event.ID      `json:"event"`
	At     hlc.Timestamp `json:"at"`
}

// PutShortPick stores a short pick; a later one for the same line
// replaces it.
func (t *Tx) PutShortPick(s ShortPick) error {
	return t.putMaster(mShortPick, s.Order+"\x00"+s.Line, s)
}

// ShortPicks lists the short picks of an order, by line.
func (r *Reader) ShortPicks(order string) ([]ShortPick, error) {
	out, err := listMaster[ShortPick](r, mShortPick, func(s *ShortPick) bool { return s.Order == order })
	slices.SortFunc(out, func(a, b ShortPick) int {
		switch {
		case a.Line < b.Line:
			return -1
		case a.Line > b.Line:
			return 1
		}
		return 0
	})
	return out, err
}
