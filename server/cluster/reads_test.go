package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
)

// VerifyRead returns only once the state reflects everything committed
// before it was called: the FSM's own applied index, not raft's (which
// raft advances when it queues entries for the FSM). Likewise WaitApplied
// and Ready, while writers keep the FSM busy.
func TestVerifyReadWaitsForTheFSM(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	m := site.Members[0]
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for d := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := workload.New(workload.Options{Seed: uint64(10 + d), Prefix: fmt.Sprintf("w%d", d)})
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = m.Node.SubmitEvents(context.Background(), g.Receive(300), false)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The term's barrier (the first linearizable read commits one) goes
	// first; then the log's last entry is a command from here on
	// (Applied counts commands only, raft keeps barriers from the FSM).
	if err := m.Node.VerifyRead(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Node.SubmitEvents(context.Background(), workload.New(workload.Options{Seed: 1, Prefix: "first"}).Receive(1), false); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		c := m.Node.Raft().CommitIndex()
		if err := m.Node.VerifyRead(ctx); err != nil {
			t.Fatalf("verify read %d: %v", i, err)
		}
		if got := m.Node.Applied(); got < c {
			t.Fatalf("read %d: VerifyRead returned with the state at %d, %d was committed before it", i, got, c)
		}
		c = m.Node.Raft().CommitIndex()
		if err := m.Node.WaitApplied(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got := m.Node.Applied(); got < c {
			t.Fatalf("read %d: WaitApplied(%d) returned with the state at %d", i, c, got)
		}
	}
}

// BenchmarkLinearizableRead: VerifyRead on the leader of a 3-node site
// while two writers keep the FSM busy (batches of 100 receipts). One op
// is one linearizable read; ns/op is its latency, p50/p99 are reported.
func BenchmarkLinearizableRead(b *testing.B) {
	site := sitetest.Start(b, sitetest.Options{Nodes: 3})
	m := site.WaitLeader(30 * time.Second)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for d := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := workload.New(workload.Options{Seed: uint64(40 + d), Prefix: fmt.Sprintf("rb%d", d)})
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = m.Node.SubmitEvents(context.Background(), g.Receive(100), false)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := m.Node.VerifyRead(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds()), "p99-µs")
}
