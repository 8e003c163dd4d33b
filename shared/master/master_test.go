package master

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/event"
)

func TestPINVerifier(t *testing.T) {
	salt := bytes.Repeat([]byte{1}, 16)
	v, err := NewPINVerifier("4711", salt)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check("4711"); err != nil {
		t.Fatalf("right PIN refused: %v", err)
	}
	if err := v.Check("4712"); !errors.Is(err, ErrPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if _, err := NewPINVerifier("12", salt); !errors.Is(err, ErrInvalid) {
		t.Fatal("short PIN accepted")
	}
	if err := (*PINVerifier)(nil).Check("4711"); !errors.Is(err, ErrPIN) {
		t.Fatal("nil verifier accepted a PIN")
	}
}

func TestValidation(t *testing.T) {
	c, u := event.SSCC("003000101234567893"), event.SGTIN("00300010123455", "S1")
	tests := []struct {
		name string
		err  error
	}{
		{"asn ok", (&ASN{ID: "A", Client: "c", Items: []ASNItem{{Key: c}, {Key: u, Parent: c}}}).Validate()},
		{"product ok", (&Product{GTIN: "00300010123455", Client: "c", CompanyPrefixLen: 7}).Validate()},
		{"order ok", (&Order{ID: "O", Client: "c", Lines: []OrderLine{{ID: "1", GTIN: "00300010123455", Qty: 2}}}).Validate()},
		{"hold ok", (&Hold{ID: "H", Client: "c", Scope: ScopeLot, GTIN: "00300010123455", Lot: "L", Reason: event.HoldRecall}).Validate()},
		{"client ok", (&Client{ID: "c", Policy: Policy{FEFO: FEFOWarn, Mixing: MixSameLot}}).Validate()},
	}
	for _, tc := range tests {
		if tc.err != nil {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
	}
	bad := []struct {
		name string
		err  error
	}{
		{"asn child first", (&ASN{ID: "A", Client: "c", Items: []ASNItem{{Key: u, Parent: c}, {Key: c}}}).Validate()},
		{"asn dup", (&ASN{ID: "A", Client: "c", Items: []ASNItem{{Key: u}, {Key: u}}}).Validate()},
		{"asn bad key", (&ASN{ID: "A", Client: "c", Items: []ASNItem{{Key: "01x"}}}).Validate()},
		{"product gtin", (&Product{GTIN: "123", Client: "c"}).Validate()},
		{"product prefix", (&Product{GTIN: "00300010123455", Client: "c", CompanyPrefixLen: 13}).Validate()},
		{"order no lines", (&Order{ID: "O", Client: "c"}).Validate()},
		{"order zero qty", (&Order{ID: "O", Client: "c", Lines: []OrderLine{{ID: "1", GTIN: "00300010123455"}}}).Validate()},
		{"hold lot without lot", (&Hold{ID: "H", Client: "c", Scope: ScopeLot, GTIN: "00300010123455", Reason: event.HoldRecall}).Validate()},
		{"hold no reason", (&Hold{ID: "H", Client: "c", Scope: ScopeProduct, GTIN: "00300010123455"}).Validate()},
		{"hold two reasons", (&Hold{ID: "H", Client: "c", Scope: ScopeProduct, GTIN: "00300010123455", Reason: event.HoldRecall | event.HoldDamaged}).Validate()},
		{"client fefo", (&Client{ID: "c", Policy: Policy{FEFO: "sometimes"}}).Validate()},
	}
	for _, tc := range bad {
		if !errors.Is(tc.err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, tc.err)
		}
	}
}

func TestHoldCoversAndUserSees(t *testing.T) {
	lot := Hold{Active: true, Scope: ScopeLot, GTIN: "g", Lot: "L1"}
	prod := Hold{Active: true, Scope: ScopeProduct, GTIN: "g"}
	if !lot.Covers("g", "L1") || lot.Covers("g", "L2") || !prod.Covers("g", "L2") || prod.Covers("h", "L1") {
		t.Fatal("Covers")
	}
	lot.Active = false
	if lot.Covers("g", "L1") {
		t.Fatal("inactive hold covers")
	}
	u := User{Clients: []string{"acme"}}
	if !u.Sees("acme") || u.Sees("globex") || !(&User{Clients: []string{"*"}}).Sees("globex") {
		t.Fatal("Sees")
	}
	if RoleOperator.CanRelease() || !RoleLead.CanRelease() {
		t.Fatal("CanRelease")
	}
}

// TestRecordsGetTheChecksAScanGets: identifiers and dates in master data
// and plans are refused as a scan would refuse them.
func TestRecordsGetTheChecksAScanGets(t *testing.T) {
	unit := event.SGTIN("00300010123455", "SN1")
	pallet := event.SSCC("003000101234567893")
	known := func(id string) bool { return id == "CUST-1" }
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"product", (&Product{GTIN: "00300010123455", Client: "acme"}).Validate(), true},
		{"product gtin check digit", (&Product{GTIN: "00300010123454", Client: "acme"}).Validate(), false},
		{"product unit gtin check digit", (&Product{GTIN: "10300010123452", Client: "acme", UnitGTIN: "00300010123451"}).Validate(), false},
		{"product client with NUL", (&Product{GTIN: "00300010123455", Client: "ac\x00me"}).Validate(), false},
		{"client id too long", (&Client{ID: strings.Repeat("c", event.MaxField+1)}).Validate(), false},
		{"site gln check digit", (&Site{ID: "s", GLN: "0614141000006"}).Validate(), false},
		{"partner", (&Partner{ID: "CUST-1", GLN: "0614141000005"}).Validate(), true},
		{"partner id script", (&Partner{ID: "javascript:alert(1)"}).Validate(), false},
		{"location", (&Location{ID: "A-01-03"}).Validate(), true},
		{"location control character", (&Location{ID: "A\x1d01"}).Validate(), false},
		{"order line gtin check digit", (&Order{ID: "O1", Client: "acme", Lines: []OrderLine{{ID: "1", GTIN: "00300010123454", Qty: 1}}}).Validate(), false},
		{"order line lot with GS", (&Order{ID: "O1", Client: "acme", Lines: []OrderLine{{ID: "1", GTIN: "00300010123455", Qty: 1, Lot: "A\x1dB"}}}).Validate(), false},
		{"hold gtin check digit", (&Hold{ID: "H", Client: "acme", Scope: ScopeProduct, GTIN: "00300010123454", Reason: event.HoldRecall}).Validate(), false},
		{"asn", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: pallet}, {Key: unit, Parent: pallet, Lot: "L1", Expiry: "301200"}}}).Validate(), true},
		{"asn sscc check digit", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: event.SSCC("003000101234567897")}}}).Validate(), false},
		{"asn gtin check digit", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: event.SGTIN("00300010123454", "S")}}}).Validate(), false},
		{"asn expiry 281301", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: unit, Expiry: "281301"}}}).Validate(), false},
		{"asn expiry ABCDEF", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: unit, Expiry: "ABCDEF"}}}).Validate(), false},
		{"asn expiry 999999", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: unit, Expiry: "999999"}}}).Validate(), false},
		{"asn lot with GS", (&ASN{ID: "A", Client: "acme", Items: []ASNItem{{Key: unit, Lot: "L1\x1d21X"}}}).Validate(), false},
		{"shipment", (&Shipment{ID: "S", Client: "acme", Destination: "CUST-1", Containers: []event.Key{pallet}}).Validate(), true},
		{"shipment destination script", (&Shipment{ID: "S", Client: "acme", Destination: "javascript:alert(1)"}).Validate(), false},
		{"shipment destination gln check digit", (&Shipment{ID: "S", Client: "acme", Destination: "0614141000006"}).Validate(), false},
		{"shipment container check digit", (&Shipment{ID: "S", Client: "acme", Containers: []event.Key{event.SSCC("003000101234567897")}}).Validate(), false},
		{"destination known partner", (&Shipment{ID: "S", Destination: "CUST-1"}).CheckDestination(known), true},
		{"destination gln", (&Shipment{ID: "S", Destination: "0614141000005"}).CheckDestination(known), true},
		{"destination unknown partner", (&Shipment{ID: "S", Destination: "CUST-9"}).CheckDestination(known), false},
		{"destination script", (&Shipment{ID: "S", Destination: "javascript:alert(1)"}).CheckDestination(known), false},
	}
	for _, tc := range tests {
		if (tc.err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, tc.err)
		}
		if tc.err != nil && !errors.Is(tc.err, ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", tc.name, tc.err)
		}
	}
}
