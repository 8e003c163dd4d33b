package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/supplychain"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

type exceptionList struct {
	Items []unit.Exception `json:"items"`
	Next  string           `json:"next"`
}

// signalExceptions lists a node's exceptions of the signal rules and of
// the rules the evaluation counts.
func signalExceptions(s *procs.Server) ([]unit.Exception, error) {
	var out []unit.Exception
	for _, p := range supplychain.Patterns() {
		for _, r := range supplychain.RulesOf(p) {
			after := ""
			for {
				var l exceptionList
				if err := procs.Client(s, "admin").Get(fmt.Sprintf("/api/v1/exceptions?rule=%s&limit=10000&after=%s", r, after), &l); err != nil {
					return nil, err
				}
				out = append(out, l.Items...)
				if l.Next == "" {
					break
				}
				after = l.Next
			}
		}
	}
	return out, nil
}

// TestSignalsSurviveLeaderKill replays labelled supply-chain data through
// three custody-server processes over HTTP, SIGKILLs the leader half way,
// goes on through the survivors, and checks that the survivors hold
// exactly the findings one analyzer makes of the same data without a
// site (none lost, none repeated: one exception per unit and rule, the
// same on every node), that these include every instance of the
// deterministic patterns, that clean units raise nothing, and that
// cloned units are quarantined.
func TestSignalsSurviveLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	bin := procs.Build(t, t.TempDir(), "github.com/custodyhq/custody/server/cmd/custody-server")
	nodes := procs.StartCluster(t, bin, 3)
	// The API binds each event to the user who sends it: every event is
	// the admin's, so the user signal sees one user (the diverter user
	// pattern needs several and is measured by custody-signals eval).
	data := supplychain.Generate(supplychain.Options{Seed: 7, Events: 40000, Rate: 2000, DeviceRate: 8000, Warmup: 0.3, User: "admin"})

	leader := func() *procs.Server {
		for _, n := range nodes {
			if !n.Proc.Running() {
				continue
			}
			var st procs.Status
			if err := procs.Client(n, "admin").Get("/api/v1/cluster/status", &st); err == nil {
				for _, m := range nodes {
					if m.ID == st.Leader && m.Proc.Running() {
						return m
					}
				}
			}
		}
		return nil
	}
	// send tries one step on the live nodes in turn until one takes it.
	next := 0
	send := func(method, path string, body any) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			n := nodes[next%len(nodes)]
			next++
			if !n.Proc.Running() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := procs.Client(n, "admin").Do(ctx, method, path, body, nil)
			cancel()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	var killed *procs.Server
	for i, st := range data.Steps {
		if killed == nil && i == len(data.Steps)/2 {
			killed = leader()
			if killed == nil {
				t.Fatal("no leader to kill")
			}
			killed.Proc.Kill()
			t.Logf("killed leader %s at step %d of %d", killed.ID, i, len(data.Steps))
		}
		for _, c := range st.Clients {
			send(http.MethodPut, "/api/v1/clients/"+c.ID, c)
		}
		for _, p := range st.Partners {
			send(http.MethodPut, "/api/v1/partners/"+p.ID, p)
		}
		for _, p := range st.Products {
			send(http.MethodPut, "/api/v1/products/"+p.GTIN, p)
		}
		if st.ASN != nil {
			send(http.MethodPost, "/api/v1/asns", st.ASN)
		}
		if len(st.Events) > 0 {
			// A resent batch is answered "duplicate": the site keeps the
			// device's place.
			send(http.MethodPost, "/api/v1/events", map[string]any{"events": st.Events})
		}
	}
	alive := slices.DeleteFunc(slices.Clone(nodes), func(n *procs.Server) bool { return n == killed })

	type inst struct {
		rule unit.Rule
		key  event.Key
	}
	// The reference: the same data through one analyzer, no site, no
	// leader change. The cluster must hold exactly these findings.
	want := map[inst]bool{}
	for _, f := range supplychain.Replay(data).Feed(signals.NewAnalyzer(signals.Config{})) {
		want[inst{f.Rule, f.Unit}] = true
	}
	// Every instance of a deterministic pattern is in the reference.
	labelled := map[string]bool{}
	labelledEvent := map[event.ID]bool{}
	for _, l := range data.Labels {
		labelled[string(l.Unit)] = true
		labelled[l.Device] = true
		labelledEvent[l.Event] = true
		if !l.Pattern.Deterministic() || l.Pattern == supplychain.SupplierMismatch {
			continue
		}
		if !want[inst{supplychain.RulesOf(l.Pattern)[0], l.Unit}] {
			t.Errorf("the reference misses %s %s", l.Pattern, l.Unit)
		}
	}
	t.Logf("%d events, %d labels, %d reference findings", data.Events, len(data.Labels), len(want))
	var final []unit.Exception
	var missing []string
	deadline := time.Now().Add(120 * time.Second)
	for !func() bool {
		var first []string
		missing = missing[:0]
		for i, n := range alive {
			xs, err := signalExceptions(n)
			if err != nil {
				missing = append(missing, err.Error())
				return false
			}
			got := map[inst]bool{}
			var ids []string
			for _, x := range xs {
				if signals.IsRule(x.Rule) {
					got[inst{x.Rule, x.Unit}] = true
				}
				ids = append(ids, x.ID)
			}
			for in := range want {
				if !got[in] {
					missing = append(missing, fmt.Sprintf("%s: %s %s", n.ID, in.rule, in.key))
				}
			}
			if len(missing) > 0 {
				return false
			}
			slices.Sort(ids)
			if i == 0 {
				first, final = ids, xs
			} else if !slices.Equal(ids, first) {
				missing = append(missing, fmt.Sprintf("%s holds %d exceptions, %s %d", n.ID, len(ids), alive[0].ID, len(first)))
				return false
			}
		}
		return true
	}() {
		if time.Now().After(deadline) {
			t.Fatalf("the findings did not reach every node in 120 s: %v", missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Exactly once: one exception per unit and rule; nothing on clean units.
	seen := map[inst]string{}
	for _, x := range final {
		in := inst{x.Rule, x.Unit}
		if signals.IsRule(x.Rule) && !want[in] {
			t.Errorf("%s %s is not in the reference: %s", x.Rule, x.Unit, x.Detail)
		}
		if prev, ok := seen[in]; ok {
			t.Errorf("%s raised twice for %s: %s and %s", x.Rule, x.Unit, prev, x.ID)
		}
		seen[in] = x.ID
		if x.Rule == signals.RuleWorkShape {
			ok := false
			for _, d := range x.Devices {
				ok = ok || labelled[d]
			}
			if !ok {
				t.Errorf("false alarm: %s %v: %s", x.Rule, x.Devices, x.Detail)
			}
			continue
		}
		if x.Rule == signals.RuleUserShape {
			// A user's work is odd at an injected scan (a diverter device's,
			// here), or it is a false alarm.
			if len(x.Events) == 0 || !labelledEvent[x.Events[0]] {
				t.Errorf("false alarm: %s %v: %s", x.Rule, x.Events, x.Detail)
			}
			continue
		}
		if !labelled[string(x.Unit)] {
			t.Errorf("false alarm: %s %s: %s", x.Rule, x.Unit, x.Detail)
		}
	}
	for in := range want {
		if in.rule == signals.RuleClonedSerial {
			var v struct {
				Unit unit.State `json:"unit"`
			}
			if err := procs.Client(alive[0], "admin").Get("/api/v1/units/"+string(in.key)+"?history=1", &v); err != nil {
				t.Fatal(err)
			}
			if !v.Unit.Holds.Has(event.HoldSuspect) {
				t.Errorf("cloned %s is not quarantined: %+v", in.key, v.Unit)
			}
		}
	}
	t.Logf("%d exceptions, the same on %d nodes", len(final), len(alive))
}
