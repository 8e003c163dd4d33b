package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// inSite runs one site node in this process with the sync endpoint on
// its API: the simulator's own test, without building binaries.
func inSite(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raftAddr := rl.Addr().String()
	rl.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: t.TempDir(), RaftAddr: raftAddr, HTTPAddr: ln.Addr().String(),
		Bootstrap: true, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ep := syncsite.NewEndpoint(syncsite.New(node, syncsite.Config{}), syncsite.EndpointConfig{TrustHello: true})
	srv := api.New(api.Config{Node: node, Logger: log, Before: ep.Mount})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = node.Serve(ctx) })
	wg.Go(func() { _ = ep.Serve(ctx) })
	wg.Go(func() { _ = srv.ServeListener(ctx, ln) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for ok, _ := node.Ready(); !ok || !node.IsLeader(); ok, _ = node.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // the seed records
	return "http://" + ln.Addr().String()
}

func TestSimOnOneNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a fleet for several seconds")
	}
	url := inSite(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--servers", url, "--devices", "4", "--duration", "12s", "--offline", "0.3",
		"--conflicts", "6", "--seed", "7", "--pace", "100ms", "--dir", t.TempDir()}, &out, &errb)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	t.Logf("output:\n%s\nstderr:\n%s", out.String(), errb.String())
	var rep report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the report: %v", err)
	}
	if code != 0 || !rep.Consistent || rep.Devices != 4 || rep.ConflictsMade != 6 || rep.Events == 0 || rep.ExceptionsFound < 6 {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
}

// With --clients and --serial-prefix the fleet works the site's own
// clients with the site's own products, every serial it receives begins
// with the prefix, and the site's record and clients stay the site's.
func TestSimOnTheSiteClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a fleet for several seconds")
	}
	url := inSite(t)
	ctx := context.Background()
	adm := newSite([]string{url}, "admin")
	gtins := map[string]string{"acme": "00300010123455", "globex": "00300020123452"}
	do := func(method, path string, body any) {
		t.Helper()
		if err := adm.do(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	// Without an SSCC prefix the devices could not pack: refused before
	// anything is loaded.
	do("PUT", "/api/v1/site", master.Site{ID: "north", Name: "North DC"})
	var errb0 bytes.Buffer
	if code := run(ctx, []string{"--servers", url, "--devices", "2", "--duration", "1s", "--dir", t.TempDir(), "--clients", "acme"}, io.Discard, &errb0); code != 1 ||
		!strings.Contains(errb0.String(), "no SSCC prefix") {
		t.Fatalf("a site without an SSCC prefix: exit %d, %s", code, errb0.String())
	}
	do("PUT", "/api/v1/site", master.Site{ID: "north", Name: "North DC", SSCCPrefix: "0300010"})
	for _, c := range []string{"acme", "globex", "initech"} {
		do("PUT", "/api/v1/clients/"+c, map[string]any{"name": c})
	}
	for c, g := range gtins {
		do("PUT", "/api/v1/products/"+g, map[string]any{"client": c, "name": "Pill of " + c, "companyPrefixLen": 7})
	}
	// A user of the site named like the demo's operator stays as it is.
	do("PUT", "/api/v1/users/op2", master.User{ID: "op2", Name: "Site's own", Role: master.RoleOperator, Clients: []string{"initech"}})
	var out, errb bytes.Buffer
	code := run(ctx, []string{"--servers", url, "--devices", "3", "--duration", "8s", "--offline", "0.2", "--conflicts", "2",
		"--seed", "3", "--pace", "100ms", "--dir", t.TempDir(), "--clients", "acme, globex", "--serial-prefix", "FN"}, &out, &errb)
	t.Logf("output:\n%s\nstderr:\n%s", out.String(), errb.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the report: %v", err)
	}
	if code != 0 || !rep.Consistent || rep.ConflictsMade != 2 || rep.Shortages != 3 || rep.Events == 0 {
		t.Fatalf("exit %d, report %+v", code, rep)
	}

	var site master.Site
	if err := adm.get(ctx, "/api/v1/site", &site); err != nil || site.ID != "north" {
		t.Fatalf("the site's record after the run: %+v %v", site, err)
	}
	var clients list[master.Client]
	if err := adm.get(ctx, "/api/v1/clients", &clients); err != nil || len(clients.Items) != 3 {
		t.Fatalf("the site's clients after the run: %+v %v", clients.Items, err)
	}
	var op2 master.User
	if err := adm.get(ctx, "/api/v1/users/op2", &op2); err != nil || op2.Name != "Site's own" || len(op2.Clients) != 1 || op2.Clients[0] != "initech" {
		t.Fatalf("the site's op2 after the run: %+v %v", op2, err)
	}
	units, err := all[unit.State](ctx, adm, "/api/v1/units")
	if err != nil {
		t.Fatal(err)
	}
	received, shipped := map[string]int{}, map[string]int{}
	for _, u := range units {
		if !strings.HasPrefix(u.Key.Serial(), "FN") && !u.Key.IsSSCC() {
			t.Errorf("unit %s: a serial without the run's prefix", u.Key)
		}
		if !u.Key.IsSSCC() && u.Key.GTIN() != gtins[u.Client] {
			t.Errorf("unit %s of %s: not the client's product", u.Key, u.Client)
		}
		if u.Status != unit.StatusExpected && !u.Key.IsSSCC() {
			received[u.Client]++
		}
		if u.Status == unit.StatusShipped && !u.Key.IsSSCC() {
			shipped[u.Client]++
		}
	}
	if received["acme"] == 0 || received["globex"] == 0 || len(received) != 2 {
		t.Fatalf("units received per client: %v", received)
	}
	if shipped["acme"] == 0 || shipped["globex"] == 0 {
		t.Fatalf("units shipped per client: %v", shipped)
	}
}

func TestParseFleetOptions(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		clients []string
		prefix  string
		bad     bool
	}{
		{args: nil, prefix: "R"},
		{args: []string{"--clients", "acme,globex,acme", "--serial-prefix", "FN"}, clients: []string{"acme", "globex"}, prefix: "FN"},
		{args: []string{"--clients", " acme , "}, clients: []string{"acme"}, prefix: "R"},
		{args: []string{"--serial-prefix", ""}, bad: true},
		{args: []string{"--serial-prefix", "ABCDE"}, bad: true},
		{args: []string{"--serial-prefix", "A-1"}, bad: true},
		{args: []string{"--bench", "online", "--clients", "acme"}, bad: true},
		{args: []string{"--bench", "online", "--serial-prefix", "X"}, bad: true},
	} {
		o, err := parse(tc.args, io.Discard)
		switch {
		case tc.bad && err == nil:
			t.Errorf("%q: accepted", tc.args)
		case !tc.bad && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case !tc.bad && (!slices.Equal(o.clients, tc.clients) || o.serialPrefix != tc.prefix):
			t.Errorf("%q: clients %q prefix %q", tc.args, o.clients, o.serialPrefix)
		}
	}
}

// A serial longer than GS1's 20 characters is refused when the plan is
// laid out, not by the site in the middle of the run.
func TestPlanRefusesLongSerials(t *testing.T) {
	o, err := parse([]string{"--devices", "999", "--conflicts", "0", "--serial-prefix", "ABCD", "--duration", "1h", "--pace", "10ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) // a tag of 8 characters
	if _, err := newPlan(o, start); err == nil || !strings.Contains(err.Error(), "longer than 20") {
		t.Fatalf("newPlan: %v", err)
	}
	o.serialPrefix, o.duration, o.devices = "R", time.Minute, 10
	pl, err := newPlan(o, start)
	if err != nil {
		t.Fatal(err)
	}
	if k := pl.work[9].units[0]; !strings.HasPrefix(k.Serial(), "R"+pl.tag+"D9U0") {
		t.Fatalf("a default serial: %s", k)
	}
}

func TestBenchModes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks for several seconds")
	}
	url := inSite(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"return", []string{"--bench", "return", "--events", "3000"}},
		{"online", []string{"--bench", "online", "--devices", "4", "--rate", "400", "--duration", "2s"}},
		{"mixed", []string{"--bench", "mixed", "--devices", "3", "--returning", "2", "--events", "1000", "--rate", "300", "--duration", "3s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"--servers", url, "--dir", t.TempDir()}, tc.args...), &out, &errb)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			var res benchResult
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || code != 0 {
				t.Fatalf("exit %d, %v\n%s\n%s", code, err, out.String(), errb.String())
			}
			t.Logf("%s", lines[len(lines)-1])
			if res.Events == 0 || res.AckedPerSec <= 0 || tc.name != "return" && res.P99ms <= 0 {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

// A device signs in only once its replica holds the user: while it
// waits, no sign-in is attempted, so no wrong PIN is counted against the
// device (enough of them would lock it out).
func TestSignInWaitsForTheUser(t *testing.T) {
	fix, err := demo.Build(demo.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	const user = "op2"
	var u master.User
	for _, x := range fix.Snapshot.Users {
		if x.ID == user {
			u = x
		}
	}
	if u.PIN == nil {
		t.Fatalf("the demo data has no user %s with a PIN", user)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := openHandheld(0, "sim-dev-0", t.TempDir(), []string{"ws://127.0.0.1:1/unused"}, user, log)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	// failures counts the wrong PINs on record, the device's and the user's.
	failures := func() int {
		t.Helper()
		var dev, mine store.PINFailures
		err := h.st.View(func(tx *store.Tx) error {
			var err error
			if dev, err = tx.PINFailures(""); err != nil {
				return err
			}
			mine, err = tx.PINFailures(user)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return dev.Count + mine.Count
	}

	// The user never arrives: the wait ends with the context, and the
	// device has no wrong PIN on record.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err = h.signIn(ctx, fix.PIN(user))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sign-in without the user: %v, want the context's end", err)
	}
	if f := failures(); f != 0 {
		t.Fatalf("waiting for the user counted %d wrong PINs", f)
	}

	// The user arrives while the device waits: it signs in, still with
	// no wrong PIN on record.
	done := make(chan error, 1)
	go func() { done <- h.signIn(context.Background(), fix.PIN(user)) }()
	if err := h.st.ApplyChanges(&master.Snapshot{Users: []master.User{u}}, nil, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("sign-in once the user is known: %v", err)
	}
	if h.eng.User() == nil || h.eng.User().ID != user {
		t.Fatalf("signed in as %v, want %s", h.eng.User(), user)
	}
	if f := failures(); f != 0 {
		t.Fatalf("sign-in counted %d wrong PINs", f)
	}
}
