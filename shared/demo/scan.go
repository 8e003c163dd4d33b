package demo

import (
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// GS is the group separator a scanner sends for FNC1.
const GS = "\x1d"

// UnitScan is what a scanner sends for a pack's GS1 DataMatrix: ]d2,
// GTIN, expiry, lot (ended by GS) and serial.
func UnitScan(gtin, serial, lot, expiry string) []byte {
	s := "]d201" + gtin
	if expiry != "" {
		s += "17" + expiry
	}
	if lot != "" {
		s += "10" + lot + GS
	}
	return []byte(s + "21" + serial)
}

// SSCCScan is what a scanner sends for a logistic label (GS1-128).
func SSCCScan(sscc string) []byte { return []byte("]C100" + sscc) }

// KeyScan is the scan of a key: an SSCC label, or a GTIN + serial
// DataMatrix with the given lot and expiry.
func KeyScan(k event.Key, lot, expiry string) []byte {
	if k.IsSSCC() {
		return SSCCScan(k.SSCCValue())
	}
	return UnitScan(k.GTIN(), k.Serial(), lot, expiry)
}

// ScanOf is the scan of a unit state as its pack would read.
func (f *Fixture) ScanOf(k event.Key) []byte {
	for _, u := range f.Snapshot.Units {
		if u.Key == k {
			return KeyScan(k, u.Lot, u.Expiry)
		}
	}
	for _, a := range f.Snapshot.ASNs {
		for _, it := range a.Items {
			if it.Key == k {
				return KeyScan(k, it.Lot, it.Expiry)
			}
		}
	}
	return KeyScan(k, "", "")
}

// Stock lists the in-stock lots of a unit GTIN, earliest expiry first.
func (f *Fixture) Stock(gtin string) []StockLot {
	var out []StockLot
	idx := map[string]int{}
	for _, u := range f.Snapshot.Units {
		if u.Key.GTIN() != gtin {
			continue
		}
		i, ok := idx[u.Lot]
		if !ok {
			i = len(out)
			idx[u.Lot] = i
			out = append(out, StockLot{GTIN: gtin, Lot: u.Lot, Expiry: u.Expiry})
		}
		out[i].Units = append(out[i].Units, u.Key)
	}
	return out
}

// Product returns the i-th unit product (0-2 US, 3-4 EU).
func (f *Fixture) Product(i int) string { return f.Snapshot.Products[2*i].GTIN }

// CaseProduct returns the case GTIN of the i-th unit product.
func (f *Fixture) CaseProduct(i int) string { return f.Snapshot.Products[2*i+1].GTIN }

// ASN returns the ASN with the given id.
func (f *Fixture) ASN(id string) *master.ASN {
	for i := range f.Snapshot.ASNs {
		if f.Snapshot.ASNs[i].ID == id {
			return &f.Snapshot.ASNs[i]
		}
	}
	return nil
}
