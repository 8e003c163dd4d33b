package state

import (
	"errors"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Lot and product holds: the records (M K id), an index by scope
// (k gtin 0 lot 0 id; lot "" for a product hold) and the reasons of the
// active ones folded per scope (g gtin 0 lot), which is what Inherited
// reads for every event.

// Hold returns one lot or product hold.
func (r *Reader) Hold(id string) (master.Hold, error) { return getMaster[master.Hold](r, mHold, id) }

// Holds lists lot and product holds keep accepts.
func (r *Reader) Holds(keep func(*master.Hold) bool) ([]master.Hold, error) {
	return listMaster(r, mHold, keep)
}

// Inherited returns the holds a unit gets from its lot and its product.
func (r *Reader) Inherited(s unit.State) (event.Holds, error) {
	g := s.Key.GTIN()
	if g == "" {
		return 0, nil
	}
	var h event.Holds
	for _, lot := range [...]string{s.Lot, ""} {
		b, err := r.get(key(tInherited, g, lot))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if len(b) == 1 {
			h |= event.Holds(b[0])
		}
		if s.Lot == "" {
			break
		}
	}
	return h, nil
}

func holdLot(h *master.Hold) string {
	if h.Scope == master.ScopeProduct {
		return ""
	}
	return h.Lot
}

// Inherited returns the holds a unit gets from its lot and its product,
// cached for the transaction.
func (t *Tx) Inherited(s unit.State) (event.Holds, error) {
	ck := s.Key.GTIN() + "\x00" + s.Lot
	if h, ok := t.inherited[ck]; ok {
		return h, nil
	}
	h, err := t.Reader.Inherited(s)
	if err == nil {
		t.inherited[ck] = h
	}
	return h, err
}

// PutHold stores a lot or product hold and refolds the reasons of its scope.
func (t *Tx) PutHold(h master.Hold) error {
	clear(t.inherited)
	old, err := t.Hold(h.ID)
	switch {
	case err == nil:
		if old.GTIN != h.GTIN || holdLot(&old) != holdLot(&h) {
			if err := t.del(key(tHoldByScope, old.GTIN, holdLot(&old), old.ID)); err != nil {
				return err
			}
			if err := t.refold(old.GTIN, holdLot(&old)); err != nil {
				return err
			}
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := t.putMaster(mHold, h.ID, h); err != nil {
		return err
	}
	if err := t.set(key(tHoldByScope, h.GTIN, holdLot(&h), h.ID), nil); err != nil {
		return err
	}
	return t.refold(h.GTIN, holdLot(&h))
}

func (t *Tx) refold(gtin, lot string) error {
	prefix := key(tHoldByScope, gtin, lot, "")
	var ids []string
	if err := t.scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
		ids = append(ids, string(k[len(prefix):]))
		return true, nil
	}); err != nil {
		return err
	}
	var folded event.Holds
	for _, id := range ids {
		h, err := t.Hold(id)
		if err != nil {
			return err
		}
		if h.Active {
			folded = folded.With(h.Reason)
		}
	}
	k := key(tInherited, gtin, lot)
	if folded == 0 {
		return t.del(k)
	}
	return t.set(k, []byte{byte(folded)})
}
