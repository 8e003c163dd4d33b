package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Tx is one Badger transaction over the replica. It implements
// unit.Store; everything written through one Tx commits together or not
// at all.
type Tx struct {
	s     *Store
	txn   *badger.Txn
	holds map[string]event.Holds // inherited holds by gtin 0 lot, this txn
}

var _ unit.Store = (*Tx)(nil)

func newTx(s *Store, txn *badger.Txn) *Tx { return &Tx{s: s, txn: txn} }

// Epoch is the store's device epoch.
func (t *Tx) Epoch() uint32 { return t.s.epoch }

// Device is the store's device id.
func (t *Tx) Device() string { return t.s.device }

func (t *Tx) get(k []byte) ([]byte, error) { return getRaw(t.txn, k) }

func (t *Tx) set(k, v []byte) error {
	if err := t.txn.Set(k, v); err != nil {
		return writeErr(err)
	}
	return nil
}

func (t *Tx) del(k []byte) error {
	if err := t.txn.Delete(k); err != nil {
		return writeErr(err)
	}
	return nil
}

func writeErr(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w: %v", ErrTooBig, err)
	}
	return fmt.Errorf("store write: %w", err)
}

// scan calls fn with the key suffix after pfx of every key under pfx, in
// order, until fn returns false.
func (t *Tx) scan(pfx []byte, fn func(rest []byte) bool) {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = pfx
	it := t.txn.NewIterator(o)
	defer it.Close()
	for it.Seek(pfx); it.ValidForPrefix(pfx); it.Next() {
		if !fn(it.Item().Key()[len(pfx):]) {
			return
		}
	}
}

// scanValues is scan with values.
func (t *Tx) scanValues(pfx []byte, fn func(rest, val []byte) error) error {
	o := badger.DefaultIteratorOptions
	o.PrefetchSize = 16
	o.Prefix = pfx
	it := t.txn.NewIterator(o)
	defer it.Close()
	for it.Seek(pfx); it.ValidForPrefix(pfx); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("store read: %w", err)
		}
		if err := fn(it.Item().Key()[len(pfx):], v); err != nil {
			return err
		}
	}
	return nil
}

// Unit implements unit.Store.
func (t *Tx) Unit(k event.Key) (unit.State, error) {
	v, err := t.get(unitKey(k))
	if errors.Is(err, ErrNotFound) {
		return unit.State{}, nil
	}
	if err != nil {
		return unit.State{}, fmt.Errorf("unit %s: %w", k, err)
	}
	return decodeState(k, v)
}

// PutUnit implements unit.Store: the state and its secondary indexes.
func (t *Tx) PutUnit(s unit.State) error {
	if err := s.Key.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	old, err := t.Unit(s.Key)
	if err != nil {
		return err
	}
	oldIdx, newIdx := indexes(&old), indexes(&s)
	for _, o := range oldIdx {
		if !containsKey(newIdx, o) {
			if err := t.del(o); err != nil {
				return err
			}
		}
	}
	for _, n := range newIdx {
		if !containsKey(oldIdx, n) {
			if err := t.set(n, nil); err != nil {
				return err
			}
		}
	}
	return t.set(unitKey(s.Key), appendState(nil, &s))
}

func containsKey(list [][]byte, k []byte) bool {
	for _, l := range list {
		if bytes.Equal(l, k) {
			return true
		}
	}
	return false
}

// Children implements unit.Store: direct children in key order.
func (t *Tx) Children(p event.Key) ([]event.Key, error) {
	var out []event.Key
	t.scan(prefix(pChild, string(p)), func(rest []byte) bool {
		out = append(out, event.Key(rest))
		return true
	})
	return out, nil
}

// Descendants lists everything inside k, depth first in key order.
func (t *Tx) Descendants(k event.Key) ([]event.Key, error) {
	var out []event.Key
	var walk func(p event.Key, depth int) error
	walk = func(p event.Key, depth int) error {
		if depth > 8 {
			return nil
		}
		kids, err := t.Children(p)
		if err != nil {
			return err
		}
		for _, c := range kids {
			out = append(out, c)
			if c.IsContainer() {
				if err := walk(c, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(k, 0)
}

// Inherited implements unit.Store: active lot and product holds.
func (t *Tx) Inherited(s unit.State) (event.Holds, error) {
	return t.LotHolds(s.Key.GTIN(), s.Lot)
}

// LotHolds is the union of active holds on gtin's lot and on the product.
func (t *Tx) LotHolds(gtin, lot string) (event.Holds, error) {
	if gtin == "" {
		return 0, nil
	}
	ck := gtin + "\x00" + lot
	if h, ok := t.holds[ck]; ok {
		return h, nil
	}
	var h event.Holds
	collect := func(pfx []byte) error {
		return t.scanValues(pfx, func(_, v []byte) error {
			if len(v) == 1 {
				h = h.With(event.HoldReason(v[0]))
			}
			return nil
		})
	}
	if err := collect(prefix(pHoldIdx, gtin, "")); err != nil {
		return 0, err
	}
	if lot != "" {
		if err := collect(prefix(pHoldIdx, gtin, lot)); err != nil {
			return 0, err
		}
	}
	if t.holds == nil {
		t.holds = map[string]event.Holds{}
	}
	t.holds[ck] = h
	return h, nil
}

// ActiveException implements unit.Store: the lowest-id open or
// acknowledged exception for k under r.
func (t *Tx) ActiveException(k event.Key, r unit.Rule) (unit.Exception, bool, error) {
	var id string
	t.scan(prefix(pExcIdx, string(k), string(r)), func(rest []byte) bool {
		id = string(rest)
		return false
	})
	if id == "" {
		return unit.Exception{}, false, nil
	}
	x, err := t.Exception(id)
	if err != nil {
		return unit.Exception{}, false, err
	}
	return x, true, nil
}

// PutException implements unit.Store.
func (t *Tx) PutException(x unit.Exception) error {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("encode exception: %w", err)
	}
	if err := t.set(key(pExc, x.ID), b); err != nil {
		return err
	}
	idx := key(pExcIdx, string(x.Unit), string(x.Rule), x.ID)
	if x.Active() {
		return t.set(idx, nil)
	}
	return t.del(idx)
}

// Exception reads one exception.
func (t *Tx) Exception(id string) (unit.Exception, error) {
	var x unit.Exception
	v, err := t.get(key(pExc, id))
	if err != nil {
		return x, fmt.Errorf("exception %s: %w", id, err)
	}
	if err := json.Unmarshal(v, &x); err != nil {
		return x, fmt.Errorf("%w: exception %s: %v", ErrCorrupt, id, err)
	}
	return x, nil
}

// ExceptionsOf lists the active exceptions of one unit.
func (t *Tx) ExceptionsOf(k event.Key) ([]unit.Exception, error) {
	var ids []string
	t.scan(prefix(pExcIdx, string(k)), func(rest []byte) bool {
		if i := bytes.LastIndexByte(rest, 0); i >= 0 {
			ids = append(ids, string(rest[i+1:]))
		}
		return true
	})
	out := make([]unit.Exception, 0, len(ids))
	for _, id := range ids {
		x, err := t.Exception(id)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// Exceptions lists every exception the replica holds, by id.
func (t *Tx) Exceptions() ([]unit.Exception, error) {
	var out []unit.Exception
	err := t.scanValues([]byte{pExc}, func(_, v []byte) error {
		var x unit.Exception
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("%w: exception: %v", ErrCorrupt, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// LotUnits lists the units of gtin's lot that are here (in stock, picked
// or packed), in key order.
func (t *Tx) LotUnits(gtin, lot string) []event.Key {
	var out []event.Key
	t.scan(prefix(pLot, gtin, lot), func(rest []byte) bool {
		out = append(out, event.Key(rest))
		return true
	})
	return out
}

// EarliestAvailable calls fn, in expiry order, for the available units
// (in stock, no hold of their own) of gtin whose expiry is at or after
// from and before until (YYMMDD; "" for no bound), until fn returns false.
func (t *Tx) EarliestAvailable(gtin, from, until string, fn func(k event.Key, expiry string) bool) {
	pfx := append([]byte{pFEFO}, gtin...)
	lo, _ := fefoDate(from)
	hi, hiOK := fefoDate(until)
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = pfx
	it := t.txn.NewIterator(o)
	defer it.Close()
	for it.Seek(append(append([]byte(nil), pfx...), lo...)); it.ValidForPrefix(pfx); it.Next() {
		rest := it.Item().Key()[len(pfx):]
		if len(rest) < 7 {
			continue
		}
		d := string(rest[:6])
		if hiOK && d >= hi {
			return
		}
		if !fn(event.Key(rest[6:]), d) {
			return
		}
	}
}

// OrderUnits lists the units picked or packed for an order, by line.
func (t *Tx) OrderUnits(order string) map[string][]event.Key {
	out := map[string][]event.Key{}
	t.scan(prefix(pOrder, order), func(rest []byte) bool {
		if i := bytes.IndexByte(rest, 0); i >= 0 {
			line := string(rest[:i])
			out[line] = append(out[line], event.Key(rest[i+1:]))
		}
		return true
	})
	return out
}

// ShipmentUnits lists the units shipped on a shipment.
func (t *Tx) ShipmentUnits(id string) []event.Key {
	var out []event.Key
	t.scan(prefix(pShip, id), func(rest []byte) bool {
		out = append(out, event.Key(rest))
		return true
	})
	return out
}

// History lists the events this device knows for a unit, oldest first.
func (t *Tx) History(k event.Key, max int) ([]event.Event, error) {
	var ids [][]byte
	t.scan(prefix(pHistory, string(k)), func(rest []byte) bool {
		if len(rest) == 8+16 {
			ids = append(ids, append([]byte(nil), rest[8:]...))
		}
		return true
	})
	if max > 0 && len(ids) > max {
		ids = ids[len(ids)-max:]
	}
	out := make([]event.Event, 0, len(ids))
	for _, id := range ids {
		v, err := t.get(append([]byte{pEvent}, id...))
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", k, err)
		}
		var ev event.Event
		if err := ev.UnmarshalBinary(v); err != nil {
			return nil, fmt.Errorf("%w: event: %v", ErrCorrupt, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// LastSeq is the device sequence number of the last event appended in
// this epoch (0 before any).
func (t *Tx) LastSeq() (uint64, error) {
	v, err := t.get(metaSeq)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: seq", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

// HLC is the latest timestamp recorded by an append (0 before any).
func (t *Tx) HLC() (hlc.Timestamp, error) {
	v, err := t.get(metaHLC)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("%w: hlc", ErrCorrupt)
	}
	return hlc.Timestamp(binary.BigEndian.Uint64(v)), nil
}

// Append adds ev to the outbox as the next event of the device: its
// Epoch must be the store's and its Seq the one after LastSeq. touched
// lists the units the event reached (for history).
func (t *Tx) Append(ev *event.Event, touched []event.Key) error {
	last, err := t.LastSeq()
	if err != nil {
		return err
	}
	if ev.Epoch != t.s.epoch || ev.Seq != last+1 || ev.Device != t.s.device {
		return fmt.Errorf("%w: event %d/%d of %s after %d/%d", ErrSequence, ev.Epoch, ev.Seq, ev.Device, t.s.epoch, last)
	}
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := t.set(append([]byte{pEvent}, ev.ID[:]...), ev.AppendBinary(nil)); err != nil {
		return err
	}
	if err := t.set(outboxKey(ev.Epoch, ev.Seq), ev.ID[:]); err != nil {
		return err
	}
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(ev.HLC))
	for _, k := range touched {
		hk := append(append(prefix(pHistory, string(k)), ts[:]...), ev.ID[:]...)
		if err := t.set(hk, nil); err != nil {
			return err
		}
	}
	if err := t.set(metaSeq, binary.BigEndian.AppendUint64(nil, ev.Seq)); err != nil {
		return err
	}
	if cur, err := t.HLC(); err != nil || ev.HLC > cur {
		return t.set(metaHLC, ts[:])
	}
	return nil
}

// NextSSCCSerial returns the next device-local SSCC serial number and
// records it as used.
func (t *Tx) NextSSCCSerial() (uint64, error) {
	var n uint64
	v, err := t.get(metaSSCC)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return 0, err
	case len(v) != 8:
		return 0, fmt.Errorf("%w: sscc counter", ErrCorrupt)
	default:
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, t.set(metaSSCC, binary.BigEndian.AppendUint64(nil, n))
}

// Cursor is the down-feed cursor of the loaded replica.
func (t *Tx) Cursor() string {
	v, _ := t.get(metaCursor)
	return string(v)
}

// master records

const (
	mSite     = "site"
	mClient   = "client"
	mProduct  = "product"
	mLocation = "location"
	mPartner  = "partner"
	mUser     = "user"
	mASN      = "asn"
	mOrder    = "order"
	mShipment = "shipment"
	mHold     = "hold"
	mSerial   = "serialmodel"
)

func (t *Tx) getJSON(typ, id string, v any) error {
	b, err := t.get(key(pMaster, typ, id))
	if err != nil {
		return fmt.Errorf("%s %q: %w", typ, id, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s %q: %v", ErrCorrupt, typ, id, err)
	}
	return nil
}

func (t *Tx) putJSON(typ, id string, v any) error {
	if err := checkID(id); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	return t.set(key(pMaster, typ, id), b)
}

func listJSON[T any](t *Tx, typ string) ([]T, error) {
	var out []T
	err := t.scanValues(prefix(pMaster, typ), func(_, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, typ, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

func checkID(id string) error {
	if id == "" || len(id) > event.MaxField || bytes.IndexByte([]byte(id), 0) >= 0 {
		return fmt.Errorf("%w: id %q", ErrInvalid, id)
	}
	return nil
}

// Site is the site the replica belongs to.
func (t *Tx) Site() (master.Site, error) {
	var s master.Site
	return s, t.getJSON(mSite, "site", &s)
}

// Client reads a client.
func (t *Tx) Client(id string) (master.Client, error) {
	var c master.Client
	return c, t.getJSON(mClient, id, &c)
}

// Product reads a product by GTIN.
func (t *Tx) Product(gtin string) (master.Product, error) {
	var p master.Product
	return p, t.getJSON(mProduct, gtin, &p)
}

// Location reads a location.
func (t *Tx) Location(id string) (master.Location, error) {
	var l master.Location
	return l, t.getJSON(mLocation, id, &l)
}

// Locations lists every location by id.
func (t *Tx) Locations() ([]master.Location, error) { return listJSON[master.Location](t, mLocation) }

// User reads a user.
func (t *Tx) User(id string) (master.User, error) {
	var u master.User
	return u, t.getJSON(mUser, id, &u)
}

// ASN reads an ASN header; an ASN closed on this device stays closed.
func (t *Tx) ASN(id string) (ASN, error) {
	var a ASN
	if err := t.getJSON(mASN, id, &a); err != nil {
		return a, err
	}
	a.Closed = a.Closed || t.hasDevice(dASNClosed, id)
	return a, nil
}

// PutASN writes an ASN header.
func (t *Tx) PutASN(a ASN) error { return t.putJSON(mASN, a.ID, a) }

// Order reads an order.
func (t *Tx) Order(id string) (master.Order, error) {
	var o master.Order
	return o, t.getJSON(mOrder, id, &o)
}

// Shipment reads a shipment.
func (t *Tx) Shipment(id string) (master.Shipment, error) {
	var s master.Shipment
	return s, t.getJSON(mShipment, id, &s)
}

// PutShipment writes a shipment, and the device copy of a shipment made
// on this device (see CreateShipment).
func (t *Tx) PutShipment(s master.Shipment) error {
	if err := t.putJSON(mShipment, s.ID, s); err != nil {
		return err
	}
	if t.hasDevice(dShipment, s.ID) {
		return t.putDevice(dShipment, s.ID, s)
	}
	return nil
}

// Hold reads a lot or product hold.
func (t *Tx) Hold(id string) (master.Hold, error) {
	var h master.Hold
	return h, t.getJSON(mHold, id, &h)
}

// HoldsOn lists the holds recorded for gtin (every lot and the product).
func (t *Tx) HoldsOn(gtin string) ([]master.Hold, error) {
	var ids []string
	t.scan(prefix(pHoldIdx, gtin), func(rest []byte) bool {
		if i := bytes.LastIndexByte(rest, 0); i >= 0 {
			ids = append(ids, string(rest[i+1:]))
		}
		return true
	})
	out := make([]master.Hold, 0, len(ids))
	for _, id := range ids {
		h, err := t.Hold(id)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// PutHold writes a lot or product hold and its index entry.
func (t *Tx) PutHold(h master.Hold) error {
	if err := h.Validate(); err != nil {
		return err
	}
	lot := h.Lot
	if h.Scope == master.ScopeProduct {
		lot = ""
	}
	idx := key(pHoldIdx, h.GTIN, lot, h.ID)
	if old, err := t.Hold(h.ID); err == nil && (old.GTIN != h.GTIN || old.Lot != h.Lot || old.Scope != h.Scope) {
		ol := old.Lot
		if old.Scope == master.ScopeProduct {
			ol = ""
		}
		if err := t.del(key(pHoldIdx, old.GTIN, ol, old.ID)); err != nil {
			return err
		}
	}
	t.holds = nil
	if h.Active {
		if err := t.set(idx, []byte{byte(h.Reason)}); err != nil {
			return err
		}
	} else if err := t.del(idx); err != nil {
		return err
	}
	return t.putJSON(mHold, h.ID, h)
}

// ShortPick is a short pick recorded on the device.
type ShortPick struct {
	Order  string        `json:"order"`
	Line   string        `json:"line"`
	Qty    int           `json:"qty"` // how many were missing
	Reason string        `json:"reason"`
	User   string        `json:"user"`
	At     hlc.Timestamp `json:"at"`
}

// ShortPicks lists the short picks recorded for an order, by line.
func (t *Tx) ShortPicks(order string) (map[string]ShortPick, error) {
	out := map[string]ShortPick{}
	err := t.scanValues(prefix(pShortage, order), func(rest, v []byte) error {
		var sp ShortPick
		if err := json.Unmarshal(v, &sp); err != nil {
			return fmt.Errorf("%w: short pick: %v", ErrCorrupt, err)
		}
		out[string(rest)] = sp
		return nil
	})
	return out, err
}

// PutShortPick records a short pick.
func (t *Tx) PutShortPick(sp ShortPick) error {
	b, err := json.Marshal(sp)
	if err != nil {
		return fmt.Errorf("encode short pick: %w", err)
	}
	return t.set(key(pShortage, sp.Order, sp.Line), b)
}

// ASN is an inbound shipment as the replica keeps it: the header and its
// top-level items. The items themselves are expected unit states linked
// by parent, so receiving a pallet reaches its contents through the
// children index.
type ASN struct {
	ID       string      `json:"id"`
	Client   string      `json:"client"`
	Supplier string      `json:"supplier"`
	Roots    []event.Key `json:"roots"`
	Items    int         `json:"items"`
	GTINs    []string    `json:"gtins"` // every GTIN the ASN announces, sorted
	Closed   bool        `json:"closed,omitempty"`
}

// EachUnit calls fn with every unit state, in key order.
func (t *Tx) EachUnit(fn func(unit.State) error) error {
	return t.scanValues([]byte{pUnit}, func(rest, v []byte) error {
		s, err := decodeState(event.Key(rest), v)
		if err != nil {
			return err
		}
		return fn(s)
	})
}
