// Package notifyclock keeps the 24-hour clock of suspect product
// investigations: once product is found illegitimate, FDA (Form 3911)
// and the trading partners are to be notified within 24 hours. The FSM
// has no clock, so the leader watches: an investigation whose time ran
// out without the FDA notification marked sent gets the overdue step
// (command.ActionOverdue), which apply checks against the finding's time
// and turns into one high-severity exception. A step proposed twice (a
// leader change) raises nothing again.
package notifyclock

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Node is what the watcher needs from a cluster node.
type Node interface {
	IsLeader() bool
	State() *state.Store
	Propose(ctx context.Context, data []byte, forwarded bool) (json.RawMessage, error)
}

// Config sets up a watcher.
type Config struct {
	Node   Node
	Logger *slog.Logger
	Every  time.Duration    // how often the leader looks (default one minute)
	Now    func() time.Time // default time.Now
}

// Watcher proposes the overdue step of investigations whose clock ran out.
type Watcher struct{ cfg Config }

// New returns a watcher; Serve runs it.
func New(cfg Config) *Watcher {
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Watcher{cfg: cfg}
}

// Serve looks every cfg.Every while this node leads, until ctx ends.
func (w *Watcher) Serve(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !w.cfg.Node.IsLeader() {
			continue
		}
		if _, err := w.Step(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("notification clock", "err", err)
		}
	}
}

// Step proposes the overdue step for every investigation whose clock
// ran out at now and that has none yet, and returns how many it proposed.
func (w *Watcher) Step(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	var due []string
	err := w.cfg.Node.State().View(func(r *state.Reader) error {
		list, err := r.Investigations(func(v *state.Investigation) bool {
			return v.Status == state.InvestigationIllegitimate && v.OverdueAt == 0 && v.Illegitimate != 0 &&
				!slices.ContainsFunc(v.Notices, func(n state.Notice) bool { return n.To == state.NoticeFDA }) &&
				!now.Before(v.Illegitimate.Time().Add(state.NotifyWithin))
		})
		for _, v := range list {
			due = append(due, v.ID)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		ev, err := event.NewID(now, rand.Reader)
		if err != nil {
			return n, err
		}
		data, err := command.EncodeJSON(command.TypeInvestigation, command.InvestigationStep{ID: id, Action: command.ActionOverdue,
			By: "site", At: hlc.FromTime(now), Event: ev})
		if err != nil {
			return n, err
		}
		if _, err := w.cfg.Node.Propose(ctx, data, false); err != nil {
			return n, fmt.Errorf("investigation %s: %w", id, err)
		}
		w.cfg.Logger.Warn("FDA notification overdue", "investigation", id)
		n++
	}
	return n, nil
}
