package analyzer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
)

// publish proposes, on the leader, the serial models that moved far
// enough from the ones published (signals.Republish), in commands of at
// most command.MaxSerialModels, each checked as apply will read it and
// against the entry limit before it is proposed. A model whose product
// the site does not know (an ASN before its product) waits. It looks only
// when it read entries since it last did.
func (a *Analyzer) publish(ctx context.Context) error {
	seen := a.next
	if seen == a.checked {
		return nil
	}
	a.mu.Lock()
	var due []master.SerialModel
	minSupport, threshold := a.sig.FormatLimits()
	for _, g := range a.sig.SerialModels() {
		m := a.sig.SerialModel(g)
		if m == nil || !signals.Republish(a.published[g], m.N, minSupport) {
			continue
		}
		due = append(due, signals.ModelRecord(g, "", m, minSupport, threshold))
	}
	a.mu.Unlock()
	if len(due) > 0 {
		// The product's client: who may see the model.
		err := a.cfg.Node.State().View(func(r *state.Reader) error {
			keep := due[:0]
			for _, m := range due {
				p, err := r.Product(m.GTIN)
				if errors.Is(err, state.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				m.Client = p.Client
				keep = append(keep, m)
			}
			due = keep
			return nil
		})
		if err != nil {
			return fmt.Errorf("signals: read products: %w", err)
		}
	}
	for len(due) > 0 {
		n := min(len(due), command.MaxSerialModels)
		data, err := command.EncodeJSON(command.TypeSerialModels, command.SerialModels{Models: due[:n]})
		if err == nil {
			err = command.CheckEntry(data)
		}
		if err == nil && len(data) > event.MaxEntry {
			err = fmt.Errorf("%d bytes, over the entry limit of %d", len(data), event.MaxEntry)
		}
		if err != nil {
			return fmt.Errorf("signals: serial models: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = a.cfg.Node.Propose(pctx, data, false)
		cancel()
		if err != nil {
			return fmt.Errorf("signals: propose %d serial models: %w", n, err)
		}
		a.mu.Lock()
		for _, m := range due[:n] {
			a.published[m.GTIN] = m.N
		}
		a.mu.Unlock()
		due = due[n:]
	}
	a.checked = seen
	return nil
}
