package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
)

type submitAnswer struct {
	Verdicts []struct {
		ID     event.ID `json:"id"`
		Status string   `json:"status"`
		Reason string   `json:"reason"`
	} `json:"verdicts"`
}

// alive is the set of nodes writers may use.
type alive struct {
	mu    sync.Mutex
	nodes []*procs.Server
}

func (a *alive) pick(r *rand.Rand) *procs.Server {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodes[r.IntN(len(a.nodes))]
}

func (a *alive) remove(s *procs.Server) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, n := range a.nodes {
		if n == s {
			a.nodes = append(a.nodes[:i], a.nodes[i+1:]...)
			return
		}
	}
}

func (a *alive) set(ns []*procs.Server) {
	a.mu.Lock()
	a.nodes = append([]*procs.Server(nil), ns...)
	a.mu.Unlock()
}

// TestClusterSurvivesLeaderKill runs three custody-server processes,
// writes through followers, SIGKILLs the leader under load, and checks
// that writes resume, that no acknowledged event is lost or applied
// twice, that the survivors agree, and that the killed node catches up
// when it comes back.
func TestClusterSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	bin := procs.Build(t, t.TempDir(), "github.com/custodyhq/custody/server/cmd/custody-server")
	nodes := procs.StartCluster(t, bin, 3)
	defer func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("--- %s log tail:\n%s", n.ID, n.Proc.Tail(3000))
			}
		}
	}()
	adm := procs.Client(nodes[0], "admin")
	var st procs.Status
	if err := adm.Get("/api/v1/cluster/status", &st); err != nil {
		t.Fatal(err)
	}
	var leader *procs.Server
	var followers []*procs.Server
	for _, n := range nodes {
		if n.ID == st.Leader {
			leader = n
		} else {
			followers = append(followers, n)
		}
	}
	if leader == nil {
		t.Fatalf("no leader in %+v", st)
	}

	targets := &alive{}
	targets.set(followers)
	const writers, batch = 8, 50
	var (
		stop     atomic.Bool
		killedAt atomic.Int64 // unix nanos
		firstAck atomic.Int64 // first ack after the kill, unix nanos
		acked    atomic.Int64
		wg       sync.WaitGroup
		failures = make(chan error, writers)
		sent     = make([][]event.Event, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := workload.New(workload.Options{Seed: uint64(w + 1), Devices: 1, Prefix: fmt.Sprintf("e2e-%d", w),
				GTIN: workload.GTIN(w)})
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for !stop.Load() {
				evs := g.Receive(batch)
				for attempt := 0; ; attempt++ {
					n := targets.pick(r)
					var ans submitAnswer
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					err := procs.Client(n, "admin").Do(ctx, "POST", "/api/v1/events", map[string]any{"events": evs}, &ans)
					cancel()
					if err == nil {
						for i, v := range ans.Verdicts {
							if v.ID != evs[i].ID || (v.Status != "applied" && v.Status != "duplicate") {
								failures <- fmt.Errorf("writer %d: verdict %d: %+v", w, i, v)
								return
							}
						}
						if len(ans.Verdicts) != len(evs) {
							failures <- fmt.Errorf("writer %d: %d verdicts for %d events", w, len(ans.Verdicts), len(evs))
							return
						}
						sent[w] = append(sent[w], evs...)
						acked.Add(int64(len(evs)))
						if killedAt.Load() != 0 {
							firstAck.CompareAndSwap(0, time.Now().UnixNano())
						}
						break
					}
					var he *procs.HTTPError
					// 503: no leader yet; 502: the leader took the forwarded
					// write but its answer was lost (it may be applied).
					// Both are resent; the checks below prove no event is
					// applied twice.
					if errors.As(err, &he) && he.Status != 503 && he.Status != 502 && he.Status != 500 {
						failures <- fmt.Errorf("writer %d: %v", w, err)
						return
					}
					if attempt > 600 {
						failures <- fmt.Errorf("writer %d: gave up: %v", w, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}

	time.Sleep(4 * time.Second)
	before := acked.Load()
	if before == 0 {
		stop.Store(true)
		wg.Wait()
		t.Fatal("no write was acknowledged before the kill")
	}
	targets.set(followers)
	killedAt.Store(time.Now().UnixNano())
	leader.Proc.Kill()
	t.Logf("killed leader %s after %d acknowledged events", leader.ID, before)
	procs.WaitFor(t, 30*time.Second, "writes to resume after the kill", func() bool { return firstAck.Load() != 0 })
	t.Logf("first acknowledged write %s after the kill", time.Duration(firstAck.Load()-killedAt.Load()).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Fatal(err)
	}
	after := acked.Load() - before
	if after == 0 {
		t.Fatal("no write acknowledged after the kill")
	}
	t.Logf("%d events acknowledged in all, %d after the kill", acked.Load(), after)

	// Survivors agree.
	var survivors []*procs.Server
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	waitSameHash(t, survivors)

	// No acknowledged event lost, none applied twice.
	checkEvents(t, survivors[0], sent)

	// The killed node comes back and catches up.
	leader.Start(t)
	waitSameHash(t, nodes)
}

type hashAnswer struct {
	Applied uint64 `json:"applied"`
	Hash    string `json:"hash"`
}

func waitSameHash(t *testing.T, nodes []*procs.Server) {
	t.Helper()
	var last []hashAnswer
	procs.WaitFor(t, 60*time.Second, "identical state hashes", func() bool {
		last = last[:0]
		for _, n := range nodes {
			var h hashAnswer
			if err := procs.Client(n, "admin").Get("/api/v1/cluster/hash", &h); err != nil {
				return false
			}
			last = append(last, h)
		}
		for _, h := range last[1:] {
			if h != last[0] {
				return false
			}
		}
		return true
	})
	t.Logf("%d nodes agree: applied %d, hash %s", len(nodes), last[0].Applied, last[0].Hash[:16])
}

func checkEvents(t *testing.T, n *procs.Server, sent [][]event.Event) {
	t.Helper()
	c := procs.Client(n, "admin")
	var devs struct {
		Items []struct {
			Device string `json:"device"`
			Seq    uint64 `json:"seq"`
		} `json:"items"`
	}
	if err := c.Get("/api/v1/devices", &devs); err != nil {
		t.Fatal(err)
	}
	marks := map[string]uint64{}
	for _, d := range devs.Items {
		marks[d.Device] = d.Seq
	}
	total := 0
	var all []event.Event
	for w, evs := range sent {
		total += len(evs)
		all = append(all, evs...)
		if len(evs) == 0 {
			continue
		}
		last := evs[len(evs)-1]
		if marks[last.Device] != last.Seq {
			t.Fatalf("writer %d: device mark %d, last acknowledged sequence %d", w, marks[last.Device], last.Seq)
		}
	}
	var units struct {
		Items []struct {
			Key     event.Key `json:"key"`
			Version uint64    `json:"version"`
		} `json:"items"`
	}
	// Pages of at most 100,000 units: a fast run acknowledges more.
	for after := ""; ; {
		var page struct {
			Items []struct {
				Key     event.Key `json:"key"`
				Version uint64    `json:"version"`
			} `json:"items"`
			Next string `json:"next"`
		}
		if err := c.Get("/api/v1/units?limit=100000&after="+url.QueryEscape(after), &page); err != nil {
			t.Fatal(err)
		}
		units.Items = append(units.Items, page.Items...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(units.Items) != total {
		t.Fatalf("%d units stored for %d acknowledged receipts", len(units.Items), total)
	}
	for _, u := range units.Items {
		if u.Version != 1 {
			t.Fatalf("unit %s at version %d: an event was applied twice", u.Key, u.Version)
		}
	}
	// Every acknowledged event is in its unit's history exactly once (a sample).
	r := rand.New(rand.NewPCG(9, 9))
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	for range 100 {
		ev := all[r.IntN(len(all))]
		var view struct {
			History []struct {
				Event struct {
					ID event.ID `json:"id"`
				} `json:"event"`
			} `json:"history"`
		}
		if err := c.Get("/api/v1/units/"+string(ev.Subjects[0].Key), &view); err != nil {
			t.Fatalf("unit of acknowledged event %s: %v", ev.ID, err)
		}
		if len(view.History) != 1 || view.History[0].Event.ID != ev.ID {
			t.Fatalf("history of %s: %+v", ev.Subjects[0].Key, view.History)
		}
	}
}
