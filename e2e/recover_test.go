package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
)

// write posts events to n and checks that every one was applied.
func write(t *testing.T, n *procs.Server, evs []event.Event) {
	t.Helper()
	var ans submitAnswer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := procs.Client(n, "admin").Do(ctx, "POST", "/api/v1/events", map[string]any{"events": evs}, &ans); err != nil {
		t.Fatalf("write on %s: %v", n.ID, err)
	}
	if len(ans.Verdicts) != len(evs) {
		t.Fatalf("write on %s: %d verdicts for %d events", n.ID, len(ans.Verdicts), len(evs))
	}
	for i, v := range ans.Verdicts {
		if v.Status != "applied" {
			t.Fatalf("write on %s: event %d: %+v", n.ID, i, v)
		}
	}
}

// TestRecoverFromQuorumLoss: three custody-server processes take
// writes; two are killed for good. The survivor, stopped and started
// with --recover PEERS.json naming itself alone, leads a one-node
// cluster with its state unchanged, takes writes, and two fresh nodes
// join it; the three agree.
func TestRecoverFromQuorumLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five server processes")
	}
	bin := procs.Build(t, t.TempDir(), "github.com/custodyhq/custody/server/cmd/custody-server")
	nodes := procs.StartCluster(t, bin, 3)
	all := append([]*procs.Server(nil), nodes...)
	defer func() {
		if t.Failed() {
			for _, n := range all {
				t.Logf("--- %s log tail:\n%s", n.ID, n.Proc.Tail(3000))
			}
		}
	}()
	g := workload.New(workload.Options{Seed: 31, Prefix: "recover"})
	var keys []string
	for range 3 {
		evs := g.Receive(200)
		for _, e := range evs {
			keys = append(keys, string(e.Subjects[0].Key))
		}
		write(t, nodes[1], evs)
	}
	waitSameHash(t, nodes)
	surv := nodes[2]
	// What the survivor holds of every unit written: the recovered node
	// must hold exactly that. (The state as a whole moves on at the
	// restart: the recovered leader's own commands, such as the signals
	// analyzer's cursor, are entries too.)
	before := unitsOf(t, surv, keys)
	beforeHash := stateHash(t, surv)

	nodes[0].Proc.Kill()
	nodes[1].Proc.Kill()
	if err := surv.Proc.Stop(30 * time.Second); err != nil {
		t.Fatalf("stop %s: %v", surv.ID, err)
	}

	peers := filepath.Join(t.TempDir(), "peers.json")
	b, err := json.Marshal([]map[string]any{{"id": surv.ID, "address": surv.Raft, "non_voter": false}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(peers, b, 0o600); err != nil {
		t.Fatal(err)
	}
	extra := surv.Extra
	surv.Join = "" // --join and --recover exclude each other
	surv.Extra = append(append([]string(nil), extra...), "--recover", peers)
	surv.Start(t)
	surv.Extra = extra
	procs.WaitFor(t, 60*time.Second, "the survivor to lead alone", func() bool {
		var st procs.Status
		err := procs.Client(surv, "admin").Get("/api/v1/cluster/status", &st)
		return err == nil && st.Leader == surv.ID && len(st.Nodes) == 1 && procs.Ready(surv)
	})
	if after := stateHash(t, surv); after.Applied < beforeHash.Applied {
		t.Fatalf("recovered state at %d, was at %d", after.Applied, beforeHash.Applied)
	}
	after := unitsOf(t, surv, keys)
	for i, k := range keys {
		if after[i] != before[i] {
			t.Fatalf("unit %s after the recovery:\n%s\nwas:\n%s", k, after[i], before[i])
		}
	}
	if _, err := os.Stat(peers + ".done"); err != nil {
		t.Fatalf("the peers file was not set aside after use: %v", err)
	}
	write(t, surv, g.Receive(100))

	n4 := procs.AddNode(t, surv, "n4")
	n5 := procs.AddNode(t, surv, "n5")
	all = append(all, n4, n5)
	grown := []*procs.Server{surv, n4, n5}
	procs.WaitFor(t, 90*time.Second, "the cluster to grow back to three", func() bool {
		var st procs.Status
		if err := procs.Client(surv, "admin").Get("/api/v1/cluster/status", &st); err != nil || len(st.Nodes) != 3 {
			return false
		}
		for _, m := range st.Nodes {
			if m.State == "unreachable" || m.HTTP == "" {
				return false
			}
		}
		return true
	})
	write(t, n4, g.Receive(100))
	waitSameHash(t, grown)
}

// unitsOf reads each unit from s as the API answers it.
func unitsOf(t *testing.T, s *procs.Server, keys []string) []string {
	t.Helper()
	out := make([]string, len(keys))
	c := procs.Client(s, "admin")
	for i, k := range keys {
		var raw json.RawMessage
		if err := c.Get("/api/v1/units/"+url.PathEscape(k), &raw); err != nil {
			t.Fatalf("unit %s on %s: %v", k, s.ID, err)
		}
		out[i] = string(raw)
	}
	return out
}
