package store

import (
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// replicaPrefixes are the record types a (re)load replaces. The outbox,
// the event bodies, the local history, the meta records, the short picks
// and the device-owned records survive: a device never discards its
// outbox, or what only it knows, because of what the site sends.
var replicaPrefixes = [][]byte{{pUnit}, {pChild}, {pLot}, {pFEFO}, {pOrder}, {pShip}, {pExc}, {pExcIdx}, {pMaster}, {pHoldIdx}}

// Loader writes a replica in bulk through a Badger WriteBatch. Records
// are written as given: a loader starts from an empty replica, so no old
// index entries need removing.
//
// While a loader runs, the store is reopened in bulk mode: no
// compactions, no fsync per batch. Finish syncs and closes the bulk
// store and reopens the handheld profile, whose compactors then merge
// the new tables in the background. A load that does not finish leaves
// the replica marked incomplete (see Incomplete) until a load finishes.
type Loader struct {
	s       *Store
	db      *badger.DB
	wb      *badger.WriteBatch
	buf     []byte
	units   int
	flatten bool
}

// bulkProfile is the handheld profile for a bulk load.
func bulkProfile(o badger.Options) badger.Options {
	return o.WithSyncWrites(false).WithNumCompactors(0).WithNumLevelZeroTables(1 << 19).WithNumLevelZeroTablesStall(1 << 20)
}

// NewLoader marks the replica incomplete, drops it (but not the outbox)
// and starts a bulk load. Call Finish or Cancel; other store calls wait
// until then.
func (s *Store) NewLoader() (*Loader, error) {
	s.mu.Lock()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaLoading, []byte{1}) }); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("start load: %w", err)
	}
	if err := s.db.DropPrefix(replicaPrefixes...); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("drop replica: %w", err)
	}
	// DropPrefix can leave keys behind: when another compaction holds the
	// level-0 tables, Badger logs "Unable to fill tables" and returns
	// nil with those tables untouched. Delete whatever is left, so no
	// record of the old replica outlives the load.
	if err := deletePrefixes(s.db, replicaPrefixes); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("drop replica: %w", err)
	}
	if err := s.db.Close(); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("start load: %w", err)
	}
	db, err := badger.Open(bulkProfile(s.opts))
	if err != nil {
		err = fmt.Errorf("open for bulk load: %w", err)
		if rerr := s.reopen(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		s.mu.Unlock()
		return nil, err
	}
	wb := db.NewWriteBatch()
	wb.SetMaxPendingTxns(2)
	return &Loader{s: s, db: db, wb: wb}, nil
}

// reopen opens the handheld profile again; s.mu is held.
func (s *Store) reopen() error {
	db, err := badger.Open(s.opts)
	if err != nil {
		return fmt.Errorf("reopen store: %w", err)
	}
	s.db = db
	return nil
}

// Incomplete reports whether a bulk load started and did not finish:
// the replica must be loaded again before it is used.
func (s *Store) Incomplete() bool {
	incomplete := false
	_ = s.View(func(tx *Tx) error {
		v, err := tx.get(metaLoading)
		incomplete = err == nil && len(v) > 0
		return nil
	})
	return incomplete
}

func (l *Loader) set(k, v []byte) error {
	if err := l.wb.Set(k, v); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// Unit writes one unit state and its indexes.
func (l *Loader) Unit(s unit.State) error {
	if err := s.Key.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	l.buf = appendState(l.buf[:0], &s)
	if err := l.set(unitKey(s.Key), append([]byte(nil), l.buf...)); err != nil {
		return err
	}
	for _, k := range indexes(&s) {
		if err := l.set(k, nil); err != nil {
			return err
		}
	}
	l.units++
	return nil
}

// Units is how many unit states the loader wrote.
func (l *Loader) Units() int { return l.units }

func (l *Loader) master(typ, id string, v any) error {
	if err := checkID(id); err != nil {
		return err
	}
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	return l.set(key(pMaster, typ, id), b)
}

// ASN writes an ASN header.
func (l *Loader) ASN(a ASN) error { return l.master(mASN, a.ID, a) }

// Exception writes an exception and, when active, its index entry.
func (l *Loader) Exception(x unit.Exception) error {
	if err := checkID(x.ID); err != nil {
		return err
	}
	b, err := jsonMarshal(x)
	if err != nil {
		return err
	}
	if err := l.set(key(pExc, x.ID), b); err != nil {
		return err
	}
	if x.Active() {
		return l.set(key(pExcIdx, string(x.Unit), string(x.Rule), x.ID), nil)
	}
	return nil
}

// Hold writes a lot or product hold and, when active, its index entry.
func (l *Loader) Hold(h master.Hold) error {
	if err := h.Validate(); err != nil {
		return err
	}
	if err := l.master(mHold, h.ID, h); err != nil {
		return err
	}
	if !h.Active {
		return nil
	}
	lot := h.Lot
	if h.Scope == master.ScopeProduct {
		lot = ""
	}
	return l.set(key(pHoldIdx, h.GTIN, lot, h.ID), []byte{byte(h.Reason)})
}

// Master writes the snapshot's master data and plans: site, clients,
// products, locations, partners, users, orders, shipments, holds and the
// cursor. ASNs and unit states are written by Load (or ASN and Unit).
func (l *Loader) Master(snap *master.Snapshot) error {
	if err := l.master(mSite, "site", snap.Site); err != nil {
		return err
	}
	for i := range snap.Clients {
		c := &snap.Clients[i]
		if err := c.Validate(); err != nil {
			return err
		}
		if err := l.master(mClient, c.ID, c); err != nil {
			return err
		}
	}
	for i := range snap.Products {
		p := &snap.Products[i]
		if err := p.Validate(); err != nil {
			return err
		}
		if err := l.master(mProduct, p.GTIN, p); err != nil {
			return err
		}
	}
	for _, x := range snap.Locations {
		if err := l.master(mLocation, x.ID, x); err != nil {
			return err
		}
	}
	for _, x := range snap.Partners {
		if err := l.master(mPartner, x.ID, x); err != nil {
			return err
		}
	}
	for _, x := range snap.Users {
		if err := l.master(mUser, x.ID, x); err != nil {
			return err
		}
	}
	for i := range snap.Orders {
		o := &snap.Orders[i]
		if err := o.Validate(); err != nil {
			return err
		}
		if err := l.master(mOrder, o.ID, o); err != nil {
			return err
		}
	}
	for _, x := range snap.Shipments {
		if err := l.master(mShipment, x.ID, x); err != nil {
			return err
		}
	}
	for _, h := range snap.Holds {
		if err := l.Hold(h); err != nil {
			return err
		}
	}
	for i := range snap.SerialModels {
		m := &snap.SerialModels[i]
		if err := m.Validate(); err != nil {
			return err
		}
		if err := l.master(mSerial, m.GTIN, m); err != nil {
			return err
		}
	}
	return l.set(metaCursor, []byte(snap.Cursor))
}

// Finish commits the load: flushes the batch, clears the incomplete
// mark, closes the bulk store (which writes and syncs its tables) and
// reopens the handheld profile.
func (l *Loader) Finish() error {
	err := l.wb.Flush()
	l.flatten = true
	if err == nil {
		err = l.db.Update(func(txn *badger.Txn) error { return txn.Delete(metaLoading) })
	}
	return l.end(err)
}

// Cancel abandons the load; the replica stays marked incomplete.
func (l *Loader) Cancel() {
	l.wb.Cancel()
	_ = l.end(nil)
}

func (l *Loader) end(err error) error {
	defer l.s.mu.Unlock()
	if cerr := l.db.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if rerr := l.s.reopen(); rerr != nil {
		err = errors.Join(err, rerr)
	} else if err == nil && l.flatten {
		err = l.s.db.Flatten(2)
	}
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// Load replaces the replica with snap. ASN items become expected unit
// states (unless snap.Units already has the unit), linked to their
// containers; the ASN header keeps the top-level items. The outbox,
// the short picks and the device-owned records are kept, and the
// device-owned records are written back over snap (unless snap has them).
func (s *Store) Load(snap *master.Snapshot) (int, error) {
	l, err := s.NewLoader()
	if err != nil {
		return 0, err
	}
	if err := loadAll(l, snap); err != nil {
		l.Cancel()
		return 0, err
	}
	if err := restoreDevice(l, snap); err != nil {
		l.Cancel()
		return 0, err
	}
	return l.Units(), l.Finish()
}

func loadAll(l *Loader, snap *master.Snapshot) error {
	if err := l.Master(snap); err != nil {
		return err
	}
	known := make(map[event.Key]bool, len(snap.Units))
	for _, u := range snap.Units {
		known[u.Key] = true
		if err := l.Unit(u); err != nil {
			return err
		}
	}
	for i := range snap.ASNs {
		a := &snap.ASNs[i]
		if err := a.Validate(); err != nil {
			return err
		}
		h := ASNFromMaster(a)
		for _, it := range a.Items {
			if known[it.Key] {
				continue
			}
			if err := l.Unit(ExpectedState(a, it)); err != nil {
				return err
			}
		}
		if err := l.ASN(h); err != nil {
			return err
		}
	}
	for _, x := range snap.Open {
		if err := l.Exception(x); err != nil {
			return err
		}
	}
	return nil
}

// ASNFromMaster is the header the replica keeps for an ASN.
func ASNFromMaster(a *master.ASN) ASN {
	h := ASN{ID: a.ID, Client: a.Client, Supplier: a.Supplier, Items: len(a.Items), Closed: a.Closed}
	gt := map[string]bool{}
	for _, it := range a.Items {
		if it.Parent == "" {
			h.Roots = append(h.Roots, it.Key)
		}
		if g := it.Key.GTIN(); g != "" && !gt[g] {
			gt[g] = true
			h.GTINs = append(h.GTINs, g)
		}
	}
	slices.Sort(h.GTINs)
	return h
}

// ExpectedState is the state an ASN item gives a unit the site has not
// seen before: what the site's expect event produces.
func ExpectedState(a *master.ASN, it master.ASNItem) unit.State {
	return unit.State{Key: it.Key, Client: a.Client, Lot: it.Lot, Expiry: it.Expiry, Status: unit.StatusExpected,
		Parent: it.Parent, ASN: a.ID, Version: 1}
}

// deletePrefixes deletes every key under prefixes (normally none are
// left after DropPrefix, and the scan is a seek per prefix). Keys are
// deleted as they are found, through a write batch that commits as it
// fills, so memory stays bounded however much was left.
func deletePrefixes(db *badger.DB, prefixes [][]byte) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	err := db.View(func(txn *badger.Txn) error {
		for _, p := range prefixes {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
			for it.Rewind(); it.Valid(); it.Next() {
				if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return wb.Flush()
}
