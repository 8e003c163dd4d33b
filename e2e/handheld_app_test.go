package e2e

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/handheld/ui"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/sync/client"
)

// TestHandheldAppOfflineThenOnline: the handheld app works while its
// site is down — receipts by typed scans, the header saying offline with
// the events waiting — and when the site (a real custody-server
// process) comes back, the sync client pushes the outbox, the queue
// clears and the header says online with nothing waiting.
func TestHandheldAppOfflineThenOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a custody-server process")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	node := procs.StartCluster(t, srvBin, 1, "--insecure-devices")[0]
	if err := node.Proc.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(filepath.Join(dir, "hh"), store.Options{Device: "hh-app-1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(st, engine.Config{DeviceNumber: 9, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Load(&fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	dev, err := syncdev.New(eng, filepath.Join(dir, "hh"))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := client.New(dev, client.Config{URL: "ws://" + node.HTTP + syncsite.Path, Logger: log,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cli.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	a := test.NewTempApp(t)
	w := a.NewWindow("custody")
	w.Resize(fyne.NewSize(480, 800))
	link := &ui.Link{Dev: dev, Client: cli}
	u, err := ui.New(a, w, ui.Config{Engine: eng, Sync: link, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Stop()
	u.SignIn("op1", fx.PIN("op1"))
	u.Wait()
	if u.Screen() != "home" {
		t.Fatalf("screen %s: %s", u.Screen(), u.Reason())
	}
	var cases []string
	a1 := fx.ASN(demo.ASNUS)
	for _, it := range a1.Items {
		if it.Parent != "" && it.Key.IsContainer() {
			cases = append(cases, strings.ReplaceAll(string(fx.ScanOf(it.Key)), "\x1d", "<GS>"))
		}
	}
	for _, label := range []string{"Receive", demo.ASNUS} {
		if !u.Tap(label) {
			t.Fatalf("no %q on %s", label, u.Screen())
		}
		u.Wait()
	}
	for _, c := range cases[:2] {
		u.Type(c)
		u.Wait()
		if u.Kind() != "accepted" {
			t.Fatalf("offline receipt: %s %q", u.Kind(), u.Reason())
		}
	}
	header := strings.Join(u.HeaderTexts(), " | ")
	if !strings.Contains(header, "OFFLINE") || !strings.Contains(header, "2 events waiting") {
		t.Fatalf("offline header: %s", header)
	}

	node.Start(t)
	procs.WaitFor(t, 60*time.Second, "the outbox sent", func() bool {
		s := link.State()
		return s.Online && s.Queued == 0
	})
	u.SyncChanged()
	header = strings.Join(u.HeaderTexts(), " | ")
	if !strings.Contains(header, "ONLINE") || !strings.Contains(header, "nothing waiting") || strings.Contains(header, "never") {
		t.Fatalf("online header: %s", header)
	}
	var marks struct {
		Items []struct {
			Device string
			Seq    uint64
		}
	}
	if err := procs.Client(node, "admin").Get("/api/v1/devices", &marks); err != nil {
		t.Fatal(err)
	}
	if len(marks.Items) != 1 || marks.Items[0].Device != "hh-app-1" || marks.Items[0].Seq != 2 {
		t.Fatalf("device marks %+v, want hh-app-1 at 2", marks.Items)
	}
}
