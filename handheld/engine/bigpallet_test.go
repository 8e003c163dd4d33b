package engine

import (
	"testing"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/unit"
)

// A pallet of 2,000 units received by its label is one transaction.
func TestReceiveBigPalletByLabel(t *testing.T) {
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 40, 50
	r := newRig(t, p)
	r.login("op2")
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	pallet, _, _ := asn1(r.fx)
	s := r.is(Accepted)(r.scan(pallet))
	if s.Units != 1+40+2000 {
		t.Fatalf("reached %d", s.Units)
	}
}

// A pallet too big for one transaction is refused, not half received.
func TestReceiveHugePalletRefused(t *testing.T) {
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 50, 100
	r := newRig(t, p)
	r.login("op2")
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	pallet, cases, _ := asn1(r.fx)
	r.is(Refused)(r.scan(pallet))
	if st := r.unit(pallet); st.Status != unit.StatusExpected {
		t.Fatalf("pallet %+v", st)
	}
	r.is(Accepted)(r.scan(cases[0]))
}
