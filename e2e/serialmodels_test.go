package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/server/analyzer"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/sync/client"
)

// waitUntil polls cond until it holds, failing after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSyncedDeviceFlagsForgedSerialOffline: a site (one raft node on
// loopback, Badger, its analyzer and the sync endpoint on a real
// websocket) learns a product's serials from an ASN and publishes the
// model; a handheld (Badger store, engine, sync client) that synced
// once receives a unit with a forged serial while the site is gone and
// flags it with the alert cue and the words that explain it, and a
// genuine serial without.
func TestSyncedDeviceFlagsForgedSerialOffline(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}

	// The site.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raftAddr := raftLn.Addr().String()
	raftLn.Close()
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: t.TempDir(), RaftAddr: raftAddr, HTTPAddr: ln.Addr().String(),
		Bootstrap: true, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	site := syncsite.New(node, syncsite.Config{FeedInterval: 50 * time.Millisecond})
	ep := syncsite.NewEndpoint(site, syncsite.EndpointConfig{TrustHello: true})
	an := analyzer.New(analyzer.Config{Node: node, Logger: log, Poll: 20 * time.Millisecond, Signals: signals.Config{MinSupport: 50}})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	ep.Mount(app)
	siteCtx, stopSite := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = node.Serve(siteCtx) })
	wg.Go(func() { _ = ep.Serve(siteCtx) })
	wg.Go(func() { _ = an.Serve(siteCtx) })
	wg.Go(func() { _ = app.Listener(ln) })
	siteDown := false
	stop := func() {
		if siteDown {
			return
		}
		siteDown = true
		stopSite()
		_ = app.ShutdownWithTimeout(5 * time.Second)
		wg.Wait()
	}
	t.Cleanup(stop)
	waitUntil(t, "a leader", node.IsLeader)

	propose := func(typ command.Type, v any) {
		t.Helper()
		data, err := command.EncodeJSON(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := node.Propose(context.Background(), data, false); err != nil {
			t.Fatalf("propose %d: %v", typ, err)
		}
	}
	snap := &fx.Snapshot
	propose(command.TypeSite, snap.Site)
	for _, c := range snap.Clients {
		propose(command.TypeClient, c)
	}
	for _, p := range snap.Products {
		propose(command.TypeProduct, p)
	}
	for _, l := range snap.Locations {
		propose(command.TypeLocation, l)
	}
	for _, u := range snap.Users {
		propose(command.TypeUser, u)
	}
	asn := fx.ASN(demo.ASNUS)
	cmd := command.ASN{ASN: *asn, User: "admin", At: hlc.NewClock(nil, 0).Now()}
	for range asn.Items {
		id, err := event.NewID(time.Now(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cmd.IDs = append(cmd.IDs, id)
	}
	propose(command.TypeASN, cmd)

	var genuine event.Key
	for _, it := range asn.Items {
		if !it.Key.IsContainer() {
			genuine = it.Key
			break
		}
	}
	gtin := genuine.GTIN()
	var published master.SerialModel
	waitUntil(t, "the site to publish the serial model", func() bool {
		return node.State().View(func(r *state.Reader) (err error) { published, err = r.SerialModel(gtin); return }) == nil
	})
	if published.N < 50 || published.Client != asn.Client {
		t.Fatalf("published model: %d serials, client %q", published.N, published.Client)
	}

	// The handheld: it syncs what a device with nobody signed in holds,
	// op1 signs in from it, and the next sync brings op1's clients.
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "hh"), store.Options{Device: "hh-sig-1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(st, engine.Config{DeviceNumber: 4, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := syncdev.New(eng, filepath.Join(dir, "hh"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := client.New(dev, client.Config{URL: "ws://" + ln.Addr().String() + syncsite.Path, Logger: log,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cliCtx, stopClient := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cli.Serve(cliCtx) }()
	defer func() { stopClient(); <-done }()

	var login engine.Step
	waitUntil(t, "the users on the device", func() bool {
		login, err = eng.Login("op1", fx.PIN("op1"))
		return err == nil && login.Verdict == engine.Accepted
	})
	cli.Notify()
	waitUntil(t, "the serial model on the device", func() bool {
		var m master.SerialModel
		return st.View(func(tx *store.Tx) (err error) { m, err = tx.SerialModel(gtin); return }) == nil && m.N == published.N
	})
	waitUntil(t, "the ASN on the device", func() bool {
		return st.View(func(tx *store.Tx) error { _, err := tx.ASN(demo.ASNUS); return err }) == nil
	})

	// Offline: the site is gone.
	stopClient()
	<-done
	stop()

	if s, err := eng.StartReceive(demo.ASNUS); err != nil || s.Verdict != engine.Accepted {
		t.Fatalf("start receipt: %+v %v", s, err)
	}
	it := asn.Items[0]
	for _, x := range asn.Items {
		if x.Key == genuine {
			it = x
		}
	}
	cases := []struct {
		name    string
		item    engine.Item
		cue     engine.Cue
		suspect bool
	}{
		{"genuine serial", engine.Item{Key: genuine, Lot: it.Lot, Expiry: it.Expiry}, engine.CueOK, false},
		{"forged serial", engine.Item{Key: event.SGTIN(gtin, "ab-c"), Lot: it.Lot, Expiry: it.Expiry}, engine.CueAlert, true},
	}
	for _, c := range cases {
		s, err := eng.ScanItem(c.item)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Cue != c.cue || strings.Contains(s.Reason, "suspicious serial") != c.suspect {
			t.Fatalf("%s: %s %s (%s), want cue %s, suspect %v", c.name, s.Verdict, s.Cue, s.Reason, c.cue, c.suspect)
		}
		if c.suspect && (!strings.Contains(s.Reason, "does not look like the") || !strings.Contains(s.Reason, "`ab-c`")) {
			t.Fatalf("%s: the reason does not explain itself: %s", c.name, s.Reason)
		}
		t.Logf("%s: %s %s: %s", c.name, s.Verdict, s.Cue, s.Reason)
	}
}
