package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Console benchmarks over a big state. CUSTODY_BENCH_CONSOLE_UNITS sets
// how many units are received (default 200000) and
// CUSTODY_BENCH_CONSOLE_MIXED how many mixed events (picks, packs,
// holds, conflicts) follow (default 100000). The state is built once
// through the command processor (the log without raft) under
// CUSTODY_BENCH_DIR (default the system temp dir) and reused.

// logNode is the console's Node over a processor: the log without raft
// (a protocol seam; the state and the processor are the real ones).
type logNode struct {
	st  *state.Store
	mu  sync.Mutex
	p   *command.Processor
	idx uint64
}

func (n *logNode) State() *state.Store { return n.st }
func (n *logNode) IsLeader() bool      { return true }

func (n *logNode) apply(data []byte) any {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.idx++
	return n.p.Apply([]command.Entry{{Index: n.idx, Data: data}})[0]
}

func (n *logNode) Propose(_ context.Context, data []byte, _ bool) (json.RawMessage, error) {
	res := n.apply(data)
	if err, ok := res.(error); ok {
		return nil, err
	}
	return json.Marshal(res)
}

func (n *logNode) SubmitEvents(_ context.Context, evs []event.Event, _ bool) ([]command.Verdict, error) {
	res := n.apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(time.Now()), Events: evs}))
	return res.([]command.Verdict), nil
}

func (n *logNode) ClusterStatus(context.Context, bool) (cluster.Status, error) {
	return cluster.Status{Leader: "n1", Nodes: []cluster.Member{{ID: "n1", State: "leader", Suffrage: "voter"}}}, nil
}

func (n *logNode) SelfStatus(bool) (cluster.Self, error) {
	return cluster.Self{ID: "n1", State: "leader"}, nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

const benchPassword = "bench password 1"

func openLogNode(b *testing.B, dir string) *logNode {
	st, err := state.Open(dir, state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := command.New(st, 0)
	if err != nil {
		b.Fatal(err)
	}
	return &logNode{st: st, p: p, idx: p.Applied()}
}

// benchState builds (once) and opens the big state.
func benchState(b *testing.B) (*logNode, *workload.Gen) {
	b.Helper()
	units, mixed := envInt("CUSTODY_BENCH_CONSOLE_UNITS", 200000), envInt("CUSTODY_BENCH_CONSOLE_MIXED", 100000)
	root := os.Getenv("CUSTODY_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("custody-console-bench-%d-%d", units, mixed))
	g := workload.New(workload.Options{Seed: 3, Devices: 50})
	if _, err := os.Stat(filepath.Join(dir, "complete")); err != nil {
		os.RemoveAll(dir)
		start := time.Now()
		n := openLogNode(b, dir)
		must := func(t command.Type, v any) {
			data, err := command.EncodeJSON(t, v)
			if err != nil {
				b.Fatal(err)
			}
			if err, ok := n.apply(data).(error); ok {
				b.Fatal(err)
			}
		}
		must(command.TypeSite, master.Site{ID: "site", Name: "Bench", GLN: "0614141000005"})
		must(command.TypeClient, master.Client{ID: "acme", Name: "Acme"})
		must(command.TypeProduct, master.Product{GTIN: "00300010123455", Client: "acme", Name: "Pill", CompanyPrefixLen: 7})
		must(command.TypeUser, master.User{ID: "admin", Role: master.RoleAdmin, Clients: []string{"*"}})
		v, err := password.New(benchPassword)
		if err != nil {
			b.Fatal(err)
		}
		must(command.TypePassword, command.SetPassword{User: "admin", Password: v, By: "bench", At: time.Now().UTC()})
		must(command.TypeConsoleKey, command.ConsoleKey{Key: make([]byte, command.ConsoleKeyLen)})
		for done := 0; done < units; done += 500 {
			n.apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(time.Now()), Events: g.Receive(min(500, units-done))}))
		}
		for done := 0; done < mixed; done += 500 {
			n.apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(time.Now()), Events: g.Mixed(min(500, mixed-done))}))
		}
		if err := n.st.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d units and %d mixed events in %s", units, mixed, time.Since(start).Round(time.Second))
	} else {
		// The same unit keys (they are numbered), from devices in a new
		// epoch and with other event ids: events the bench makes take
		// fresh places in the devices' sequences.
		g = workload.New(workload.Options{Seed: 4 + uint64(time.Now().UnixNano()%60000), Devices: 50, Epoch: uint32(time.Now().Unix())})
		g.Know(units)
	}
	n := openLogNode(b, dir)
	b.Cleanup(func() { n.st.Close() })
	return n, g
}

// signedIn is a console over n and a session cookie of the admin.
func signedIn(b *testing.B, n *logNode, tick time.Duration) (*Console, *fiber.App, string) {
	c, err := New(Config{Node: n, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tick: tick})
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Immutable: true}) // as the site's API serves it
	c.Mount(app)
	key, err := c.key()
	if err != nil {
		b.Fatal(err)
	}
	var a state.Account
	if err := n.st.View(func(r *state.Reader) error { var err error; a, err = r.Account("admin"); return err }); err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	cookie := c.encodeSession(key, sessionData{User: "admin", Epoch: a.Epoch, ID: "bench", Issued: now, Last: now})
	return c, app, cookie
}

func get(b *testing.B, app *fiber.App, cookie, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	resp, err := app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %.300s", path, resp.StatusCode, body)
	}
}

// BenchmarkPages is each page's server time over the big state: p50 and
// p99 of the requests a run makes (in-process, through Fiber).
func BenchmarkPages(b *testing.B) {
	n, g := benchState(b)
	c, app, cookie := signedIn(b, n, time.Hour)
	if err := c.floor.step(); err != nil { // the floor's first read
		b.Fatal(err)
	}
	var anX string
	var sizes struct{ units, open int }
	_ = n.st.View(func(r *state.Reader) error {
		p, _ := r.Exceptions(state.ExceptionFilter{Status: unit.ExceptionOpen})
		sizes.open = len(p.Items)
		if len(p.Items) > 0 {
			anX = p.Items[len(p.Items)/2].ID
		}
		return nil
	})
	sizes.units = len(g.Units())
	b.Logf("state: %d units received, %d open exceptions", sizes.units, sizes.open)
	k := g.Units()[len(g.Units())/2]
	pages := []struct{ name, path string }{
		{"floor", "/"},
		{"exceptions", "/exceptions"},
		{"exceptions-high", "/exceptions?severity=high"},
		{"exception", "/exceptions/" + anX},
		{"trace", "/trace?q=" + url.QueryEscape(k.String())},
		{"holds", "/holds"},
		{"recall-lot", "/recall?gtin=00300010123455&lot=L1"},
		{"inbound", "/inbound"},
		{"outbound", "/outbound"},
		{"devices", "/devices"},
		{"site", "/site"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				get(b, app, cookie, p.path)
				times = append(times, time.Since(t0))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[(len(times)*99)/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkFloorEventRate feeds events at a fixed rate (the log without
// raft) while the floor follows the feed every 500 ms with open pages:
// it reports the floor's work per tick (p99), how far it trailed at the
// end, and the messages a page got per second (one per tick at most).
func BenchmarkFloorEventRate(b *testing.B) {
	rate := envInt("CUSTODY_BENCH_FLOOR_RATE", 2000)
	secs := envInt("CUSTODY_BENCH_FLOOR_SECONDS", 10)
	n, g := benchState(b)
	c, _, _ := signedIn(b, n, time.Hour)
	u := &master.User{ID: "admin", Role: master.RoleAdmin, Clients: []string{"*"}}
	for b.Loop() {
		if err := c.floor.step(); err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var sent, applied int
		var refused *command.Verdict
		c.floor.mu.Lock()
		seen0 := c.floor.events
		c.floor.mu.Unlock()
		wg.Go(func() { // 10 batches a second
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for range secs * 10 {
				<-t.C
				vs := n.apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(time.Now()), Events: g.Mixed(rate / 10)})).([]command.Verdict)
				for _, v := range vs {
					if v.Status == command.StatusApplied {
						applied++
					} else if refused == nil {
						refused = &v
					}
				}
				sent += rate / 10
			}
			close(stop)
		})
		var steps []time.Duration
		var msgs int
		tick := time.NewTicker(500 * time.Millisecond)
		start := time.Now()
	loop:
		for {
			select {
			case <-stop:
				break loop
			case <-tick.C:
			}
			t0 := time.Now()
			if err := c.floor.step(); err != nil {
				b.Fatal(err)
			}
			// Each open page renders its view once per changed tick.
			for range 3 {
				v, err := c.floor.view(u)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.pages.fragment("floor", "live", v); err != nil {
					b.Fatal(err)
				}
			}
			msgs++
			steps = append(steps, time.Since(t0))
		}
		elapsed := time.Since(start)
		tick.Stop()
		wg.Wait()
		if applied == 0 { // the floor would have had nothing to follow
			b.Fatalf("no event applied; the first refused: %+v", *refused)
		}
		if err := c.floor.step(); err != nil { // what arrived after the last tick
			b.Fatal(err)
		}
		var index uint64
		_ = n.st.View(func(r *state.Reader) error { index, _ = r.Applied(); return nil })
		c.floor.mu.Lock()
		behind := index - c.floor.after
		seen := c.floor.events - seen0
		c.floor.mu.Unlock()
		b.ReportMetric(float64(applied)/elapsed.Seconds(), "applied/s")
		b.ReportMetric(float64(seen)/elapsed.Seconds(), "unit-changes-seen/s")
		slices.Sort(steps)
		b.ReportMetric(float64(sent)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(steps[len(steps)/2].Microseconds())/1000, "tick-p50-ms")
		b.ReportMetric(float64(steps[(len(steps)*99)/100].Microseconds())/1000, "tick-p99-ms")
		b.ReportMetric(float64(behind), "entries-behind-at-end")
		b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s/page")
	}
}
