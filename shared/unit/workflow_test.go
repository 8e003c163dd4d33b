package unit_test

import (
	"slices"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/shared/unit/workflowcases"
)

// catalogStore is the reference store with master data.
type catalogStore struct {
	*unit.MemStore
	products map[string]string
	asns     map[string]master.ASN
}

func (c *catalogStore) ProductClient(gtin string) (string, bool, error) {
	cl, ok := c.products[gtin]
	return cl, ok, nil
}

func (c *catalogStore) ASNAnnounces(asn, gtin string) (bool, bool, error) {
	a, ok := c.asns[asn]
	if !ok {
		return false, false, nil
	}
	return slices.ContainsFunc(a.Items, func(it master.ASNItem) bool { return it.Key.GTIN() == gtin }), true, nil
}

// TestWorkflowCases runs the shared workflow cases on the reference
// store; the site's processor and the handheld's replica run the same.
func TestWorkflowCases(t *testing.T) {
	for _, c := range workflowcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			st := &catalogStore{MemStore: unit.NewMemStore(), products: map[string]string{}, asns: map[string]master.ASN{}}
			for _, p := range c.Products {
				st.products[p.GTIN] = p.Client
			}
			for _, a := range c.ASNs {
				st.asns[a.ID] = a
			}
			for i := range c.Before {
				if _, err := unit.Evaluate(st, &c.Before[i], unit.Env{}); err != nil {
					t.Fatal(err)
				}
			}
			before := workflowExceptions(st.MemStore)
			res, err := unit.Evaluate(st, &c.Event, unit.Env{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]unit.Rule{}
			for id, x := range workflowExceptions(st.MemStore) {
				if _, old := before[id]; !old {
					got[id] = x.Rule
				}
			}
			want := c.WantIDs()
			if len(got) != len(want) {
				t.Fatalf("raised %v, want %v", got, want)
			}
			for id, r := range want {
				if got[id] != r {
					t.Fatalf("missing %s %s; raised %v", r, id, got)
				}
				if !slices.Contains(res.Exceptions(), id) {
					t.Fatalf("result does not name %s", id)
				}
			}
			// The same event again (a replay on another replica's copy of
			// the state) joins what it opened: nothing new.
			again, err := unit.Evaluate(st, &c.Event, unit.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(workflowExceptions(st.MemStore)) - len(before); n != len(want) {
				t.Fatalf("evaluating again left %d exceptions, want %d (%v)", n, len(want), again.Exceptions())
			}
		})
	}
}

func workflowExceptions(m *unit.MemStore) map[string]unit.Exception {
	out := map[string]unit.Exception{}
	for id, x := range m.Exceptions {
		if slices.Contains(workflowcases.Rules(), x.Rule) {
			out[id] = x
		}
	}
	return out
}

// TestWorkflowWithoutCatalog: a store without master data skips the
// rules that need it, and raises the rest.
func TestWorkflowWithoutCatalog(t *testing.T) {
	st := unit.NewMemStore()
	e := event.Event{Device: "d", Epoch: 1, Seq: 1, HLC: 1 << 16, User: "u", Site: "s", Client: "c", Kind: event.KindReceive,
		Subjects: []event.Subject{{Key: workflowcases.N1}}, Ctx: event.Context{To: "Q", Hold: event.HoldInvestigation}}
	e.ID[15] = 1
	raised, err := unit.Workflow(st, nil, &e)
	if err != nil || len(raised) != 0 {
		t.Fatalf("raised %v %v", raised, err)
	}
}
