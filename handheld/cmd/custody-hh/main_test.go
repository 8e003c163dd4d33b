package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	snap := filepath.Join(dir, "snap.json")
	data := filepath.Join(dir, "data")
	do := func(stdin string, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(args, strings.NewReader(stdin), &out, log); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	do("", "demo-snapshot", "-o", snap, "-cases", "2", "-units", "3")
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	var s master.Snapshot
	if err := json.Unmarshal(b, &s); err != nil || len(s.ASNs) != 2 || len(s.ASNs[0].Items) != 1+2+6 {
		t.Fatalf("snapshot: %v %d", err, len(s.ASNs))
	}
	out := do("", "load", "-data", data, "-device", "hh-t", snap)
	if !strings.Contains(out, `"units":`) {
		t.Fatalf("load: %s", out)
	}
	pallet := s.ASNs[0].Items[0].Key
	unit := s.ASNs[0].Items[2]
	script := strings.Join([]string{
		"login op2 2222",
		"receive " + demo.ASNUS,
		strings.ReplaceAll(string(demo.KeyScan(unit.Key, unit.Lot, unit.Expiry)), "\x1d", "<GS>"),
		string(demo.SSCCScan(pallet.SSCCValue())),
		"hold damaged dropped",
		string(demo.SSCCScan(pallet.SSCCValue())),
	}, "\n")
	out = do(script, "run", "-data", data, "-device", "hh-t", "-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("run: %s", out)
	}
	for i, l := range lines {
		var r struct{ Verdict string }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Verdict != "accepted" {
			t.Fatalf("line %d: %s", i, l)
		}
	}
	out = do("", "outbox", "-data", data, "-device", "hh-t")
	evs := strings.Split(strings.TrimSpace(out), "\n")
	if len(evs) != 3 {
		t.Fatalf("outbox: %s", out)
	}
	var last event.Event
	if err := json.Unmarshal([]byte(evs[2]), &last); err != nil || last.Kind != event.KindHold || last.Seq != 3 {
		t.Fatalf("outbox event: %v %+v", err, last)
	}
	out = do("", "ack", "-data", data, "-device", "hh-t", strconv.FormatUint(uint64(last.Epoch), 10), "2")
	if !strings.Contains(out, `"pruned":2`) {
		t.Fatalf("ack: %s", out)
	}
	if out = do("", "outbox", "-data", data, "-device", "hh-t"); strings.Count(out, "\n") != 1 {
		t.Fatalf("outbox after ack: %s", out)
	}
	if err := run([]string{"bogus"}, nil, io.Discard, log); err == nil {
		t.Fatal("bogus command accepted")
	}
}
