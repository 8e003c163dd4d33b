package master

import (
	"bytes"
	"errors"
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
	c, u := event.SSCC("003000101234567897"), event.SGTIN("00300010123455", "S1")
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
