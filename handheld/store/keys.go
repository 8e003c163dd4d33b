package store

import (
	"encoding/binary"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Key layout. One byte names the record type; 0x00 separates variable
// parts (no identifier the store keeps may contain it).
//
//	!name                               meta: device, epoch, last seq, acked seq, hlc, sscc counter, cursor
//	u key                               unit state (binary, see codec.go)
//	c parent 0 child                    children by parent
//	l gtin 0 lot 0 key                  units here (in stock, picked, packed) by lot: lot holds, recalls
//	f gtin yymmdd key                   available units (in stock, no own hold) by expiry: FEFO
//	o order 0 line 0 key                picked or packed units by order line: progress
//	s shipment 0 key                    shipped units by shipment: void
//	x id                                exception (JSON)
//	X key 0 rule 0 id                   active exceptions by unit and rule
//	E id                                event (binary): local history and outbox bodies
//	q epoch seq                         outbox: pending events in device order (value: event id)
//	h key 0 hlc id                      events by unit: history
//	m type 0 id                         master data and plans (JSON)
//	H gtin 0 lot 0 hold-id              active lot ("lot" set) and product (lot "") holds: reason
//	P order 0 line                      short picks recorded on this device (JSON)
//	D type 0 id [0 key]                 device-owned records (device.go): local lot holds and their units,
//	                                    shipments made here, ASNs closed here, workflow exceptions
const (
	pUnit     = 'u'
	pChild    = 'c'
	pLot      = 'l'
	pFEFO     = 'f'
	pOrder    = 'o'
	pShip     = 's'
	pExc      = 'x'
	pExcIdx   = 'X'
	pEvent    = 'E'
	pOutbox   = 'q'
	pHistory  = 'h'
	pMaster   = 'm'
	pHoldIdx  = 'H'
	pShortage = 'P'
	pDevice   = 'D'
)

var (
	metaDevice  = []byte("!device")
	metaEpoch   = []byte("!epoch")
	metaSeq     = []byte("!seq")
	metaAcked   = []byte("!acked")
	metaHLC     = []byte("!hlc")
	metaSSCC    = []byte("!sscc")
	metaCursor  = []byte("!cursor")
	metaLoading = []byte("!loading")
	metaDevNum  = []byte("!devnum")
	metaPIN     = []byte("!pin\x00") // + user id ("" for the device): wrong PINs
)

func key(p byte, parts ...string) []byte {
	n := 1
	for _, s := range parts {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, p)
	for i, s := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return b
}

// prefix is key(p, parts...) followed by a separator, for scanning
// everything under parts.
func prefix(p byte, parts ...string) []byte { return append(key(p, parts...), 0) }

func unitKey(k event.Key) []byte { return key(pUnit, string(k)) }

func outboxKey(epoch uint32, seq uint64) []byte {
	b := []byte{pOutbox}
	b = binary.BigEndian.AppendUint32(b, epoch)
	return binary.BigEndian.AppendUint64(b, seq)
}

// fefoDate makes a YYMMDD expiry sort by date: DD 00 (the last day of
// the month) sorts after every real day. ok is false for a malformed date.
func fefoDate(yymmdd string) (string, bool) {
	if len(yymmdd) != 6 {
		return "", false
	}
	for i := 0; i < 6; i++ {
		if yymmdd[i] < '0' || yymmdd[i] > '9' {
			return "", false
		}
	}
	if yymmdd[4:] == "00" {
		return yymmdd[:4] + "32", true
	}
	return yymmdd, true
}

// here reports whether a unit is physically at the site and active.
func here(s unit.Status) bool {
	return s == unit.StatusInStock || s == unit.StatusPicked || s == unit.StatusPacked
}

// indexes lists the secondary index keys a state needs.
func indexes(s *unit.State) [][]byte {
	if s == nil || !s.Known() {
		return nil
	}
	var out [][]byte
	k := string(s.Key)
	if s.Parent != "" {
		out = append(out, key(pChild, string(s.Parent), k))
	}
	g := s.Key.GTIN()
	if g != "" && here(s.Status) {
		out = append(out, key(pLot, g, s.Lot, k))
	}
	if g != "" && s.Status == unit.StatusInStock && s.Holds == 0 && !s.Key.IsContainer() {
		if d, ok := fefoDate(s.Expiry); ok {
			out = append(out, append(append([]byte{pFEFO}, g+d...), k...))
		}
	}
	if s.Order != "" && (s.Status == unit.StatusPicked || s.Status == unit.StatusPacked) {
		out = append(out, key(pOrder, s.Order, s.Line, k))
	}
	if s.Shipment != "" && s.Status == unit.StatusShipped {
		out = append(out, key(pShip, s.Shipment, k))
	}
	return out
}
