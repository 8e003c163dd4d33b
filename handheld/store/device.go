package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Device-owned records are what the device made itself and the site's
// snapshot cannot carry yet: lot holds made on the device (with the
// units each put on hold), shipments created on the device, ASNs closed
// on the device and exceptions the workflows raised. Each is written
// twice in the same transaction: where the replica's readers find it,
// and under the device prefix, which Load never drops. Load writes the
// device copies back over a new snapshot (see restoreDevice), so a
// reload forgets none of them.
const (
	dHold      = "hold"     // D hold 0 id              LocalHold (JSON)
	dHoldUnit  = "holdunit" // D holdunit 0 id 0 key    a unit the hold put on hold
	dShipment  = "shipment" // D shipment 0 id          master.Shipment (JSON)
	dASNClosed = "asn"      // D asn 0 id               the ASN was closed here
	dException = "exc"      // D exc 0 id               unit.Exception (JSON)
)

// PutLocalHold writes a lot hold made on this device: the replica's hold
// record and index, and its device copy.
func (t *Tx) PutLocalHold(h master.Hold) error {
	if err := t.PutHold(h); err != nil {
		return err
	}
	return t.putDevice(dHold, h.ID, h)
}

// LocalHold reads a lot hold made on this device (ErrNotFound when the
// hold was not made here).
func (t *Tx) LocalHold(id string) (master.Hold, error) {
	var h master.Hold
	return h, t.getDevice(dHold, id, &h)
}

// AddHoldUnits records units that the local hold id put on hold (units
// that did not carry its reason before).
func (t *Tx) AddHoldUnits(id string, keys []event.Key) error {
	for _, k := range keys {
		if err := t.set(key(pDevice, dHoldUnit, id, string(k)), nil); err != nil {
			return err
		}
	}
	return nil
}

// HoldUnits lists the units the local hold id put on hold, in key order.
func (t *Tx) HoldUnits(id string) []event.Key {
	var out []event.Key
	t.scan(prefix(pDevice, dHoldUnit, id), func(rest []byte) bool {
		out = append(out, event.Key(rest))
		return true
	})
	return out
}

// CreateShipment writes a shipment made on this device: the replica's
// record and its device copy. Later PutShipment calls keep the copy in
// step.
func (t *Tx) CreateShipment(s master.Shipment) error {
	if err := t.putJSON(mShipment, s.ID, s); err != nil {
		return err
	}
	return t.putDevice(dShipment, s.ID, s)
}

// CloseASN writes an ASN header closed on this device and marks it
// closed for good: a reloaded snapshot that still has it open does not
// reopen it.
func (t *Tx) CloseASN(a ASN) error {
	a.Closed = true
	if err := t.PutASN(a); err != nil {
		return err
	}
	if err := checkID(a.ID); err != nil {
		return err
	}
	return t.set(key(pDevice, dASNClosed, a.ID), []byte{1})
}

// PutDeviceException writes an exception a workflow raised on this
// device: the replica's record and index, and its device copy.
func (t *Tx) PutDeviceException(x unit.Exception) error {
	if err := t.PutException(x); err != nil {
		return err
	}
	return t.putDevice(dException, x.ID, x)
}

func (t *Tx) putDevice(typ, id string, v any) error {
	if err := checkID(id); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	return t.set(key(pDevice, typ, id), b)
}

func (t *Tx) getDevice(typ, id string, v any) error {
	b, err := t.get(key(pDevice, typ, id))
	if err != nil {
		return fmt.Errorf("device %s %q: %w", typ, id, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: device %s %q: %v", ErrCorrupt, typ, id, err)
	}
	return nil
}

func (t *Tx) hasDevice(typ, id string) bool {
	_, err := t.get(key(pDevice, typ, id))
	return err == nil
}

// restoreDevice writes the device-owned records back over a freshly
// loaded snapshot, through the loader's batch. A record the snapshot
// already has (the site knows it) is the site's: the device copy is
// dropped. ASN closed marks are applied when the ASN is read (see
// Tx.ASN).
func restoreDevice(l *Loader, snap *master.Snapshot) error {
	shipments := make(map[string]bool, len(snap.Shipments))
	for _, s := range snap.Shipments {
		shipments[s.ID] = true
	}
	holds := make(map[string]bool, len(snap.Holds))
	for _, h := range snap.Holds {
		holds[h.ID] = true
	}
	open := make(map[string]bool, len(snap.Open))
	for _, x := range snap.Open {
		open[x.ID] = true
	}
	type rec struct {
		typ, id string
		val     []byte
	}
	var recs []rec
	err := l.db.View(func(txn *badger.Txn) error {
		tx := &Tx{txn: txn}
		for _, typ := range []string{dHold, dShipment, dException} {
			err := tx.scanValues(prefix(pDevice, typ), func(rest, v []byte) error {
				recs = append(recs, rec{typ, string(rest), v})
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read device records: %w", err)
	}
	drop := func(r rec) error {
		if err := l.wb.Delete(key(pDevice, r.typ, r.id)); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		return nil
	}
	for _, r := range recs {
		switch r.typ {
		case dHold:
			if holds[r.id] {
				if err := drop(r); err != nil {
					return err
				}
				continue
			}
			var h master.Hold
			if err := json.Unmarshal(r.val, &h); err != nil {
				return fmt.Errorf("%w: device hold %q: %v", ErrCorrupt, r.id, err)
			}
			if err := l.Hold(h); err != nil {
				return err
			}
		case dShipment:
			if shipments[r.id] {
				if err := drop(r); err != nil {
					return err
				}
				continue
			}
			if err := l.set(key(pMaster, mShipment, r.id), r.val); err != nil {
				return err
			}
		case dException:
			if open[r.id] {
				if err := drop(r); err != nil {
					return err
				}
				continue
			}
			var x unit.Exception
			if err := json.Unmarshal(r.val, &x); err != nil {
				return fmt.Errorf("%w: device exception %q: %v", ErrCorrupt, r.id, err)
			}
			if err := l.Exception(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// PINFailures is the record of wrong PINs for one user, or for the
// device as a whole (user ""): kept in the store's meta records, so
// restarting the app does not lift a lockout.
type PINFailures struct {
	Count  int       `json:"count"`           // wrong PINs since the last lockout or sign-in
	Last   time.Time `json:"last,omitzero"`   // the latest wrong PIN
	Locked time.Time `json:"locked,omitzero"` // sign-in refused until then
}

func pinKey(user string) []byte { return append(append([]byte(nil), metaPIN...), user...) }

// PINFailures reads the wrong-PIN record of user ("" for the device).
func (t *Tx) PINFailures(user string) (PINFailures, error) {
	var f PINFailures
	v, err := t.get(pinKey(user))
	if errors.Is(err, ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(v, &f); err != nil {
		return f, fmt.Errorf("%w: pin failures: %v", ErrCorrupt, err)
	}
	return f, nil
}

// PutPINFailures writes the wrong-PIN record of user ("" for the
// device); a zero record deletes it.
func (t *Tx) PutPINFailures(user string, f PINFailures) error {
	if user != "" {
		if err := checkID(user); err != nil {
			return err
		}
	}
	if f == (PINFailures{}) {
		return t.del(pinKey(user))
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode pin failures: %w", err)
	}
	return t.set(pinKey(user), b)
}

// DeviceNumber is the device number (1–999) the data dir was enrolled
// with; ok is false before one was set.
func (t *Tx) DeviceNumber() (n int, ok bool, err error) {
	v, err := t.get(metaDevNum)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case len(v) != 2:
		return 0, false, fmt.Errorf("%w: device number", ErrCorrupt)
	}
	return int(binary.BigEndian.Uint16(v)), true, nil
}

// SetDeviceNumber records the device number (1–999) of the data dir. A
// data dir keeps the number it was first given: another one is refused
// with ErrDevice.
func (s *Store) SetDeviceNumber(n int) error {
	if n < 1 || n > 999 {
		return fmt.Errorf("%w: device number %d (want 1–999)", ErrInvalid, n)
	}
	return s.Update(func(tx *Tx) error {
		cur, ok, err := tx.DeviceNumber()
		switch {
		case err != nil:
			return err
		case ok && cur != n:
			return fmt.Errorf("%w: the data dir is device number %d, not %d", ErrDevice, cur, n)
		case ok:
			return nil
		}
		return tx.set(metaDevNum, binary.BigEndian.AppendUint16(nil, uint16(n)))
	})
}

// ClearHoldUnits forgets the units recorded for the local hold id.
func (t *Tx) ClearHoldUnits(id string) error {
	for _, k := range t.HoldUnits(id) {
		if err := t.del(key(pDevice, dHoldUnit, id, string(k))); err != nil {
			return err
		}
	}
	return nil
}
