package command

import (
	"errors"
	"fmt"
	"slices"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// recall opens a lot recall: the recall record, and a lot hold under its
// id that every replica and handheld applies to the lot's units at once.
// A recall of a lot already recalled answers the recall as it is.
func (b *batch) recall(v state.Recall) any {
	if v.Client == "" || v.By == "" || v.At == 0 {
		return fmt.Errorf("%w: a recall needs a client, who and when", ErrRejected)
	}
	if err := event.CheckGTIN(v.GTIN); err != nil {
		return fmt.Errorf("%w: recall: %v", ErrRejected, err)
	}
	if v.Lot == "" {
		return fmt.Errorf("%w: a recall names a lot", ErrRejected)
	}
	if err := event.CheckLot(v.Lot); err != nil {
		return fmt.Errorf("%w: recall: %v", ErrRejected, err)
	}
	if err := checkFields(v.Client, v.By, v.Note); err != nil {
		return fmt.Errorf("%w: recall: %v", ErrRejected, err)
	}
	if v.ID != state.RecallID(v.GTIN, v.Lot) {
		return fmt.Errorf("%w: recall of %s lot %s is %s, not %q", ErrRejected, v.GTIN, v.Lot, state.RecallID(v.GTIN, v.Lot), v.ID)
	}
	p, err := b.tx.Product(v.GTIN)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "product")
	}
	if err != nil || p.Client != v.Client {
		return fmt.Errorf("%w: recall: %s is not a product of client %q", ErrRejected, v.GTIN, v.Client)
	}
	old, err := b.tx.Recall(v.ID)
	switch {
	case err == nil:
		return old // one recall per lot: already open
	case !errors.Is(err, state.ErrNotFound):
		must(err, "recall")
	}
	h := master.Hold{ID: v.ID, Client: v.Client, Scope: master.ScopeLot, GTIN: v.GTIN, Lot: v.Lot, Reason: event.HoldRecall,
		Note: v.Note, Active: true, By: v.By, At: v.At}
	if err := h.Validate(); err != nil {
		return fmt.Errorf("%w: recall: %v", ErrRejected, err)
	}
	prev, err := b.tx.Hold(h.ID)
	if err := sameOwner("hold", h.ID, h.Client, prev.Client, err); err != nil {
		return err
	}
	v.Returned = nil
	must(b.tx.PutHold(h), "hold")
	must(b.tx.PutRecall(v), "recall")
	return v
}

// recallReturns counts, in the recall of its lot, a unit a return event
// brought back into the building.
func (b *batch) recallReturns(ev *event.Event, res *unit.Result) {
	if ev.Kind != event.KindReturn {
		return
	}
	for _, s := range res.Subjects {
		if s.Verdict == unit.VerdictRefused || s.Key.IsContainer() {
			continue
		}
		u, err := b.tx.Unit(s.Key)
		must(err, "unit")
		if !u.Known() || u.Lot == "" || u.Status == unit.StatusShipped {
			continue
		}
		r, err := b.tx.Recall(state.RecallID(s.Key.GTIN(), u.Lot))
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		must(err, "recall")
		if r.Client != u.Client || slices.Contains(r.Returned, s.Key) {
			continue
		}
		r.Returned = append(r.Returned, s.Key)
		must(b.tx.PutRecall(r), "recall")
	}
}
