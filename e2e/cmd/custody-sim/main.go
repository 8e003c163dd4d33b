// Command custody-sim runs a fleet of simulated handhelds against a
// Custody site: each is a real handheld engine with its own Badger data
// directory and a real sync client over websockets. They receive, pick,
// pack, ship and put units on hold on demo data, go offline in scheduled
// windows and make deliberate conflicts (double picks, hold against
// ship, hold against pick) while offline. At the end the simulator
// reads the cluster and every device store back and prints one JSON
// line:
//
//	{"devices":10,"events":…,"acked":…,"lost":0,"duplicated":0,"conflicts_made":20,
//	 "exceptions_found":…,"exceptions_wrong":0,"replicas_agree":true,"consistent":true}
//
// The figures: events and acked are the devices' own outbox counters;
// lost counts acknowledged events (listed from each device's local
// history) that the cluster does not hold under the same device and
// seq; duplicated counts events held twice in a unit's cluster history,
// held under another seq, or a cluster mark beyond what the device
// wrote; conflicts_made counts planned conflicts whose two events are
// both in the cluster; exceptions_wrong counts conflict-rule exceptions
// (DOUBLE_PICK, HOLD_OVERRIDES_PICK, HELD_UNIT_MOVED,
// SHIPPED_WHILE_HELD) more or fewer than the log order of each
// conflict's two events calls for, and any on units no conflict
// explains; replicas_agree compares every device replica's units with
// the cluster's once each replica's cursor has reached the cluster's
// last entry. The run is consistent when nothing is lost, duplicated,
// unacknowledged or wrong, every conflict was made and the replicas
// agree.
//
// It exits 0 only when the run is consistent. Usage:
//
//	custody-sim --servers http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083 \
//	    --devices 10 --duration 60s --offline 0.3 --conflicts 20 --seed 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	servers   []string
	devices   int
	duration  time.Duration
	offline   float64
	conflicts int
	seed      int64
	dir       string
	pace      time.Duration
	user      string
	logLevel  string
	keep      bool
	bench     string
	events    int
	rate      int
	returning int
	feed      bool
	memory    bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var servers string
	fs := flag.NewFlagSet("custody-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&servers, "servers", "http://127.0.0.1:8081", "comma-separated base URLs of the site's nodes")
	fs.IntVar(&o.devices, "devices", 10, "simulated handhelds")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long the devices work")
	fs.Float64Var(&o.offline, "offline", 0.3, "fraction of the run each device spends offline (one window)")
	fs.IntVar(&o.conflicts, "conflicts", 20, "deliberate conflicts to make while devices are offline")
	fs.Int64Var(&o.seed, "seed", 7, "seed of the demo data and the schedule")
	fs.StringVar(&o.dir, "dir", "", "directory for the devices' data (default: a new temporary directory, removed at the end)")
	fs.DurationVar(&o.pace, "pace", 250*time.Millisecond, "pause between two scans of one device")
	fs.StringVar(&o.user, "api-user", "admin", "site user the simulator loads data and reads back as")
	fs.StringVar(&o.logLevel, "log-level", "warn", "debug, info, warn or error (stderr)")
	fs.BoolVar(&o.keep, "keep", false, "keep the devices' data directory")
	fs.StringVar(&o.bench, "bench", "", "benchmark instead of simulating: return (one device returns with --events queued), online (--devices push together), mixed")
	fs.IntVar(&o.events, "events", 20000, "events queued per returning device for --bench return and mixed")
	fs.IntVar(&o.rate, "rate", 20000, "events per second all online devices append together, for --bench online and mixed")
	fs.IntVar(&o.returning, "returning", 10, "devices that come back with --events queued, for --bench mixed")
	fs.BoolVar(&o.feed, "feed", false, "benchmark devices follow the down-feed too")
	fs.BoolVar(&o.memory, "memory", false, "benchmark devices keep their outbox in memory (online, mixed)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimRight(strings.TrimSpace(s), "/"); s != "" {
			o.servers = append(o.servers, s)
		}
	}
	switch {
	case len(o.servers) == 0:
		return o, errors.New("--servers names no server")
	case o.devices < 1 || o.devices > 999:
		return o, errors.New("--devices must be 1 to 999")
	case o.conflicts > 0 && o.devices < 2:
		return o, errors.New("conflicts need at least two devices")
	case o.offline < 0 || o.offline > 0.8:
		return o, errors.New("--offline must be within 0 and 0.8")
	case o.duration <= 0 || o.pace <= 0:
		return o, errors.New("--duration and --pace must be positive")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "custody-sim:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(stderr, "custody-sim: --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if o.dir == "" {
		d, err := os.MkdirTemp("", "custody-sim-")
		if err != nil {
			fmt.Fprintln(stderr, "custody-sim:", err)
			return 1
		}
		o.dir = d
		if !o.keep {
			defer os.RemoveAll(d)
		}
	}
	if o.bench != "" {
		return runBench(ctx, o, log, stdout, stderr)
	}
	r, err := newSim(o, log, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "custody-sim:", err)
		return 1
	}
	rep, err := r.run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "custody-sim:", err)
		return 1
	}
	fmt.Fprintln(stdout, rep.json())
	if !rep.Consistent {
		return 1
	}
	return 0
}
