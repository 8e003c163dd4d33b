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
// By default the simulator loads the demo data into the site (when it
// has none yet) and works the demo's EU client. With --clients it works
// those clients of the site instead, with the site's own products, and
// loads no demo data but the locations and partners the work needs; the
// devices' user is granted those clients only. Every serial a run
// receives begins with --serial-prefix (default "R") and the run's tag:
// fleets on the sites of one network each take their own prefix, so no
// two sites receive the same serial.
//
// It exits 0 only when the run is consistent. Usage:
//
//	custody-sim --servers http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083 \
//	    --devices 10 --duration 60s --offline 0.3 --conflicts 20 --seed 7
//	custody-sim --servers http://127.0.0.1:8091 --clients acme,globex --serial-prefix FN
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
	"slices"
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
	servers      []string
	devices      int
	duration     time.Duration
	offline      float64
	conflicts    int
	seed         int64
	dir          string
	pace         time.Duration
	user         string
	logLevel     string
	keep         bool
	bench        string
	events       int
	rate         int
	returning    int
	feed         bool
	memory       bool
	clients      []string
	serialPrefix string
}

// defaultSerialPrefix begins the serials of a run without --serial-prefix.
const defaultSerialPrefix = "R"

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var servers, clients string
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
	fs.StringVar(&clients, "clients", "", "comma-separated clients of the site the fleet works, with the site's own products (each client needs one);\n"+
		"the demo data is not loaded then, only the locations and partners the work needs when the site lacks them\n(default: load the demo data and work its EU client)")
	fs.StringVar(&o.serialPrefix, "serial-prefix", defaultSerialPrefix, "first characters (1 to 4 letters or digits) of every serial the run receives:\n"+
		"fleets on the sites of one network each take their own, so that no two sites receive the same serial")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, c := range strings.Split(clients, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(o.clients, c) {
			o.clients = append(o.clients, c)
		}
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
	case !serialPrefix(o.serialPrefix):
		return o, fmt.Errorf("--serial-prefix %q: 1 to 4 letters or digits", o.serialPrefix)
	case o.bench != "" && (len(o.clients) > 0 || o.serialPrefix != defaultSerialPrefix):
		return o, errors.New("--clients and --serial-prefix are for the simulation, not --bench")
	}
	return o, nil
}

func serialPrefix(s string) bool {
	if len(s) < 1 || len(s) > 4 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
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
