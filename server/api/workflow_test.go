package api_test

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// A device's workflow records reach a three-node site over real raft:
// the close of an ASN short raises SHORTAGE, a case opened with a unit
// missing raises AGGREGATION_MISMATCH, each once. The leader is killed
// after the batch is committed, the device resends it to another node
// (it did not hear the answer), the killed node comes back and replays
// its log: every node holds the same two exceptions under the same ids.
func TestWorkflowExceptionsSurviveALeaderKill(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(10 * time.Second)
	adm := client{t: t, base: leader.URL(), user: "admin"}
	adm.ok("PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme"}, nil)
	adm.ok("PUT", "/api/v1/products/"+gtinA, map[string]any{"client": "acme", "name": "Pill", "companyPrefixLen": 7}, nil)
	c1, c2 := event.SSCC("003000100000000015"), event.SSCC("003000100000000022")
	u := func(s string) event.Key { return event.SGTIN(gtinA, s) }
	adm.ok("POST", "/api/v1/asns", map[string]any{"id": "ASN-1", "client": "acme", "supplier": "p1", "items": []map[string]any{
		{"key": c1}, {"key": u("U1"), "parent": c1, "lot": "L1"}, {"key": u("U2"), "parent": c1, "lot": "L1"},
		{"key": c2}, {"key": u("U4"), "parent": c2, "lot": "L1"}, {"key": u("U5"), "parent": c2, "lot": "L1"},
		{"key": u("U3"), "lot": "L1"}}}, nil)
	g := workload.New(workload.Options{Seed: 11, Devices: 1, Prefix: "api:admin:hh"})
	batch := map[string]any{"events": []event.Event{
		g.Event(event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Lot: "L1"}, u("U3")),
		g.Event(event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Inferred: true}, c2),
		g.Event(event.KindCloseASN, event.Context{ASN: "ASN-1"}, c1),
		g.Event(event.KindVerifyMismatch, event.Context{}, c2, u("U4")),
	}}
	var first verdicts
	adm.ok("POST", "/api/v1/events", batch, &first)
	for i, v := range first.Verdicts {
		if v.Status != "applied" {
			t.Fatalf("event %d: %+v", i, v)
		}
	}
	site.Kill(leader)
	next := site.WaitLeader(20 * time.Second)
	var again verdicts
	client{t: t, base: next.URL(), user: "admin"}.ok("POST", "/api/v1/events", batch, &again)
	for i, v := range again.Verdicts {
		if v.Status != "duplicate" {
			t.Fatalf("resent event %d: %+v", i, v)
		}
	}
	site.Restart(leader)
	site.WaitConverged(30 * time.Second)

	var ids map[string]unit.Rule
	for _, m := range site.Members {
		got := map[string]unit.Rule{}
		err := m.Node.State().View(func(r *state.Reader) error {
			page, err := r.Exceptions(state.ExceptionFilter{Limit: 1000})
			for _, x := range page.Items {
				got[x.ID] = x.Rule
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		n := map[unit.Rule]int{}
		for _, r := range got {
			n[r]++
		}
		if len(got) != 2 || n[unit.RuleShortage] != 1 || n[unit.RuleAggregation] != 1 {
			t.Fatalf("%s holds exceptions %v", m.ID, got)
		}
		if ids == nil {
			ids = got
		}
		for id := range ids {
			if _, ok := got[id]; !ok {
				t.Fatalf("%s lacks exception %s", m.ID, id)
			}
		}
	}
	// The shift lead sees them through the API, on the unit they are about.
	var xs struct{ Items []struct{ Rule, Unit string } }
	client{t: t, base: next.URL(), user: "admin"}.ok("GET", "/api/v1/exceptions?status=open&consistency=leader", nil, &xs)
	seen := map[string]string{}
	for _, x := range xs.Items {
		seen[x.Rule] = x.Unit
	}
	if seen[string(unit.RuleShortage)] != string(c1) || seen[string(unit.RuleAggregation)] != string(c2) {
		t.Fatalf("open exceptions %+v", xs.Items)
	}
}
