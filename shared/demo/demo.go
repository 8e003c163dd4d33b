// Package demo builds a deterministic site of demo data: master data,
// users with PINs, inbound ASNs of pallets, cases and units, stock,
// orders, shipments and a recall, as a master.Snapshot. The same seed and
// parameters always give the same data, so tests, the site's demo mode
// and a fleet simulator can share it, and benchmarks can stream a million
// expected units without holding them in memory.
//
// The PIN verifiers' salts are derived from the seed so that snapshots
// are reproducible. That is fine for demo data only: real verifiers need
// random salts.
package demo

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// ErrParams reports parameters that cannot build a site.
var ErrParams = errors.New("demo: invalid parameters")

// Params size the demo site.
type Params struct {
	Seed uint64
	// Today anchors every expiry date; the zero value means 2026-11-01.
	Today time.Time
	// The inbound ASN "ASN-1" of client acme: pallets of cases of units.
	Pallets        int
	CasesPerPallet int
	UnitsPerCase   int
	// StockPerLot is how many units of each product's three stock lots
	// are already in stock.
	StockPerLot int
}

// DefaultParams is a small site: one pallet of 4 cases of 50 units.
func DefaultParams() Params {
	return Params{Seed: 1, Pallets: 1, CasesPerPallet: 4, UnitsPerCase: 50, StockPerLot: 4}
}

func (p *Params) check() error {
	if p.Pallets < 0 || p.CasesPerPallet < 1 || p.UnitsPerCase < 1 || p.StockPerLot < 0 {
		return fmt.Errorf("%w: %+v", ErrParams, *p)
	}
	if p.Pallets*p.CasesPerPallet > 9_999_999 || p.Pallets*p.CasesPerPallet*p.UnitsPerCase > 99_999_999 {
		return fmt.Errorf("%w: too many units", ErrParams)
	}
	return nil
}

func (p *Params) today() time.Time {
	if p.Today.IsZero() {
		return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	y, m, d := p.Today.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Identifiers of the demo site.
const (
	SiteID        = "SITE-1"
	ClientUS      = "acme"     // US client: lot and expiry required, FEFO blocks, one lot per container
	ClientEU      = "eurofarm" // EU client: FEFO warns, containers may mix products
	SSCCPrefix    = "0614141"
	SSCCExtension = 3
	ASNUS         = "ASN-1"
	ASNEU         = "ASN-2"
	OrderUS       = "ORD-1"
	OrderEU       = "ORD-2"
	ShipmentUS    = "SHP-1"
	ShipmentEU    = "SHP-2"
	Dock          = "DOCK-1"
	Quarantine    = "QUAR-1"
	RecallHold    = "HOLD-RECALL-1"
)

// Fixture is a built demo site.
type Fixture struct {
	Params   Params
	Snapshot master.Snapshot
	pins     map[string]string
}

// PIN is the demo PIN of a user ("" for an unknown user).
func (f *Fixture) PIN(user string) string { return f.pins[user] }

// StockLot is one lot of a product in stock.
type StockLot struct {
	GTIN, Lot, Expiry string
	Units             []event.Key
}

// product templates: name, NDC or EU item, client.
type tmpl struct {
	client, name, strength, form, ndc, eu string
	pack                                  int
}

func templates() []tmpl {
	return []tmpl{
		{ClientUS, "Amoxicillin", "500 mg", "capsule", "5012345678", "", 30},
		{ClientUS, "Metformin", "850 mg", "tablet", "5012345679", "", 60},
		{ClientUS, "Lisinopril", "10 mg", "tablet", "5012345680", "", 90},
		{ClientEU, "Paracetamol", "500 mg", "tablet", "", "4012345000", 20},
		{ClientEU, "Ibuprofen", "400 mg", "tablet", "", "4012345001", 24},
	}
}

// Build builds the site.
func Build(p Params) (*Fixture, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	f := &Fixture{Params: p, pins: map[string]string{}}
	s := &f.Snapshot
	today := p.today()
	rng := rand.New(rand.NewPCG(p.Seed, 0x637573746f6479))

	gln, err := withCheck("061414100000")
	if err != nil {
		return nil, err
	}
	s.Site = master.Site{ID: SiteID, Name: "Demo DC", GLN: gln, SSCCPrefix: SSCCPrefix, SSCCExtension: SSCCExtension}
	s.Cursor = "demo/" + strconv.FormatUint(p.Seed, 10)
	s.Clients = []master.Client{
		{ID: ClientUS, Name: "Acme Pharma Inc.", Policy: master.Policy{RequireLot: true, RequireExpiry: true, FEFO: master.FEFOBlock, Mixing: master.MixSameLot}},
		{ID: ClientEU, Name: "Eurofarm GmbH", Policy: master.Policy{RequireLot: true, RequireExpiry: true, FEFO: master.FEFOWarn, Mixing: master.MixAny, MinShelfDays: 30}},
	}
	for _, t := range templates() {
		g, err := productGTIN(t)
		if err != nil {
			return nil, err
		}
		cg, err := CaseGTIN(g, '5')
		if err != nil {
			return nil, err
		}
		s.Products = append(s.Products,
			master.Product{GTIN: g, Client: t.client, NDC: t.ndc, Name: t.name, Strength: t.strength, Form: t.form, PackSize: t.pack, CompanyPrefixLen: 7},
			master.Product{GTIN: cg, Client: t.client, Name: t.name + " case", CompanyPrefixLen: 7, UnitsPerCase: p.UnitsPerCase, UnitGTIN: g})
	}
	s.Locations = []master.Location{
		{ID: Dock, Zone: "DOCK", Dock: true},
		{ID: "SHIP-1", Zone: "DOCK", Bin: "OUT", Dock: true},
		{ID: Quarantine, Zone: "QUAR", Quarantine: true},
		{ID: "A-01-01", Zone: "A", Bin: "01-01"},
		{ID: "A-01-02", Zone: "A", Bin: "01-02"},
		{ID: "A-02-01", Zone: "A", Bin: "02-01"},
		{ID: "COLD-01", Zone: "COLD", Bin: "01"},
	}
	custGLN, _ := withCheck("061414199999")
	s.Partners = []master.Partner{
		{ID: "SUP-1", Name: "Acme Manufacturing", GLN: gln},
		{ID: "SUP-2", Name: "Eurofarm Werk Berlin"},
		{ID: "CUST-1", Name: "Main Street Pharmacy", GLN: custGLN},
		{ID: "CUST-2", Name: "Apotheke am Markt"},
	}
	for _, u := range []struct {
		id, name string
		role     master.Role
		clients  []string
		pin      string
	}{
		{"op1", "Olivia Operator", master.RoleOperator, []string{ClientUS}, "1111"},
		{"op2", "Oscar Operator", master.RoleOperator, []string{"*"}, "2222"},
		{"lead1", "Lena Lead", master.RoleLead, []string{"*"}, "9999"},
		{"admin", "Ada Admin", master.RoleAdmin, []string{"*"}, "0000"},
	} {
		salt := sha256.Sum256([]byte(fmt.Sprintf("custody-demo-salt/%d/%s", p.Seed, u.id)))
		v, err := master.NewPINVerifier(u.pin, salt[:16])
		if err != nil {
			return nil, err
		}
		s.Users = append(s.Users, master.User{ID: u.id, Name: u.name, Role: u.role, Clients: u.clients, PIN: v})
		f.pins[u.id] = u.pin
	}

	// Inbound ASNs.
	a1 := master.ASN{ID: ASNUS, Client: ClientUS, Supplier: "SUP-1"}
	if err := EachExpected(p, func(_ *master.ASN, it master.ASNItem) error {
		a1.Items = append(a1.Items, it)
		return nil
	}); err != nil {
		return nil, err
	}
	a2 := master.ASN{ID: ASNEU, Client: ClientEU, Supplier: "SUP-2"}
	if err := euASN(&a2, today, rng); err != nil {
		return nil, err
	}
	s.ASNs = []master.ASN{a1, a2}

	// Stock: three lots per unit product, earliest first, in bins.
	bins := []string{"A-01-01", "A-01-02", "A-02-01"}
	serial := 0
	for pi, t := range templates() {
		g := s.Products[2*pi].GTIN
		for li, months := range []int{4, 10, 18} {
			lot := fmt.Sprintf("%s%02d%c", lotPrefix(t.client), pi+1, 'A'+li)
			exp := today.AddDate(0, months, 0).Format("060102")
			for range p.StockPerLot {
				serial++
				k := event.SGTIN(g, fmt.Sprintf("K%s%06d", randLetters(rng, 2), serial))
				s.Units = append(s.Units, unit.State{Key: k, Client: t.client, Lot: lot, Expiry: exp, Status: unit.StatusInStock,
					Location: bins[li], Version: 2})
			}
		}
	}
	// A recall of the first US product's middle lot.
	s.Holds = []master.Hold{{ID: RecallHold, Client: ClientUS, Scope: master.ScopeLot, GTIN: s.Products[0].GTIN,
		Lot: lotPrefix(ClientUS) + "01B", Reason: event.HoldRecall, Note: "manufacturer recall", Active: true, By: "lead1"}}

	s.Orders = []master.Order{
		{ID: OrderUS, Client: ClientUS, Customer: "CUST-1", Lines: []master.OrderLine{
			{ID: "1", GTIN: s.Products[0].GTIN, Qty: 3},
			{ID: "2", GTIN: s.Products[4].GTIN, Qty: 2},
		}},
		{ID: OrderEU, Client: ClientEU, Customer: "CUST-2", Lines: []master.OrderLine{
			{ID: "1", GTIN: s.Products[6].GTIN, Qty: 2},
			{ID: "2", GTIN: s.Products[8].GTIN, Qty: 2},
		}},
	}
	s.Shipments = []master.Shipment{
		{ID: ShipmentUS, Client: ClientUS, Destination: "CUST-1", Orders: []string{OrderUS}},
		{ID: ShipmentEU, Client: ClientEU, Destination: "CUST-2", Orders: []string{OrderEU}},
	}
	return f, nil
}

func lotPrefix(client string) string {
	if client == ClientUS {
		return "US"
	}
	return "EU"
}

func productGTIN(t tmpl) (string, error) {
	if t.ndc != "" {
		return GTINFromNDC(t.ndc)
	}
	return GTINFromEU(t.eu)
}

// euASN is the fixed EU inbound: one pallet of two cases of ten units.
func euASN(a *master.ASN, today time.Time, rng *rand.Rand) error {
	pal, err := SSCC(SSCCExtension, "4012345", 900001)
	if err != nil {
		return err
	}
	a.Items = append(a.Items, master.ASNItem{Key: event.SSCC(pal)})
	g1, err := GTINFromEU("4012345000")
	if err != nil {
		return err
	}
	g2, err := GTINFromEU("4012345001")
	if err != nil {
		return err
	}
	for c, g := range []string{g1, g2} {
		cs, err := SSCC(SSCCExtension, "4012345", uint64(900010+c))
		if err != nil {
			return err
		}
		ck := event.SSCC(cs)
		a.Items = append(a.Items, master.ASNItem{Key: ck, Parent: event.SSCC(pal)})
		lot := fmt.Sprintf("EUIN%d", c+1)
		exp := today.AddDate(2, 0, 0).Format("060102")
		for u := range 10 {
			a.Items = append(a.Items, master.ASNItem{Key: event.SGTIN(g, fmt.Sprintf("E%s%05d", randLetters(rng, 2), c*10+u)), Parent: ck, Lot: lot, Expiry: exp})
		}
	}
	return nil
}

// EachExpected streams the items of the US inbound ASN ("ASN-1") in
// order, containers before their contents, without building the ASN:
// pallets (SSCC) → cases (even cases SSCC, odd cases a case GTIN with a
// serial) → units, one lot and expiry per case, the products taking
// turns by pallet. It is what benchmarks use to load a million expected
// units.
func EachExpected(p Params, fn func(a *master.ASN, it master.ASNItem) error) error {
	if err := p.check(); err != nil {
		return err
	}
	today := p.today()
	hdr := &master.ASN{ID: ASNUS, Client: ClientUS, Supplier: "SUP-1"}
	rng := rand.New(rand.NewPCG(p.Seed, 0x61736e31))
	var us []string
	for _, t := range templates() {
		if t.client == ClientUS {
			g, err := GTINFromNDC(t.ndc)
			if err != nil {
				return err
			}
			us = append(us, g)
		}
	}
	n := 0
	for pi := range p.Pallets {
		pal, err := SSCC(SSCCExtension, SSCCPrefix, uint64(500_000_000+pi))
		if err != nil {
			return err
		}
		pk := event.SSCC(pal)
		if err := fn(hdr, master.ASNItem{Key: pk}); err != nil {
			return err
		}
		g := us[pi%len(us)]
		cg, err := CaseGTIN(g, '5')
		if err != nil {
			return err
		}
		for ci := range p.CasesPerPallet {
			var ck event.Key
			if ci%2 == 0 {
				cs, err := SSCC(SSCCExtension, SSCCPrefix, uint64(600_000_000+pi*p.CasesPerPallet+ci))
				if err != nil {
					return err
				}
				ck = event.SSCC(cs)
			} else {
				ck = event.SGTIN(cg, fmt.Sprintf("C%07d", pi*p.CasesPerPallet+ci))
			}
			lot := fmt.Sprintf("US%04dC%03d", pi+1, ci+1)
			exp := today.AddDate(1, 1+ci%12, 0).Format("060102")
			if err := fn(hdr, master.ASNItem{Key: ck, Parent: pk, Lot: lot, Expiry: exp}); err != nil {
				return err
			}
			pre := randLetters(rng, 2)
			for range p.UnitsPerCase {
				n++
				if err := fn(hdr, master.ASNItem{Key: event.SGTIN(g, fmt.Sprintf("N%s%08d", pre, n)), Parent: ck, Lot: lot, Expiry: exp}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func randLetters(rng *rand.Rand, n int) string {
	const abc = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[rng.IntN(len(abc))]
	}
	return string(b)
}

func withCheck(body string) (string, error) {
	c, err := gs1.CheckDigit(body)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrParams, err)
	}
	return body + string(c), nil
}

// GTINFromNDC is the GTIN-14 of a US pack: 0 + 03 + NDC-10 + check digit.
func GTINFromNDC(ndc10 string) (string, error) {
	if len(ndc10) != 10 || !digits(ndc10) {
		return "", fmt.Errorf("%w: NDC %q is not 10 digits", ErrParams, ndc10)
	}
	return withCheck("003" + ndc10)
}

// GTINFromEU is the GTIN-14 of an EU pack from a 10-digit company prefix
// and item reference: 0 + 10 digits + 00 + check digit.
func GTINFromEU(item10 string) (string, error) {
	if len(item10) != 10 || !digits(item10) {
		return "", fmt.Errorf("%w: item %q is not 10 digits", ErrParams, item10)
	}
	return withCheck("0" + item10 + "00")
}

// CaseGTIN is the GTIN of a case of unit GTIN g: the packaging
// indicator, the unit GTIN's body and a new check digit.
func CaseGTIN(g string, indicator byte) (string, error) {
	if len(g) != 14 || !digits(g) || indicator < '1' || indicator > '8' {
		return "", fmt.Errorf("%w: case of %q with indicator %q", ErrParams, g, indicator)
	}
	return withCheck(string(indicator) + g[1:13])
}

// SSCC numbers a logistic unit: extension digit, company prefix, serial
// reference (zero padded to fill 17 digits) and check digit.
func SSCC(ext int, prefix string, ref uint64) (string, error) {
	if ext < 0 || ext > 9 || len(prefix) < 6 || len(prefix) > 12 || !digits(prefix) {
		return "", fmt.Errorf("%w: SSCC extension %d, prefix %q", ErrParams, ext, prefix)
	}
	w := 16 - len(prefix)
	r := strconv.FormatUint(ref, 10)
	if len(r) > w {
		return "", fmt.Errorf("%w: SSCC serial reference %d longer than %d digits", ErrParams, ref, w)
	}
	for len(r) < w {
		r = "0" + r
	}
	return withCheck(strconv.Itoa(ext) + prefix + r)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
