package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/sync/client"
)

// syncOptions are the sync command's flags.
type syncOptions struct {
	server string        // API or sync URL; "" for the default
	wait   time.Duration // give up after this long (0: no limit)
	caFile string        // the site CA for an unenrolled device over https
}

// syncTarget is the sync URL and TLS configuration for the device in
// dir (see syncdev.Target).
func syncTarget(dir string, o syncOptions) (string, *tls.Config, error) {
	return syncdev.Target(dir, o.server, o.caFile)
}

// syncOnce connects to the site until the outbox is empty and the
// replica follows the site's feed, or until the wait passes,
// printing the sync state as it changes, then what the site said.
func syncOnce(e *engine.Engine, dir string, o syncOptions, stdout io.Writer, log *slog.Logger) error {
	dev, err := syncdev.New(e, dir)
	if err != nil {
		return err
	}
	url, tlsCfg, err := syncTarget(dir, o)
	if err != nil {
		return err
	}
	wait := o.wait
	enc := json.NewEncoder(stdout)
	var last client.State
	cli, err := client.New(dev, client.Config{URL: url, TLSConfig: tlsCfg, Agent: "custody-hh", Logger: log,
		MinBackoff: 300 * time.Millisecond, MaxBackoff: 5 * time.Second,
		OnState: func(s client.State) {
			if s.Online != last.Online || s.Queued != last.Queued || s.Problem != last.Problem {
				_ = enc.Encode(map[string]any{"online": s.Online, "queued": s.Queued, "cluster": s.Cluster, "problem": s.Problem, "error": s.LastError})
			}
			last = s
		}})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	done := make(chan struct{})
	go func() { _ = cli.Serve(ctx); close(done) }()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	synced := false
wait:
	for !synced {
		select {
		case <-ctx.Done():
		case <-t.C:
			if st := cli.State(); st.Refused {
				// The site refused this device (certificate missing,
				// unknown or revoked): retrying will not cure it.
				break wait
			}
			first, lastSeq, err1 := dev.Outbox()
			cur, err2 := dev.Cursor()
			synced = err1 == nil && err2 == nil && first > lastSeq && !cur.IsZero() && cli.State().Online
			continue
		}
		break
	}
	stop()
	<-done
	first, lastSeq, err := dev.Outbox()
	if err != nil {
		return err
	}
	cur, _ := dev.Cursor()
	if err := enc.Encode(map[string]any{"synced": synced, "pending": lastSeq + 1 - first, "cursor": cur.String(),
		"messages": len(dev.Messages())}); err != nil {
		return err
	}
	if !synced {
		return errors.New("not synced: " + cli.State().LastError)
	}
	return nil
}

// printMessages lists what the site said about this device's events.
func printMessages(e *engine.Engine, dir string, stdout io.Writer) error {
	dev, err := syncdev.New(e, dir)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, m := range dev.Messages() {
		if err := enc.Encode(map[string]any{"seq": m.Seq, "kind": m.Kind(), "text": m.Text, "exceptions": m.Exceptions,
			"at": m.At.Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	if len(dev.Messages()) == 0 {
		fmt.Fprintln(os.Stderr, "no messages from the site")
	}
	return nil
}
