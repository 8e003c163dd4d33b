package unit

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/event"
)

// ownersOf answers from a fixed product table: GTIN → client.
func ownersOf(products map[string]string) Owners {
	return func(gtin string) (string, bool, error) {
		c, ok := products[gtin]
		return c, ok, nil
	}
}

func TestGTINOwned(t *testing.T) {
	owners := ownersOf(map[string]string{"00300010123455": "acme"})
	for _, tc := range []struct {
		name, gtin, client string
		owners             Owners
		refused            bool
	}{
		{"own product", "00300010123455", "acme", owners, false},
		{"another client's product", "00300010123455", "globex", owners, true},
		{"GTIN no product has", "00300010999995", "globex", owners, false},
		{"SSCC (no GTIN)", "", "globex", owners, false},
		{"no owner table", "00300010123455", "globex", nil, false},
	} {
		why, err := GTINOwned(tc.owners, tc.gtin, tc.client)
		if err != nil || (why != "") != tc.refused {
			t.Errorf("%s: %q %v", tc.name, why, err)
		}
		if why != "" && strings.Contains(why, "acme") {
			t.Errorf("%s: the refusal names the owner: %q", tc.name, why)
		}
	}
}

// An event of one client never creates a unit of another client's GTIN,
// so that client's own receipt of the serial still works.
func TestEventOfAnotherClientsGTINIsRefused(t *testing.T) {
	st := NewMemStore()
	env := Env{Owners: ownersOf(map[string]string{"00300010123455": "acme"})}
	for i, kind := range []event.Kind{event.KindExpect, event.KindReceive} {
		e := mk("dev-g", uint64(i+1), kind, event.Context{ASN: "G1", To: "DOCK"}, gtinUnit(0))
		e.Client = "globex"
		r := mustEval(t, st, e, env)
		if r.Verdict != VerdictRefused || r.Subjects[0].Reason != NotTheClients(gtinUnit(0), "globex") || r.Subjects[0].Version != 0 {
			t.Fatalf("%s of acme's GTIN by globex: %+v", kind, r)
		}
		if st.Units[gtinUnit(0)].Known() {
			t.Fatalf("%s by globex created acme's unit: %+v", kind, st.Units[gtinUnit(0)])
		}
	}
	r := mustEval(t, st, mk("dev-a", 1, event.KindReceive, event.Context{To: "DOCK"}, gtinUnit(0)), env)
	if r.Verdict != VerdictApplied || st.Units[gtinUnit(0)].Client != "acme" {
		t.Fatalf("acme's own receipt: %+v", r)
	}
}

// A refusal on another client's unit reads the same whether the unit is
// of another client's GTIN or an SSCC another client holds, and carries
// no version of theirs.
func TestRefusalOnAnotherClientsUnitLeaksNothing(t *testing.T) {
	st := NewMemStore()
	receivePallet(t, st, 1) // acme's case and unit, versions above 0
	e := mk("dev-x", 1, event.KindHold, event.Context{Hold: event.HoldSuspect}, caseK, gtinUnit(0))
	e.Client = "globex"
	r := mustEval(t, st, e, Env{})
	for _, s := range r.Subjects {
		if s.Verdict != VerdictRefused || s.Version != 0 || s.Reason != NotTheClients(s.Key, "globex") || strings.Contains(s.Reason, "acme") {
			t.Fatalf("refusal on acme's %s: %+v", s.Key, s)
		}
	}
}
