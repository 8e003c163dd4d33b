// Package master is the site's master data and plans, as the site keeps
// them and as it sends them down to handhelds: clients and their
// policies, products, locations, partners, users, inbound ASNs, outbound
// orders and shipments, and holds on lots and products. Plain data with
// validation; no I/O.
package master

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Errors returned by this package.
var (
	// ErrInvalid reports a record that breaks a rule of its type.
	ErrInvalid = errors.New("master: invalid")
	// ErrPIN reports a PIN that does not match the user's verifier.
	ErrPIN = errors.New("master: wrong PIN")
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Site is the warehouse a cluster serves.
type Site struct {
	ID   string `json:"id"`   // usually the site GLN
	Name string `json:"name"` // for people
	GLN  string `json:"gln"`
	// GS1 company prefix and extension digit used to number the SSCCs
	// the site creates when it packs.
	SSCCPrefix    string `json:"ssccPrefix"`
	SSCCExtension byte   `json:"ssccExtension"`
}

// FEFO is how strictly first-expiry-first-out is enforced at the pick.
type FEFO string

// FEFO modes.
const (
	FEFOOff   FEFO = "off"
	FEFOWarn  FEFO = "warn"
	FEFOBlock FEFO = "block"
)

// Mixing is what may share one outbound container.
type Mixing string

// Mixing policies.
const (
	MixSameLot     Mixing = "same_lot"     // one product, one lot
	MixSameProduct Mixing = "same_product" // one product, lots mixed
	MixAny         Mixing = "mixed"        // anything of the client's
)

// Policy is a client's rules for its stock.
type Policy struct {
	RequireLot    bool   `json:"requireLot"`
	RequireExpiry bool   `json:"requireExpiry"`
	FEFO          FEFO   `json:"fefo"`
	Mixing        Mixing `json:"mixing"`
	// MinShelfDays refuses picks of units expiring sooner (0: no rule).
	MinShelfDays int `json:"minShelfDays,omitempty"`
}

// Client is a pharma company whose stock the site holds.
type Client struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Policy Policy `json:"policy"`
	// The client's identifiers in its trading partners' documents: its
	// party GLN and GS1 company prefix. With SendsTI the site sends the
	// DSCSA transaction information and statement on the client's behalf
	// in each shipment's outbound document (the client, owner of the
	// stock, is the seller).
	GLN           string `json:"gln,omitempty"`
	CompanyPrefix string `json:"companyPrefix,omitempty"`
	SendsTI       bool   `json:"sendsTransactionInfo,omitempty"`
}

// checkIDs checks the ids and names a record carries with
// event.CheckText: present where required, at most event.MaxField
// bytes, no control characters.
func checkIDs(what string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if err := event.CheckText(fields[i+1]); err != nil {
			return invalid("%s %s: %v", what, fields[i], err)
		}
	}
	return nil
}

// Validate checks the site record: an id, and a GLN with its check
// digit when one is given.
func (s *Site) Validate() error {
	if s.ID == "" {
		return invalid("site without id")
	}
	if err := checkIDs("site", "id", s.ID, "name", s.Name); err != nil {
		return err
	}
	if s.GLN != "" && (len(s.GLN) != 13 || event.CheckDigits(s.GLN) != nil) {
		return invalid("site gln %q is not a GLN with its check digit", s.GLN)
	}
	if s.SSCCPrefix != "" && (len(s.SSCCPrefix) < 6 || len(s.SSCCPrefix) > 12 || !digits(s.SSCCPrefix)) {
		return invalid("site ssccPrefix %q is not a GS1 company prefix of 6 to 12 digits", s.SSCCPrefix)
	}
	return nil
}

// Validate checks the record.
func (c *Client) Validate() error {
	if err := checkIDs("client", "id", c.ID, "name", c.Name); err != nil {
		return err
	}
	switch {
	case c.ID == "":
		return invalid("client without id")
	case c.Policy.FEFO != "" && c.Policy.FEFO != FEFOOff && c.Policy.FEFO != FEFOWarn && c.Policy.FEFO != FEFOBlock:
		return invalid("client %s: fefo %q (want off, warn or block)", c.ID, c.Policy.FEFO)
	case c.Policy.Mixing != "" && c.Policy.Mixing != MixSameLot && c.Policy.Mixing != MixSameProduct && c.Policy.Mixing != MixAny:
		return invalid("client %s: mixing %q", c.ID, c.Policy.Mixing)
	case c.GLN != "" && (len(c.GLN) != 13 || event.CheckDigits(c.GLN) != nil):
		return invalid("client %s: gln %q is not a GLN with its check digit", c.ID, c.GLN)
	case c.CompanyPrefix != "" && (len(c.CompanyPrefix) < 6 || len(c.CompanyPrefix) > 12 || !digits(c.CompanyPrefix)):
		return invalid("client %s: companyPrefix %q is not a GS1 company prefix of 6 to 12 digits", c.ID, c.CompanyPrefix)
	case c.SendsTI && c.GLN == "":
		return invalid("client %s: sending transaction information on its behalf needs its gln", c.ID)
	}
	return nil
}

// Product is one trade item (a GTIN) of one client.
type Product struct {
	GTIN             string `json:"gtin"`
	Client           string `json:"client"`
	NDC              string `json:"ndc,omitempty"`
	Name             string `json:"name"`
	Strength         string `json:"strength,omitempty"`
	Form             string `json:"form,omitempty"`
	PackSize         int    `json:"packSize,omitempty"` // units of use in one pack
	CompanyPrefixLen int    `json:"companyPrefixLen"`   // 6–12, for EPC URIs
	// UnitsPerCase is set on case-level GTINs: how many unit packs a full
	// case holds, and of which unit GTIN.
	UnitsPerCase int    `json:"unitsPerCase,omitempty"`
	UnitGTIN     string `json:"unitGtin,omitempty"`
}

// Validate checks the record's shape and its GTINs as a scan would
// (check digit). Whether the client exists is for the site to say.
func (p *Product) Validate() error {
	if err := event.CheckGTIN(p.GTIN); err != nil {
		return invalid("product gtin: %v", err)
	}
	if err := checkIDs("product "+p.GTIN, "client", p.Client, "ndc", p.NDC, "name", p.Name, "strength", p.Strength, "form", p.Form); err != nil {
		return err
	}
	if p.UnitGTIN != "" {
		if err := event.CheckGTIN(p.UnitGTIN); err != nil {
			return invalid("product %s unitGtin: %v", p.GTIN, err)
		}
	}
	switch {
	case p.Client == "":
		return invalid("product %s has no client", p.GTIN)
	case p.CompanyPrefixLen != 0 && (p.CompanyPrefixLen < 6 || p.CompanyPrefixLen > 12):
		return invalid("product %s: company prefix length %d (want 6–12)", p.GTIN, p.CompanyPrefixLen)
	}
	return nil
}

// Location is a place in the site: zone and bin.
type Location struct {
	ID         string `json:"id"` // e.g. "A-01-03"
	Zone       string `json:"zone"`
	Bin        string `json:"bin,omitempty"`
	Quarantine bool   `json:"quarantine,omitempty"`
	Dock       bool   `json:"dock,omitempty"`
}

// Validate checks the location: an id, text fields within bounds.
func (l *Location) Validate() error {
	if l.ID == "" {
		return invalid("location without id")
	}
	return checkIDs("location", "id", l.ID, "zone", l.Zone, "bin", l.Bin)
}

// Partner is a supplier or customer. Its id is what a shipment's
// destination names (event.CheckDestination).
type Partner struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	GLN  string `json:"gln,omitempty"`
}

// Validate checks the partner: an id a destination can name, and a GLN
// with its check digit when one is given.
func (p *Partner) Validate() error {
	if err := event.CheckID(p.ID); err != nil {
		return invalid("partner id: %v", err)
	}
	if err := checkIDs("partner "+p.ID, "name", p.Name); err != nil {
		return err
	}
	if p.GLN != "" && (len(p.GLN) != 13 || event.CheckDigits(p.GLN) != nil) {
		return invalid("partner %s: gln %q is not a GLN with its check digit", p.ID, p.GLN)
	}
	return nil
}

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleOperator Role = "operator" // receive, pick, pack, ship, hold
	RoleLead     Role = "lead"     // also release, revert, resolve exceptions
	RoleAdmin    Role = "admin"    // also users, devices, master data
)

// CanRelease reports whether the role may release holds and make
// authorized corrections.
func (r Role) CanRelease() bool { return r == RoleLead || r == RoleAdmin }

// User is a person who works at the site.
type User struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Role    Role     `json:"role"`
	Clients []string `json:"clients"` // the clients whose data the user sees; "*" for all
	// PIN is an offline verifier: handhelds check it with no network.
	PIN *PINVerifier `json:"pin,omitempty"`
}

// Sees reports whether the user is granted client c.
func (u *User) Sees(c string) bool {
	for _, g := range u.Clients {
		if g == c || g == "*" {
			return true
		}
	}
	return false
}

// PINVerifier is a salted PBKDF2-SHA256 hash of a user's PIN.
type PINVerifier struct {
	Salt []byte `json:"salt"`
	Iter int    `json:"iter"`
	Hash []byte `json:"hash"`
}

// PINIterations is the PBKDF2 work factor: a few milliseconds on a
// handheld, so a stolen device's verifiers are slow to brute force.
const PINIterations = 20000

// NewPINVerifier derives a verifier; salt must be at least 16 random bytes.
func NewPINVerifier(pin string, salt []byte) (*PINVerifier, error) {
	if len(pin) < 4 {
		return nil, invalid("a PIN has at least 4 digits")
	}
	if len(salt) < 16 {
		return nil, invalid("PIN salt shorter than 16 bytes")
	}
	h, err := pbkdf2.Key(sha256.New, pin, salt, PINIterations, 32)
	if err != nil {
		return nil, fmt.Errorf("pin verifier: %w", err)
	}
	return &PINVerifier{Salt: append([]byte(nil), salt...), Iter: PINIterations, Hash: h}, nil
}

// Check compares pin with the verifier in constant time.
func (v *PINVerifier) Check(pin string) error {
	// Bounds on stored parameters: a corrupted or forged verifier must not
	// make a check free or take minutes.
	if v == nil || v.Iter < 1000 || v.Iter > 10*PINIterations || len(v.Hash) < 16 || len(v.Salt) < 16 {
		return ErrPIN
	}
	h, err := pbkdf2.Key(sha256.New, pin, v.Salt, v.Iter, len(v.Hash))
	if err != nil || !hmac.Equal(h, v.Hash) {
		return ErrPIN
	}
	return nil
}

// ASNItem is one thing an inbound shipment announces.
type ASNItem struct {
	Key    event.Key `json:"key"`
	Parent event.Key `json:"parent,omitempty"`
	Lot    string    `json:"lot,omitempty"`
	Expiry string    `json:"expiry,omitempty"` // YYMMDD
}

// Validate checks an item as a scan of it would be checked: the key and
// its parent with their check digits, the lot, the expiry.
func (it *ASNItem) Validate() error {
	if err := it.Key.Check(); err != nil {
		return err
	}
	if it.Parent != "" {
		if err := it.Parent.Check(); err != nil {
			return fmt.Errorf("parent: %w", err)
		}
	}
	if err := event.CheckLot(it.Lot); err != nil {
		return err
	}
	return event.CheckExpiry(it.Expiry)
}

// ASN is an advance ship notice: what a supplier says it sent.
type ASN struct {
	ID       string    `json:"id"`
	Client   string    `json:"client"`
	Supplier string    `json:"supplier"`
	Items    []ASNItem `json:"items"` // containers before their contents
	Closed   bool      `json:"closed,omitempty"`
}

// Validate checks that every item is well formed and that parents come
// before their children.
func (a *ASN) Validate() error {
	if a.ID == "" || a.Client == "" {
		return invalid("ASN without id or client")
	}
	if err := checkIDs("ASN", "id", a.ID, "client", a.Client, "supplier", a.Supplier); err != nil {
		return err
	}
	seen := make(map[event.Key]bool, len(a.Items))
	for i := range a.Items {
		it := &a.Items[i]
		if err := it.Validate(); err != nil {
			return invalid("ASN %s item %d: %v", a.ID, i, err)
		}
		if seen[it.Key] {
			return invalid("ASN %s lists %s twice", a.ID, it.Key)
		}
		if it.Parent != "" && !seen[it.Parent] {
			return invalid("ASN %s: %s is inside %s, which is not listed before it", a.ID, it.Key, it.Parent)
		}
		seen[it.Key] = true
	}
	return nil
}

// OrderLine asks for a quantity of one product, optionally of one lot.
type OrderLine struct {
	ID   string `json:"id"`
	GTIN string `json:"gtin"`
	Qty  int    `json:"qty"`
	Lot  string `json:"lot,omitempty"`
}

// Order is an outbound order of one client.
type Order struct {
	ID       string      `json:"id"`
	Client   string      `json:"client"`
	Customer string      `json:"customer"`
	Lines    []OrderLine `json:"lines"`
}

// Validate checks the order.
func (o *Order) Validate() error {
	if o.ID == "" || o.Client == "" || len(o.Lines) == 0 {
		return invalid("order needs an id, a client and at least one line")
	}
	if err := checkIDs("order", "id", o.ID, "client", o.Client, "customer", o.Customer); err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, l := range o.Lines {
		if l.ID == "" || ids[l.ID] || len(l.GTIN) != 14 || !digits(l.GTIN) || l.Qty <= 0 {
			return invalid("order %s: line %q needs a unique id, a GTIN-14 and a positive quantity", o.ID, l.ID)
		}
		if err := event.CheckGTIN(l.GTIN); err != nil {
			return invalid("order %s line %s: %v", o.ID, l.ID, err)
		}
		if err := event.CheckLot(l.Lot); err != nil {
			return invalid("order %s line %s: %v", o.ID, l.ID, err)
		}
		if err := event.CheckText(l.ID); err != nil {
			return invalid("order %s line id: %v", o.ID, err)
		}
		ids[l.ID] = true
	}
	return nil
}

// Shipment is outbound containers going to one destination.
type Shipment struct {
	ID          string      `json:"id"`
	Client      string      `json:"client"`
	Destination string      `json:"destination"`
	Orders      []string    `json:"orders,omitempty"`
	Containers  []event.Key `json:"containers,omitempty"`
	Departed    bool        `json:"departed,omitempty"`
}

// Validate checks the shipment on its own: an id and a client, a
// destination that is a GLN or a partner id (event.CheckDestination),
// containers with their check digits. Whether the partner, the orders
// and the containers exist is for the site to say (CheckDestination
// with its partners).
func (s *Shipment) Validate() error {
	if s.ID == "" || s.Client == "" {
		return invalid("shipment needs an id and a client")
	}
	if err := checkIDs("shipment", "id", s.ID, "client", s.Client); err != nil {
		return err
	}
	if s.Destination != "" {
		if err := event.CheckDestination(s.Destination); err != nil {
			return invalid("shipment %s: %v", s.ID, err)
		}
	}
	for _, o := range s.Orders {
		if err := event.CheckText(o); err != nil || o == "" {
			return invalid("shipment %s: order id %q", s.ID, o)
		}
	}
	for _, k := range s.Containers {
		if err := k.Check(); err != nil {
			return invalid("shipment %s: container: %v", s.ID, err)
		}
	}
	return nil
}

// CheckDestination decides whether a shipment's destination names a
// party: a GLN with its check digit, or the id of a partner the site
// knows (partner reports whether one exists). "" is not decided yet.
func (s *Shipment) CheckDestination(partner func(id string) bool) error {
	d := s.Destination
	if d == "" {
		return nil
	}
	if err := event.CheckDestination(d); err != nil {
		return invalid("shipment %s: %v", s.ID, err)
	}
	if len(d) == 13 && digits(d) {
		return nil
	}
	if !partner(d) {
		return invalid("shipment %s: destination %q is neither a GLN nor a known partner", s.ID, d)
	}
	return nil
}

// HoldScope is what a hold record covers.
type HoldScope string

// Hold scopes.
const (
	ScopeLot     HoldScope = "lot"     // every unit of GTIN + lot
	ScopeProduct HoldScope = "product" // every unit of the GTIN
)

// Hold is a hold on a lot or a product, such as a recall. Holds on single
// units and containers are events on those units.
type Hold struct {
	ID     string           `json:"id"`
	Client string           `json:"client"`
	Scope  HoldScope        `json:"scope"`
	GTIN   string           `json:"gtin"`
	Lot    string           `json:"lot,omitempty"`
	Reason event.HoldReason `json:"reason"`
	Note   string           `json:"note,omitempty"`
	Active bool             `json:"active"`
	By     string           `json:"by"`
	At     hlc.Timestamp    `json:"at"`
}

// Validate checks the hold.
func (h *Hold) Validate() error {
	switch {
	case h.ID == "" || h.Client == "":
		return invalid("hold without id or client")
	case len(h.GTIN) != 14 || !digits(h.GTIN):
		return invalid("hold %s: gtin %q is not 14 digits", h.ID, h.GTIN)
	case event.CheckGTIN(h.GTIN) != nil:
		return invalid("hold %s: %v", h.ID, event.CheckGTIN(h.GTIN))
	case event.CheckLot(h.Lot) != nil:
		return invalid("hold %s: %v", h.ID, event.CheckLot(h.Lot))
	case checkIDs("hold", "id", h.ID, "client", h.Client, "note", h.Note, "by", h.By) != nil:
		return checkIDs("hold", "id", h.ID, "client", h.Client, "note", h.Note, "by", h.By)
	case h.Scope == ScopeLot && h.Lot == "":
		return invalid("hold %s on a lot names no lot", h.ID)
	case h.Scope != ScopeLot && h.Scope != ScopeProduct:
		return invalid("hold %s: scope %q (want lot or product)", h.ID, h.Scope)
	case h.Reason == 0 || h.Reason&(h.Reason-1) != 0 || event.Holds(0).With(h.Reason).String() != h.Reason.String():
		return invalid("hold %s needs one known reason", h.ID)
	}
	return nil
}

// Covers reports whether the hold reaches a unit of gtin and lot.
func (h *Hold) Covers(gtin, lot string) bool {
	return h.Active && h.GTIN == gtin && (h.Scope == ScopeProduct || h.Lot == lot)
}

// Snapshot is everything a handheld's replica holds, as the site sends
// it at a (re)sync or as a file for offline use.
type Snapshot struct {
	Cursor    string           `json:"cursor,omitempty"` // opaque: where the down-feed resumes
	Site      Site             `json:"site"`
	Clients   []Client         `json:"clients"`
	Products  []Product        `json:"products"`
	Locations []Location       `json:"locations"`
	Partners  []Partner        `json:"partners,omitempty"`
	Users     []User           `json:"users"`
	ASNs      []ASN            `json:"asns,omitempty"`
	Orders    []Order          `json:"orders,omitempty"`
	Shipments []Shipment       `json:"shipments,omitempty"`
	Holds     []Hold           `json:"holds,omitempty"`
	Units     []unit.State     `json:"units,omitempty"`
	Open      []unit.Exception `json:"exceptions,omitempty"`
	// SerialModels are the site's serial models of the products the
	// device sees, to flag a suspicious serial at the scan, offline.
	SerialModels []SerialModel `json:"serial_models,omitempty"`
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
