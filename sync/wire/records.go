package wire

import (
	"encoding/binary"

	"github.com/custodyhq/custody/shared/master"
)

// The down-feed's records, as the wire carries them. Each mirrors a type
// of shared/master or shared/unit field for field; convert.go maps them.

// Site mirrors master.Site.
type Site struct {
	ID, Name, GLN, SSCCPrefix string
	SSCCExtension             uint8
}

func appendSite(b []byte, s *Site) []byte {
	b = appendString(b, s.ID)
	b = appendString(b, s.Name)
	b = appendString(b, s.GLN)
	b = appendString(b, s.SSCCPrefix)
	return append(b, s.SSCCExtension)
}

func decodeSite(r *reader, s *Site) {
	s.ID, s.Name, s.GLN, s.SSCCPrefix = r.string(), r.string(), r.string(), r.string()
	s.SSCCExtension = r.byte()
}

// Client mirrors master.Client with its policy flattened.
type Client struct {
	ID, Name                  string
	RequireLot, RequireExpiry bool
	FEFO, Mixing              string
	MinShelfDays              uint32
}

func appendClient(b []byte, c *Client) []byte {
	b = appendString(b, c.ID)
	b = appendString(b, c.Name)
	b = appendBool(b, c.RequireLot)
	b = appendBool(b, c.RequireExpiry)
	b = appendString(b, c.FEFO)
	b = appendString(b, c.Mixing)
	return appendU64(b, uint64(c.MinShelfDays))
}

func decodeClient(r *reader, c *Client) {
	c.ID, c.Name = r.string(), r.string()
	c.RequireLot, c.RequireExpiry = r.bool(), r.bool()
	c.FEFO, c.Mixing = r.string(), r.string()
	c.MinShelfDays = r.u32()
}

// Product mirrors master.Product.
type Product struct {
	GTIN, Client, NDC, Name, Strength, Form  string
	PackSize, CompanyPrefixLen, UnitsPerCase uint32
	UnitGTIN                                 string
}

func appendProduct(b []byte, p *Product) []byte {
	for _, s := range [...]string{p.GTIN, p.Client, p.NDC, p.Name, p.Strength, p.Form} {
		b = appendString(b, s)
	}
	b = appendU64(b, uint64(p.PackSize))
	b = appendU64(b, uint64(p.CompanyPrefixLen))
	b = appendU64(b, uint64(p.UnitsPerCase))
	return appendString(b, p.UnitGTIN)
}

func decodeProduct(r *reader, p *Product) {
	for _, s := range [...]*string{&p.GTIN, &p.Client, &p.NDC, &p.Name, &p.Strength, &p.Form} {
		*s = r.string()
	}
	p.PackSize, p.CompanyPrefixLen, p.UnitsPerCase = r.u32(), r.u32(), r.u32()
	p.UnitGTIN = r.string()
}

// Location mirrors master.Location.
type Location struct {
	ID, Zone, Bin    string
	Quarantine, Dock bool
}

func appendLocation(b []byte, l *Location) []byte {
	b = appendString(b, l.ID)
	b = appendString(b, l.Zone)
	b = appendString(b, l.Bin)
	b = appendBool(b, l.Quarantine)
	return appendBool(b, l.Dock)
}

func decodeLocation(r *reader, l *Location) {
	l.ID, l.Zone, l.Bin = r.string(), r.string(), r.string()
	l.Quarantine, l.Dock = r.bool(), r.bool()
}

// Partner mirrors master.Partner.
type Partner struct {
	ID, Name, GLN string
}

func appendPartner(b []byte, p *Partner) []byte {
	b = appendString(b, p.ID)
	b = appendString(b, p.Name)
	return appendString(b, p.GLN)
}

func decodePartner(r *reader, p *Partner) { p.ID, p.Name, p.GLN = r.string(), r.string(), r.string() }

// PIN mirrors master.PINVerifier.
type PIN struct {
	Salt []byte
	Iter uint32
	Hash []byte
}

// User mirrors master.User.
type User struct {
	ID, Name, Role string
	Clients        []string
	PIN            *PIN
}

func appendUser(b []byte, u *User) []byte {
	b = appendString(b, u.ID)
	b = appendString(b, u.Name)
	b = appendString(b, u.Role)
	b = appendStrings(b, u.Clients)
	if u.PIN == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendBytes(b, u.PIN.Salt)
	b = appendU64(b, uint64(u.PIN.Iter))
	return appendBytes(b, u.PIN.Hash)
}

func decodeUser(r *reader, u *User) {
	u.ID, u.Name, u.Role = r.string(), r.string(), r.string()
	u.Clients = r.strings()
	if r.bool() {
		u.PIN = &PIN{Salt: clone(r.bytes()), Iter: r.u32(), Hash: clone(r.bytes())}
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// ASNItem mirrors master.ASNItem.
type ASNItem struct {
	Key, Parent, Lot, Expiry string
}

func appendASNItem(b []byte, it *ASNItem) []byte {
	b = appendString(b, it.Key)
	b = appendString(b, it.Parent)
	b = appendString(b, it.Lot)
	return appendString(b, it.Expiry)
}

func decodeASNItem(r *reader, it *ASNItem) {
	it.Key, it.Parent, it.Lot, it.Expiry = r.string(), r.string(), r.string(), r.string()
}

// ASN mirrors master.ASN.
type ASN struct {
	ID, Client, Supplier string
	Items                []ASNItem
	Closed               bool
}

func appendASN(b []byte, a *ASN) []byte {
	b = appendString(b, a.ID)
	b = appendString(b, a.Client)
	b = appendString(b, a.Supplier)
	b = appendList(b, a.Items, appendASNItem)
	return appendBool(b, a.Closed)
}

func decodeASN(r *reader, a *ASN) {
	a.ID, a.Client, a.Supplier = r.string(), r.string(), r.string()
	a.Items = readList(r, 4, decodeASNItem)
	a.Closed = r.bool()
}

// OrderLine mirrors master.OrderLine.
type OrderLine struct {
	ID, GTIN string
	Qty      uint32
	Lot      string
}

func appendOrderLine(b []byte, l *OrderLine) []byte {
	b = appendString(b, l.ID)
	b = appendString(b, l.GTIN)
	b = appendU64(b, uint64(l.Qty))
	return appendString(b, l.Lot)
}

func decodeOrderLine(r *reader, l *OrderLine) {
	l.ID, l.GTIN, l.Qty, l.Lot = r.string(), r.string(), r.u32(), r.string()
}

// Order mirrors master.Order.
type Order struct {
	ID, Client, Customer string
	Lines                []OrderLine
}

func appendOrder(b []byte, o *Order) []byte {
	b = appendString(b, o.ID)
	b = appendString(b, o.Client)
	b = appendString(b, o.Customer)
	return appendList(b, o.Lines, appendOrderLine)
}

func decodeOrder(r *reader, o *Order) {
	o.ID, o.Client, o.Customer = r.string(), r.string(), r.string()
	o.Lines = readList(r, 4, decodeOrderLine)
}

// Shipment mirrors master.Shipment.
type Shipment struct {
	ID, Client, Destination string
	Orders, Containers      []string
	Departed                bool
}

func appendShipment(b []byte, s *Shipment) []byte {
	b = appendString(b, s.ID)
	b = appendString(b, s.Client)
	b = appendString(b, s.Destination)
	b = appendStrings(b, s.Orders)
	b = appendStrings(b, s.Containers)
	return appendBool(b, s.Departed)
}

func decodeShipment(r *reader, s *Shipment) {
	s.ID, s.Client, s.Destination = r.string(), r.string(), r.string()
	s.Orders, s.Containers = r.strings(), r.strings()
	s.Departed = r.bool()
}

// Hold mirrors master.Hold.
type Hold struct {
	ID, Client, Scope, GTIN, Lot string
	Reason                       uint8
	Note                         string
	Active                       bool
	By                           string
	At                           uint64
}

func appendHold(b []byte, h *Hold) []byte {
	for _, s := range [...]string{h.ID, h.Client, h.Scope, h.GTIN, h.Lot} {
		b = appendString(b, s)
	}
	b = append(b, h.Reason)
	b = appendString(b, h.Note)
	b = appendBool(b, h.Active)
	b = appendString(b, h.By)
	return appendU64(b, h.At)
}

func decodeHold(r *reader, h *Hold) {
	for _, s := range [...]*string{&h.ID, &h.Client, &h.Scope, &h.GTIN, &h.Lot} {
		*s = r.string()
	}
	h.Reason = r.byte()
	h.Note = r.string()
	h.Active = r.bool()
	h.By = r.string()
	h.At = r.u64()
}

// Unit mirrors unit.State.
type Unit struct {
	Key, Client, Lot, Expiry string
	Status, Holds            uint8
	Location, Parent         string
	ASN, Order, Line         string
	Shipment                 string
	Completeness             uint8
	Version                  uint64
	LastEvent                [16]byte
	LastDevice               string
	Updated, Since           uint64
}

func appendUnit(b []byte, u *Unit) []byte {
	for _, s := range [...]string{u.Key, u.Client, u.Lot, u.Expiry} {
		b = appendString(b, s)
	}
	b = append(b, u.Status, u.Holds)
	for _, s := range [...]string{u.Location, u.Parent, u.ASN, u.Order, u.Line, u.Shipment} {
		b = appendString(b, s)
	}
	b = append(b, u.Completeness)
	b = appendU64(b, u.Version)
	b = append(b, u.LastEvent[:]...)
	b = appendString(b, u.LastDevice)
	b = binary.BigEndian.AppendUint64(b, u.Updated)
	return binary.BigEndian.AppendUint64(b, u.Since)
}

func decodeUnit(r *reader, u *Unit) {
	for _, s := range [...]*string{&u.Key, &u.Client, &u.Lot, &u.Expiry} {
		*s = r.string()
	}
	u.Status, u.Holds = r.byte(), r.byte()
	for _, s := range [...]*string{&u.Location, &u.Parent, &u.ASN, &u.Order, &u.Line, &u.Shipment} {
		*s = r.string()
	}
	u.Completeness = r.byte()
	u.Version = r.u64()
	r.fixed(u.LastEvent[:])
	u.LastDevice = r.string()
	u.Updated, u.Since = clock(r), clock(r)
}

// Exception mirrors unit.Exception.
type Exception struct {
	ID, Rule                   string
	Severity, Status           uint8
	Unit, Client, Site, Detail string
	Events                     [][16]byte
	Devices                    []string
	Opened, Updated            uint64
	By, Note                   string
}

func appendException(b []byte, x *Exception) []byte {
	b = appendString(b, x.ID)
	b = appendString(b, x.Rule)
	b = append(b, x.Severity, x.Status)
	for _, s := range [...]string{x.Unit, x.Client, x.Site, x.Detail} {
		b = appendString(b, s)
	}
	b = appendU64(b, uint64(len(x.Events)))
	for _, e := range x.Events {
		b = append(b, e[:]...)
	}
	b = appendStrings(b, x.Devices)
	b = binary.BigEndian.AppendUint64(b, x.Opened)
	b = binary.BigEndian.AppendUint64(b, x.Updated)
	b = appendString(b, x.By)
	return appendString(b, x.Note)
}

func decodeException(r *reader, x *Exception) {
	x.ID, x.Rule = r.string(), r.string()
	x.Severity, x.Status = r.byte(), r.byte()
	for _, s := range [...]*string{&x.Unit, &x.Client, &x.Site, &x.Detail} {
		*s = r.string()
	}
	if n := r.count(16); n > 0 {
		x.Events = make([][16]byte, n)
		for i := range x.Events {
			r.fixed(x.Events[i][:])
		}
	}
	x.Devices = r.strings()
	x.Opened, x.Updated = clock(r), clock(r)
	x.By, x.Note = r.string(), r.string()
}

// Removal names a record to drop.
type Removal struct {
	Kind uint8
	ID   string
}

func appendRemoval(b []byte, x *Removal) []byte {
	b = append(b, x.Kind)
	return appendString(b, x.ID)
}

func decodeRemoval(r *reader, x *Removal) {
	x.Kind = r.byte()
	x.ID = r.string()
}

// serialModelCounts is how many counts a serial model has: the serials
// learned, the lengths, the class at each position, the characters, the
// longest runs and the serials that followed the one before.
const serialModelCounts = 1 + (master.SerialModelLen + 1) + master.SerialModelLen*master.SerialModelClasses +
	master.SerialModelChars + (master.SerialModelLen + 1) + 1

// SerialModel mirrors master.SerialModel with its counts in one row, in
// the order the record names them, and its threshold as float64 bits.
type SerialModel struct {
	GTIN, Client string
	MinSupport   uint64
	Threshold    uint64
	Counts       [serialModelCounts]uint64
}

func appendSerialModel(b []byte, m *SerialModel) []byte {
	b = appendString(b, m.GTIN)
	b = appendString(b, m.Client)
	b = appendU64(b, m.MinSupport)
	b = appendU64(b, m.Threshold)
	for _, c := range m.Counts {
		b = appendU64(b, c)
	}
	return b
}

func decodeSerialModel(r *reader, m *SerialModel) {
	m.GTIN, m.Client = r.string(), r.string()
	m.MinSupport, m.Threshold = r.u64(), r.u64()
	for i := range m.Counts {
		m.Counts[i] = r.u64()
	}
}

// Records is a batch of down-feed records: a part of a snapshot or of a
// change set.
type Records struct {
	Site       *Site
	Clients    []Client
	Products   []Product
	Locations  []Location
	Partners   []Partner
	Users      []User
	ASNs       []ASN
	Orders     []Order
	Shipments  []Shipment
	Holds      []Hold
	Units      []Unit
	Exceptions []Exception
	Removed    []Removal
	// SerialModels come last: they were added after the others.
	SerialModels []SerialModel
}

// Len is the number of records in r.
func (r *Records) Len() int {
	n := len(r.Clients) + len(r.Products) + len(r.Locations) + len(r.Partners) + len(r.Users) + len(r.ASNs) +
		len(r.Orders) + len(r.Shipments) + len(r.Holds) + len(r.Units) + len(r.Exceptions) + len(r.Removed) +
		len(r.SerialModels)
	if r.Site != nil {
		n++
	}
	return n
}

func (r *Records) appendTo(b []byte) []byte {
	if r.Site == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendSite(b, r.Site)
	}
	b = appendList(b, r.Clients, appendClient)
	b = appendList(b, r.Products, appendProduct)
	b = appendList(b, r.Locations, appendLocation)
	b = appendList(b, r.Partners, appendPartner)
	b = appendList(b, r.Users, appendUser)
	b = appendList(b, r.ASNs, appendASN)
	b = appendList(b, r.Orders, appendOrder)
	b = appendList(b, r.Shipments, appendShipment)
	b = appendList(b, r.Holds, appendHold)
	b = appendList(b, r.Units, appendUnit)
	b = appendList(b, r.Exceptions, appendException)
	b = appendList(b, r.Removed, appendRemoval)
	return appendList(b, r.SerialModels, appendSerialModel)
}

func (r *Records) decode(d *reader) {
	if d.bool() {
		r.Site = &Site{}
		decodeSite(d, r.Site)
	}
	r.Clients = readList(d, 7, decodeClient)
	r.Products = readList(d, 10, decodeProduct)
	r.Locations = readList(d, 5, decodeLocation)
	r.Partners = readList(d, 3, decodePartner)
	r.Users = readList(d, 5, decodeUser)
	r.ASNs = readList(d, 5, decodeASN)
	r.Orders = readList(d, 4, decodeOrder)
	r.Shipments = readList(d, 6, decodeShipment)
	r.Holds = readList(d, 10, decodeHold)
	r.Units = readList(d, 46, decodeUnit)
	r.Exceptions = readList(d, 28, decodeException)
	r.Removed = readList(d, 2, decodeRemoval)
	r.SerialModels = readList(d, 4+serialModelCounts, decodeSerialModel)
}

// recordsOverhead bounds the bytes Records adds around its elements: a
// site flag and 13 list counts of at most 5 bytes each.
const recordsOverhead = 1 + 13*5

// Split cuts r into batches whose encodings each take at most budget
// bytes, keeping every list's order. It fails with ErrTooLarge when one
// record alone does not fit.
func (r *Records) Split(budget int) ([]Records, error) {
	s := splitter{budget: budget - recordsOverhead}
	if r.Site != nil {
		site := *r.Site
		if err := s.add(len(appendSite(nil, &site)), func(p *Records) { p.Site = &site }); err != nil {
			return nil, err
		}
	}
	var err error
	try := func(e error) {
		if err == nil {
			err = e
		}
	}
	try(splitList(&s, r.Clients, appendClient, func(p *Records, v Client) { p.Clients = append(p.Clients, v) }))
	try(splitList(&s, r.Products, appendProduct, func(p *Records, v Product) { p.Products = append(p.Products, v) }))
	try(splitList(&s, r.Locations, appendLocation, func(p *Records, v Location) { p.Locations = append(p.Locations, v) }))
	try(splitList(&s, r.Partners, appendPartner, func(p *Records, v Partner) { p.Partners = append(p.Partners, v) }))
	try(splitList(&s, r.Users, appendUser, func(p *Records, v User) { p.Users = append(p.Users, v) }))
	try(splitASNs(&s, r.ASNs))
	try(splitList(&s, r.Orders, appendOrder, func(p *Records, v Order) { p.Orders = append(p.Orders, v) }))
	try(splitList(&s, r.Shipments, appendShipment, func(p *Records, v Shipment) { p.Shipments = append(p.Shipments, v) }))
	try(splitList(&s, r.Holds, appendHold, func(p *Records, v Hold) { p.Holds = append(p.Holds, v) }))
	try(splitList(&s, r.Units, appendUnit, func(p *Records, v Unit) { p.Units = append(p.Units, v) }))
	try(splitList(&s, r.Exceptions, appendException, func(p *Records, v Exception) { p.Exceptions = append(p.Exceptions, v) }))
	try(splitList(&s, r.Removed, appendRemoval, func(p *Records, v Removal) { p.Removed = append(p.Removed, v) }))
	try(splitList(&s, r.SerialModels, appendSerialModel, func(p *Records, v SerialModel) { p.SerialModels = append(p.SerialModels, v) }))
	if err != nil {
		return nil, err
	}
	if s.size > 0 || len(s.parts) == 0 {
		s.parts = append(s.parts, s.cur)
	}
	return s.parts, nil
}

// splitASNs adds the ASNs like splitList, but cuts one whose record
// would not fit a part into pieces that do: the same header, each with
// the next run of items, one after another. Parts keep the order, so the
// pieces of an ASN arrive consecutively in one change set, and MergeASNs
// joins them. (A large inbound shipment announces tens of thousands of
// items, megabytes as one record.)
func splitASNs(s *splitter, asns []ASN) error {
	put := func(v ASN) func(*Records) { return func(p *Records) { p.ASNs = append(p.ASNs, v) } }
	for i := range asns {
		a := asns[i]
		s.buf = appendASN(s.buf[:0], &a)
		if len(s.buf) <= s.budget {
			if err := s.add(len(s.buf), put(a)); err != nil {
				return err
			}
			continue
		}
		head := a
		head.Items = nil
		headSize := len(appendASN(s.buf[:0], &head)) + binary.MaxVarintLen64
		piece, size := head, headSize
		for j := range a.Items {
			n := len(appendASNItem(s.buf[:0], &a.Items[j]))
			if size+n > s.budget && len(piece.Items) > 0 {
				if err := s.add(size, put(piece)); err != nil {
					return err
				}
				piece, size = head, headSize
			}
			piece.Items = append(piece.Items, a.Items[j])
			size += n
		}
		if err := s.add(size, put(piece)); err != nil {
			return err
		}
	}
	return nil
}

type splitter struct {
	budget int
	parts  []Records
	cur    Records
	size   int
	buf    []byte
}

func (s *splitter) add(n int, put func(*Records)) error {
	if n > s.budget {
		return ErrTooLarge
	}
	if s.size+n > s.budget {
		s.parts = append(s.parts, s.cur)
		s.cur, s.size = Records{}, 0
	}
	put(&s.cur)
	s.size += n
	return nil
}

func splitList[T any](s *splitter, items []T, enc func([]byte, *T) []byte, put func(*Records, T)) error {
	for i := range items {
		s.buf = enc(s.buf[:0], &items[i])
		v := items[i]
		if err := s.add(len(s.buf), func(p *Records) { put(p, v) }); err != nil {
			return err
		}
	}
	return nil
}
