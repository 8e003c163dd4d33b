// Command custody-signals measures the counterfeit and diversion signals.
//
//	custody-signals eval --seed N [--events M] [--rate R]
//
// eval generates a labelled supply-chain data set (server/supplychain),
// starts a real one-node site in a temporary directory (raft on
// loopback, Badger, the coalescer, the signals analyzer), replays the
// data through it, watches the exception queue, and prints per pattern
// and overall precision, recall, false alarms per 100,000 clean events
// and the time from a scan reaching the site to its exception. The last
// line of output is one JSON object.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/custodyhq/custody/server/analyzer"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/supplychain"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "custody-signals:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "eval" {
		return errors.New("usage: custody-signals eval --seed N [--events M] [--rate R]")
	}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed of the generated data")
	events := fs.Int("events", 300000, "about how many device events to generate")
	rate := fs.Int("rate", 10000, "events between two injections of one pattern, on average")
	dir := fs.String("dir", "", "data directory for the site (default: a temporary one, removed after)")
	verbose := fs.Bool("v", false, "log the site to stderr")
	explain := fs.Bool("explain", false, "print each false alarm and each missed instance")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	data := supplychain.Generate(supplychain.Options{Seed: *seed, Events: *events, Rate: *rate})
	fmt.Fprintf(stdout, "generated %d events (%d clean), %d labelled, %d steps\n", data.Events, data.Clean, len(data.Labels), len(data.Steps))
	if *dir == "" {
		d, err := os.MkdirTemp("", "custody-signals-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	res, err := evaluate(data, filepath.Join(*dir, "n1"), logger, stdout, *explain)
	if err != nil {
		return err
	}
	res.Seed = *seed
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(b))
	return nil
}

// seen is an exception as the watcher first saw it.
type seen struct {
	x  unit.Exception
	at time.Time
}

// watcher follows the change feed and notes when each exception appears.
type watcher struct {
	st    *state.Store
	after uint64
	mu    sync.Mutex
	xs    map[string]seen
}

func (w *watcher) poll() error {
	var refs []state.FeedRef
	var to uint64
	err := w.st.View(func(r *state.Reader) error {
		var err error
		refs, to, _, err = r.Feed(w.after, 100000)
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	var ids []string
	w.mu.Lock()
	for _, ref := range refs {
		if ref.Kind == state.FeedException {
			if _, ok := w.xs[ref.ID]; !ok {
				ids = append(ids, ref.ID)
			}
		}
	}
	w.mu.Unlock()
	if len(ids) > 0 {
		err = w.st.View(func(r *state.Reader) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, id := range ids {
				x, err := r.Exception(id)
				if err != nil {
					return err
				}
				w.xs[id] = seen{x, now}
			}
			return nil
		})
	}
	w.after = to
	return err
}

func (w *watcher) run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if err := w.poll(); err != nil {
			log.Warn("watch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func evaluate(data *supplychain.Data, dir string, log *slog.Logger, out io.Writer, explain bool) (*supplychain.Result, error) {
	raftAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: dir, RaftAddr: raftAddr, HTTPAddr: httpAddr, Bootstrap: true, Logger: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		node.Close()
	}()
	wg.Add(1)
	go func() { defer wg.Done(); _ = node.Serve(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, _ := node.Ready()
		var site error
		if ok {
			site = node.State().View(func(r *state.Reader) error { _, err := r.Site(); return err })
		}
		if ok && site == nil && node.IsLeader() {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the site did not become ready in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	an := analyzer.New(analyzer.Config{Node: node, Logger: log})
	wg.Add(1)
	go func() { defer wg.Done(); _ = an.Serve(ctx) }()
	w := &watcher{st: node.State(), xs: map[string]seen{}}
	wg.Add(1)
	go func() { defer wg.Done(); w.run(ctx, log) }()

	clock := hlc.NewClock(nil, 0)
	submitted := make(map[event.ID]time.Time, data.Events)
	start := time.Now()
	propose := func(t command.Type, v any) error {
		b, err := command.EncodeJSON(t, v)
		if err != nil {
			return err
		}
		_, err = node.Propose(ctx, b, false)
		return err
	}
	for _, st := range data.Steps {
		for _, c := range st.Clients {
			if err := propose(command.TypeClient, c); err != nil {
				return nil, err
			}
		}
		for _, p := range st.Partners {
			if err := propose(command.TypePartner, p); err != nil {
				return nil, err
			}
		}
		for _, p := range st.Products {
			if err := propose(command.TypeProduct, p); err != nil {
				return nil, err
			}
		}
		if st.ASN != nil {
			for _, c := range command.SplitASN(*st.ASN, "admin", clock.Now()) {
				if err := propose(command.TypeASNChunk, c); err != nil {
					return nil, fmt.Errorf("ASN %s: %w", st.ASN.ID, err)
				}
			}
		}
		if len(st.Events) > 0 {
			now := time.Now()
			for i := range st.Events {
				submitted[st.Events[i].ID] = now
			}
			vs, err := submit(ctx, node, st.Events)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				if v.Status != command.StatusApplied {
					return nil, fmt.Errorf("event %s: %s %s", v.ID, v.Status, v.Reason)
				}
			}
		}
	}
	replay := time.Since(start)
	// Let the analyzer and the watcher catch up.
	deadline = time.Now().Add(60 * time.Second)
	for {
		s := an.Stats()
		if s.Read >= node.Applied()-1 && s.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the analyzer did not catch up: %+v, applied %d", s, node.Applied())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if err := w.poll(); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "replayed in %s (%.0f events/s through the site); analyzer read %d events\n",
		replay.Round(time.Millisecond), float64(data.Events)/replay.Seconds(), an.Stats().Events)
	w.mu.Lock()
	defer w.mu.Unlock()
	var explainTo io.Writer
	if explain {
		explainTo = out
	}
	obs := make([]supplychain.Observed, 0, len(w.xs))
	for _, s := range w.xs {
		obs = append(obs, supplychain.Observed{X: s.x, At: s.at})
	}
	r := supplychain.Score(data, obs, submitted, explainTo)
	r.Analyzed = an.Stats().Events
	r.ReplaySeconds = replay.Seconds()
	for _, p := range supplychain.Patterns() {
		m := r.Patterns[string(p)]
		fmt.Fprintf(out, "%-18s instances %3d  recall %.3f  precision %.3f  false %d  cross %d  detection p50 %d ms max %d ms\n",
			p, m.Instances, m.Recall, m.Precision, m.False, m.Cross, m.DetectionP50ms, m.DetectionMaxMs)
	}
	return r, nil
}

// submit sends one batch, retrying while the site is busy.
func submit(ctx context.Context, node *cluster.Node, evs []event.Event) ([]command.Verdict, error) {
	for {
		vs, err := node.SubmitEvents(ctx, evs, false)
		var re *cluster.RetryError
		if errors.As(err, &re) {
			time.Sleep(re.After)
			continue
		}
		return vs, err
	}
}
