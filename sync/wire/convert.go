package wire

import (
	"fmt"
	"math"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/protocol"
)

// Conversions between wire structs and the endpoints' types. ToWire
// cannot fail; FromWire checks what the wire cannot (enum ranges, event
// encodings, contiguity) and says what is wrong.

// CursorToWire converts a cursor.
func CursorToWire(c protocol.Cursor) Cursor {
	return Cursor{Cluster: c.Cluster, Epoch: c.Epoch, Index: c.Index}
}

// CursorFromWire converts a cursor.
func CursorFromWire(c Cursor) protocol.Cursor {
	return protocol.Cursor{Cluster: c.Cluster, Epoch: c.Epoch, Index: c.Index}
}

// PushToWire encodes a run of events. The encodings share one buffer.
func PushToWire(epoch uint32, first uint64, evs []event.Event) Push {
	p := Push{Epoch: epoch, First: first, Events: make([][]byte, len(evs))}
	arena := make([]byte, 0, 160*len(evs))
	ends := make([]int, len(evs))
	for i := range evs {
		arena = evs[i].AppendBinary(arena)
		ends[i] = len(arena)
	}
	start := 0
	for i, end := range ends {
		p.Events[i] = arena[start:end:end]
		start = end
	}
	return p
}

// FitPush returns how many of p's events, from the first, fit a frame
// of maxFrame bytes.
func FitPush(p *Push, maxFrame int) int {
	size := HeaderMax + 3*10 // envelope, epoch, first, count
	for i, e := range p.Events {
		size += len(e) + uvarintLen(uint64(len(e)))
		if size > maxFrame {
			return i
		}
	}
	return len(p.Events)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// PushFromWire decodes a push's events. It checks each encoding and that
// the events are seqs First, First+1, … of the push's epoch; whether they
// belong to the session's device is the session's check.
func PushFromWire(p *Push) ([]event.Event, error) {
	evs := make([]event.Event, len(p.Events))
	for i, b := range p.Events {
		if err := evs[i].UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("%w: event %d of the push: %w", ErrMalformed, i, err)
		}
		if evs[i].Seq != p.First+uint64(i) || evs[i].Epoch != p.Epoch {
			return nil, fmt.Errorf("%w: event %d of the push is epoch %d seq %d, want epoch %d seq %d",
				ErrMalformed, i, evs[i].Epoch, evs[i].Seq, p.Epoch, p.First+uint64(i))
		}
	}
	return evs, nil
}

// VerdictsToWire converts verdicts (their seqs are implied by the ack's
// First).
func VerdictsToWire(vs []protocol.Verdict) []Verdict {
	out := make([]Verdict, len(vs))
	for i, v := range vs {
		out[i] = Verdict{Outcome: uint8(v.Outcome), Original: uint8(v.Original), Exceptions: v.Exceptions, Message: v.Message}
	}
	return out
}

// VerdictsFromWire converts an ack's verdicts, numbering them from first.
func VerdictsFromWire(first uint64, vs []Verdict) ([]protocol.Verdict, error) {
	out := make([]protocol.Verdict, len(vs))
	for i, v := range vs {
		o, orig := protocol.Outcome(v.Outcome), protocol.Outcome(v.Original)
		if o == protocol.OutcomeUnknown || !o.Valid() || !orig.Valid() {
			return nil, fmt.Errorf("%w: verdict %d: outcome %d/%d", ErrMalformed, i, v.Outcome, v.Original)
		}
		out[i] = protocol.Verdict{Seq: first + uint64(i), Outcome: o, Original: orig, Exceptions: v.Exceptions, Message: v.Message}
	}
	return out, nil
}

// RecordsToWire converts a snapshot's records (or a change set's Put)
// and removals.
func RecordsToWire(s *master.Snapshot, removed []protocol.Removal) Records {
	var r Records
	if s.Site.ID != "" {
		r.Site = &Site{ID: s.Site.ID, Name: s.Site.Name, GLN: s.Site.GLN, SSCCPrefix: s.Site.SSCCPrefix, SSCCExtension: s.Site.SSCCExtension}
	}
	r.Clients = mapSlice(s.Clients, func(c *master.Client) Client {
		return Client{ID: c.ID, Name: c.Name, RequireLot: c.Policy.RequireLot, RequireExpiry: c.Policy.RequireExpiry,
			FEFO: string(c.Policy.FEFO), Mixing: string(c.Policy.Mixing), MinShelfDays: u32(c.Policy.MinShelfDays)}
	})
	r.Products = mapSlice(s.Products, func(p *master.Product) Product {
		return Product{GTIN: p.GTIN, Client: p.Client, NDC: p.NDC, Name: p.Name, Strength: p.Strength, Form: p.Form,
			PackSize: u32(p.PackSize), CompanyPrefixLen: u32(p.CompanyPrefixLen), UnitsPerCase: u32(p.UnitsPerCase), UnitGTIN: p.UnitGTIN}
	})
	r.Locations = mapSlice(s.Locations, func(l *master.Location) Location {
		return Location{ID: l.ID, Zone: l.Zone, Bin: l.Bin, Quarantine: l.Quarantine, Dock: l.Dock}
	})
	r.Partners = mapSlice(s.Partners, func(p *master.Partner) Partner { return Partner{ID: p.ID, Name: p.Name, GLN: p.GLN} })
	r.Users = mapSlice(s.Users, func(u *master.User) User {
		w := User{ID: u.ID, Name: u.Name, Role: string(u.Role), Clients: u.Clients}
		if u.PIN != nil {
			w.PIN = &PIN{Salt: u.PIN.Salt, Iter: u32(u.PIN.Iter), Hash: u.PIN.Hash}
		}
		return w
	})
	r.ASNs = mapSlice(s.ASNs, func(a *master.ASN) ASN {
		return ASN{ID: a.ID, Client: a.Client, Supplier: a.Supplier, Closed: a.Closed,
			Items: mapSlice(a.Items, func(it *master.ASNItem) ASNItem {
				return ASNItem{Key: string(it.Key), Parent: string(it.Parent), Lot: it.Lot, Expiry: it.Expiry}
			})}
	})
	r.Orders = mapSlice(s.Orders, func(o *master.Order) Order {
		return Order{ID: o.ID, Client: o.Client, Customer: o.Customer,
			Lines: mapSlice(o.Lines, func(l *master.OrderLine) OrderLine {
				return OrderLine{ID: l.ID, GTIN: l.GTIN, Qty: u32(l.Qty), Lot: l.Lot}
			})}
	})
	r.Shipments = mapSlice(s.Shipments, func(sh *master.Shipment) Shipment {
		return Shipment{ID: sh.ID, Client: sh.Client, Destination: sh.Destination, Orders: sh.Orders,
			Containers: mapSlice(sh.Containers, func(k *event.Key) string { return string(*k) }), Departed: sh.Departed}
	})
	r.Holds = mapSlice(s.Holds, func(h *master.Hold) Hold {
		return Hold{ID: h.ID, Client: h.Client, Scope: string(h.Scope), GTIN: h.GTIN, Lot: h.Lot, Reason: uint8(h.Reason),
			Note: h.Note, Active: h.Active, By: h.By, At: uint64(h.At)}
	})
	r.Units = mapSlice(s.Units, func(u *unit.State) Unit {
		return Unit{Key: string(u.Key), Client: u.Client, Lot: u.Lot, Expiry: u.Expiry, Status: uint8(u.Status), Holds: uint8(u.Holds),
			Location: u.Location, Parent: string(u.Parent), ASN: u.ASN, Order: u.Order, Line: u.Line, Shipment: u.Shipment,
			Completeness: uint8(u.Completeness), Version: u.Version, LastEvent: u.LastEvent, LastDevice: u.LastDevice,
			Updated: uint64(u.Updated), Since: uint64(u.Since)}
	})
	r.Exceptions = mapSlice(s.Open, func(x *unit.Exception) Exception {
		return Exception{ID: x.ID, Rule: string(x.Rule), Severity: uint8(x.Severity), Status: uint8(x.Status), Unit: string(x.Unit),
			Client: x.Client, Site: x.Site, Detail: x.Detail, Events: mapSlice(x.Events, func(id *event.ID) [16]byte { return *id }),
			Devices: x.Devices, Opened: uint64(x.Opened), Updated: uint64(x.Updated), By: x.By, Note: x.Note}
	})
	r.Removed = mapSlice(removed, func(x *protocol.Removal) Removal { return Removal{Kind: uint8(x.Kind), ID: x.ID} })
	r.SerialModels = mapSlice(s.SerialModels, serialModelToWire)
	return r
}

// RecordsFromWire converts a batch of records back. It refuses removals
// of unknown kinds; the records' own rules are the domain's to check.
func RecordsFromWire(r *Records) (master.Snapshot, []protocol.Removal, error) {
	var s master.Snapshot
	if r.Site != nil {
		s.Site = master.Site{ID: r.Site.ID, Name: r.Site.Name, GLN: r.Site.GLN, SSCCPrefix: r.Site.SSCCPrefix, SSCCExtension: r.Site.SSCCExtension}
	}
	s.Clients = mapSlice(r.Clients, func(c *Client) master.Client {
		return master.Client{ID: c.ID, Name: c.Name, Policy: master.Policy{RequireLot: c.RequireLot, RequireExpiry: c.RequireExpiry,
			FEFO: master.FEFO(c.FEFO), Mixing: master.Mixing(c.Mixing), MinShelfDays: int(c.MinShelfDays)}}
	})
	s.Products = mapSlice(r.Products, func(p *Product) master.Product {
		return master.Product{GTIN: p.GTIN, Client: p.Client, NDC: p.NDC, Name: p.Name, Strength: p.Strength, Form: p.Form,
			PackSize: int(p.PackSize), CompanyPrefixLen: int(p.CompanyPrefixLen), UnitsPerCase: int(p.UnitsPerCase), UnitGTIN: p.UnitGTIN}
	})
	s.Locations = mapSlice(r.Locations, func(l *Location) master.Location {
		return master.Location{ID: l.ID, Zone: l.Zone, Bin: l.Bin, Quarantine: l.Quarantine, Dock: l.Dock}
	})
	s.Partners = mapSlice(r.Partners, func(p *Partner) master.Partner { return master.Partner{ID: p.ID, Name: p.Name, GLN: p.GLN} })
	s.Users = mapSlice(r.Users, func(u *User) master.User {
		m := master.User{ID: u.ID, Name: u.Name, Role: master.Role(u.Role), Clients: u.Clients}
		if u.PIN != nil {
			m.PIN = &master.PINVerifier{Salt: u.PIN.Salt, Iter: int(u.PIN.Iter), Hash: u.PIN.Hash}
		}
		return m
	})
	s.ASNs = mapSlice(r.ASNs, func(a *ASN) master.ASN {
		return master.ASN{ID: a.ID, Client: a.Client, Supplier: a.Supplier, Closed: a.Closed,
			Items: mapSlice(a.Items, func(it *ASNItem) master.ASNItem {
				return master.ASNItem{Key: event.Key(it.Key), Parent: event.Key(it.Parent), Lot: it.Lot, Expiry: it.Expiry}
			})}
	})
	s.Orders = mapSlice(r.Orders, func(o *Order) master.Order {
		return master.Order{ID: o.ID, Client: o.Client, Customer: o.Customer,
			Lines: mapSlice(o.Lines, func(l *OrderLine) master.OrderLine {
				return master.OrderLine{ID: l.ID, GTIN: l.GTIN, Qty: int(l.Qty), Lot: l.Lot}
			})}
	})
	s.Shipments = mapSlice(r.Shipments, func(sh *Shipment) master.Shipment {
		return master.Shipment{ID: sh.ID, Client: sh.Client, Destination: sh.Destination, Orders: sh.Orders,
			Containers: mapSlice(sh.Containers, func(k *string) event.Key { return event.Key(*k) }), Departed: sh.Departed}
	})
	s.Holds = mapSlice(r.Holds, func(h *Hold) master.Hold {
		return master.Hold{ID: h.ID, Client: h.Client, Scope: master.HoldScope(h.Scope), GTIN: h.GTIN, Lot: h.Lot,
			Reason: event.HoldReason(h.Reason), Note: h.Note, Active: h.Active, By: h.By, At: hlc.Timestamp(h.At)}
	})
	s.Units = mapSlice(r.Units, func(u *Unit) unit.State {
		return unit.State{Key: event.Key(u.Key), Client: u.Client, Lot: u.Lot, Expiry: u.Expiry, Status: unit.Status(u.Status),
			Holds: event.Holds(u.Holds), Location: u.Location, Parent: event.Key(u.Parent), ASN: u.ASN, Order: u.Order, Line: u.Line,
			Shipment: u.Shipment, Completeness: unit.Completeness(u.Completeness), Version: u.Version, LastEvent: u.LastEvent,
			LastDevice: u.LastDevice, Updated: hlc.Timestamp(u.Updated), Since: hlc.Timestamp(u.Since)}
	})
	s.Open = mapSlice(r.Exceptions, func(x *Exception) unit.Exception {
		return unit.Exception{ID: x.ID, Rule: unit.Rule(x.Rule), Severity: unit.Severity(x.Severity), Status: unit.ExceptionStatus(x.Status),
			Unit: event.Key(x.Unit), Client: x.Client, Site: x.Site, Detail: x.Detail,
			Events:  mapSlice(x.Events, func(id *[16]byte) event.ID { return *id }),
			Devices: x.Devices, Opened: hlc.Timestamp(x.Opened), Updated: hlc.Timestamp(x.Updated), By: x.By, Note: x.Note}
	})
	s.SerialModels = mapSlice(r.SerialModels, serialModelFromWire)
	var removed []protocol.Removal
	for i, x := range r.Removed {
		k := protocol.Kind(x.Kind)
		if !k.Valid() {
			return master.Snapshot{}, nil, fmt.Errorf("%w: removal %d of unknown kind %d", ErrMalformed, i, x.Kind)
		}
		removed = append(removed, protocol.Removal{Kind: k, ID: x.ID})
	}
	return s, removed, nil
}

func mapSlice[T, U any](in []T, f func(*T) U) []U {
	if len(in) == 0 {
		return nil
	}
	out := make([]U, len(in))
	for i := range in {
		out[i] = f(&in[i])
	}
	return out
}

func u32(v int) uint32 {
	switch {
	case v < 0:
		return 0
	case v > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(v)
}

// MergeASNs joins consecutive records of the same ASN (the pieces Split
// cut a large one into) into one, in place.
func MergeASNs(asns []master.ASN) []master.ASN {
	out := asns[:0]
	for _, a := range asns {
		if n := len(out); n > 0 && out[n-1].ID == a.ID {
			out[n-1].Items = append(out[n-1].Items, a.Items...)
			continue
		}
		out = append(out, a)
	}
	return out
}

// serialCounts lists a serial model's counts in their wire order.
func serialCounts(m *master.SerialModel) []*int64 {
	out := make([]*int64, 0, serialModelCounts)
	out = append(out, &m.N)
	for i := range m.Lengths {
		out = append(out, &m.Lengths[i])
	}
	for i := range m.Classes {
		for j := range m.Classes[i] {
			out = append(out, &m.Classes[i][j])
		}
	}
	for i := range m.Chars {
		out = append(out, &m.Chars[i])
	}
	for i := range m.Runs {
		out = append(out, &m.Runs[i])
	}
	return append(out, &m.Close)
}

func serialModelToWire(m *master.SerialModel) SerialModel {
	w := SerialModel{GTIN: m.GTIN, Client: m.Client, MinSupport: uint64(m.MinSupport), Threshold: math.Float64bits(m.Threshold)}
	for i, c := range serialCounts(m) {
		w.Counts[i] = uint64(*c)
	}
	return w
}

func serialModelFromWire(w *SerialModel) master.SerialModel {
	m := master.SerialModel{GTIN: w.GTIN, Client: w.Client, MinSupport: int64(w.MinSupport), Threshold: math.Float64frombits(w.Threshold)}
	for i, c := range serialCounts(&m) {
		*c = int64(w.Counts[i])
	}
	return m
}
