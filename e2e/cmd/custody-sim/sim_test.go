package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/api"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/syncsite"
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
