package store

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// Record kinds a change set may remove from the replica.
const (
	KindSite      = "site"
	KindClient    = "client"
	KindProduct   = "product"
	KindLocation  = "location"
	KindPartner   = "partner"
	KindUser      = "user"
	KindASN       = "asn"
	KindOrder     = "order"
	KindShipment  = "shipment"
	KindHold      = "hold"
	KindUnit      = "unit"
	KindException = "exception"
	KindSerial    = "serialmodel" // a product's serial model
)

// Removal names a replica record the site says to drop: ID is a GTIN
// for products, a unit key for units, the record's id otherwise.
type Removal struct {
	Kind string
	ID   string
}

// changeChunk bounds the records written in one transaction, well
// below the handheld profile's transaction limit (a unit state costs up
// to six entries with its indexes).
const changeChunk = 400

// ApplyChanges upserts the records of put and drops removed, then
// stores cursor. Large sets are written in several transactions and the
// cursor only with the last, so a set cut short by a crash is simply
// applied again (upserts and removals are idempotent). ASN items the
// replica does not know yet become expected units, as in Load. The
// outbox, the events and the history are never touched.
func (s *Store) ApplyChanges(put *master.Snapshot, removed []Removal, cursor string) error {
	var ops []func(tx *Tx) error
	if put.Site.ID != "" {
		ops = append(ops, func(tx *Tx) error { return tx.putJSON(mSite, "site", put.Site) })
	}
	for i := range put.Clients {
		c := put.Clients[i]
		ops = append(ops, func(tx *Tx) error {
			if err := c.Validate(); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			return tx.putJSON(mClient, c.ID, c)
		})
	}
	for i := range put.Products {
		p := put.Products[i]
		ops = append(ops, func(tx *Tx) error {
			if err := p.Validate(); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			return tx.putJSON(mProduct, p.GTIN, p)
		})
	}
	for _, x := range put.Locations {
		ops = append(ops, func(tx *Tx) error { return tx.putJSON(mLocation, x.ID, x) })
	}
	for _, x := range put.Partners {
		ops = append(ops, func(tx *Tx) error { return tx.putJSON(mPartner, x.ID, x) })
	}
	for _, x := range put.Users {
		ops = append(ops, func(tx *Tx) error { return tx.putJSON(mUser, x.ID, x) })
	}
	for i := range put.Orders {
		o := put.Orders[i]
		ops = append(ops, func(tx *Tx) error {
			if err := o.Validate(); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			return tx.putJSON(mOrder, o.ID, o)
		})
	}
	for _, x := range put.Shipments {
		ops = append(ops, func(tx *Tx) error { return tx.PutShipment(x) })
	}
	for _, h := range put.Holds {
		ops = append(ops, func(tx *Tx) error { return tx.PutHold(h) })
	}
	for _, u := range put.Units {
		ops = append(ops, func(tx *Tx) error { return tx.PutUnit(u) })
	}
	for i := range put.ASNs {
		a := &put.ASNs[i]
		ops = append(ops, func(tx *Tx) error {
			if err := a.Validate(); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			return tx.PutASN(ASNFromMaster(a))
		})
		for _, it := range a.Items {
			ops = append(ops, func(tx *Tx) error {
				cur, err := tx.Unit(it.Key)
				if err != nil || cur.Known() {
					return err
				}
				return tx.PutUnit(ExpectedState(a, it))
			})
		}
	}
	for _, x := range put.Open {
		ops = append(ops, func(tx *Tx) error {
			if err := checkID(x.ID); err != nil {
				return err
			}
			return tx.PutException(x)
		})
	}
	for i := range put.SerialModels {
		m := put.SerialModels[i]
		ops = append(ops, func(tx *Tx) error { return tx.PutSerialModel(m) })
	}
	for _, r := range removed {
		ops = append(ops, func(tx *Tx) error { return tx.remove(r) })
	}
	for len(ops) > changeChunk {
		chunk := ops[:changeChunk]
		ops = ops[changeChunk:]
		if err := s.Update(func(tx *Tx) error { return run(tx, chunk) }); err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
	}
	err := s.Update(func(tx *Tx) error {
		if err := run(tx, ops); err != nil {
			return err
		}
		return tx.set(metaCursor, []byte(cursor))
	})
	if err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	return nil
}

func run(tx *Tx, ops []func(*Tx) error) error {
	for _, op := range ops {
		if err := op(tx); err != nil {
			return err
		}
	}
	return nil
}

// remove drops one record and its index entries; an unknown record is
// no error.
func (t *Tx) remove(r Removal) error {
	switch r.Kind {
	case KindUnit:
		k := event.Key(r.ID)
		old, err := t.Unit(k)
		if err != nil || !old.Known() {
			return err
		}
		for _, ix := range indexes(&old) {
			if err := t.del(ix); err != nil {
				return err
			}
		}
		return t.del(unitKey(k))
	case KindException:
		x, err := t.Exception(r.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.del(key(pExcIdx, string(x.Unit), string(x.Rule), x.ID)); err != nil {
			return err
		}
		return t.del(key(pExc, x.ID))
	case KindHold:
		h, err := t.Hold(r.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		lot := h.Lot
		if h.Scope == master.ScopeProduct {
			lot = ""
		}
		t.holds = nil
		if err := t.del(key(pHoldIdx, h.GTIN, lot, h.ID)); err != nil {
			return err
		}
		return t.del(key(pMaster, mHold, h.ID))
	case KindSite:
		return t.del(key(pMaster, mSite, "site"))
	case KindClient, KindProduct, KindLocation, KindPartner, KindUser, KindASN, KindOrder, KindShipment, KindSerial:
		return t.del(key(pMaster, r.Kind, r.ID))
	}
	return fmt.Errorf("%w: removal of kind %q", ErrInvalid, r.Kind)
}
