package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/server/coalesce"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
)

// counter reads one counter of a node's collectors.
func counter(t *testing.T, m *sitetest.Member, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Node.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// An entry whose payload does not decode is refused by Propose, on every
// node, before it reaches the log; written to the log all the same (a
// faulty proposer), it is refused by every replica alike: no node stops,
// each counts it once, the states agree, and writes go on.
func TestMalformedEntryIsRefusedByEveryReplica(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(20 * time.Second)
	site.WaitMembers(3, 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bad := command.Encode(command.TypeClient, []byte("{"))
	// The door refuses it: nothing is proposed.
	for _, m := range site.Members {
		if _, err := m.Node.Propose(ctx, bad, false); !errors.Is(err, command.ErrPayload) {
			t.Fatalf("propose through %s: %v, want ErrPayload", m.ID, err)
		}
	}
	// A faulty proposer writes it to the log all the same.
	f := leader.Node.Raft().Apply(bad, 10*time.Second)
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	if err, ok := f.Response().(error); !ok || !errors.Is(err, command.ErrPayload) {
		t.Fatalf("apply answered %v, want ErrPayload", f.Response())
	}
	if _, err := leader.Node.Propose(ctx, command.Encode(command.TypeClient, []byte(`{"id":"after"}`)), false); err != nil {
		t.Fatalf("the next write: %v", err)
	}
	site.WaitConverged(30 * time.Second)
	for _, m := range site.Members {
		if n := counter(t, m, "custody_apply_malformed_entries_total"); n != 1 {
			t.Errorf("%s counted %v malformed entries", m.ID, n)
		}
	}
}

// Events over the event limits are refused at every node, leader and
// follower alike, before anything is proposed or forwarded.
func TestEventsOverTheLimitsAreNotProposed(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	site.WaitLeader(20 * time.Second)
	site.WaitMembers(3, 30*time.Second)
	g := workload.New(workload.Options{Seed: 4})
	evs := g.Receive(2)
	evs[1].Ctx.Lot = strings.Repeat("L", 1100)
	for _, m := range site.Members {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := m.Node.SubmitEvents(ctx, evs, false)
		cancel()
		if !errors.Is(err, coalesce.ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", m.ID, err)
		}
		if n := m.Node.Coalescer().Entries(); n != 0 {
			t.Errorf("%s proposed %d entries of events", m.ID, n)
		}
	}
}
