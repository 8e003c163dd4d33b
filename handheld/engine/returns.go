package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

type returnTask struct{}

func (returnTask) name() string { return "return" }
func (returnTask) policy() bool { return true }
func (returnTask) scan(e *Engine, it Item) (Step, error) {
	return e.ret(it)
}

// StartReturn starts receiving saleable returns.
func (e *Engine) StartReturn() Step {
	return e.setTask("return", returnTask{}, "scan each returned pack")
}

// retUnknown takes back a returned pack this site has no record of. The
// rules refuse a return of a unit that was never shipped from here, but
// the pack is physically here and must be accounted for: it is received
// (without an ASN) to quarantine on a suspect hold, with a WRONG_SERIAL
// exception, as an unknown GTIN is on receiving. A pack of a product the
// site does not know either has no client to book it to: that is refused.
func (e *Engine) retUnknown(w *writer, it Item) (string, error) {
	tx := w.tx
	p, err := tx.Product(it.Key.GTIN())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", alert("%s is of a product this site does not know: keep it apart as suspect and call a lead", it.Key)
	case err != nil:
		return "", err
	case !e.user.Sees(p.Client):
		return "", refuse("%s belongs to a client you are not granted", it.Key)
	}
	_, quar, _, err := places(tx)
	if err != nil {
		return "", err
	}
	// unit.Workflow raises WRONG_SERIAL from the reason, here and at the site.
	ctx := event.Context{To: quar, Hold: event.HoldSuspect, Lot: it.Lot, Expiry: it.Expiry, Reason: unit.ReasonNeverShipped}
	if _, _, err := w.emit(event.KindReceive, p.Client, []event.Key{it.Key}, ctx, ""); err != nil {
		return "", err
	}
	w.alert = true
	w.warnings = append(w.warnings, "never shipped from this site: quarantined as suspect")
	return fmt.Sprintf("returned %s to %s: keep it apart and call a lead", it.Key, quar), nil
}

// ret checks a returned pack against the replica — a serial this site
// shipped, lot and expiry as recorded, not recalled, held or expired —
// and restocks it, or returns it to quarantine saying why.
func (e *Engine) ret(it Item) (Step, error) {
	return e.write("return", it.Key, func(w *writer) (string, error) {
		tx := w.tx
		if it.Key.IsContainer() {
			return "", refuse("scan each returned pack, not its case")
		}
		s, err := tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		if !s.Known() {
			return e.retUnknown(w, it)
		}
		if !e.user.Sees(s.Client) {
			return "", refuse("%s belongs to a client you are not granted", it.Key)
		}
		_, quar, stock, err := places(tx)
		if err != nil {
			return "", err
		}
		// unit.Workflow raises LOT_MISMATCH and EXPIRY_MISMATCH from the
		// lot and expiry the event carries; here the pack goes to quarantine.
		var why []string
		hold := event.HoldReason(0)
		if it.Lot != "" && s.Lot != "" && it.Lot != s.Lot {
			hold = event.HoldSuspect
			why = append(why, "lot does not match")
		}
		if it.Expiry != "" && s.Expiry != "" && it.Expiry != s.Expiry {
			hold = event.HoldSuspect
			why = append(why, "expiry does not match")
		}
		inh, err := tx.Inherited(s)
		if err != nil {
			return "", err
		}
		held := s.Holds | inh
		if held != 0 {
			why = append(why, "on hold ("+held.String()+")")
		}
		if e.expired(s.Expiry) {
			why = append(why, "expired")
		}
		to := stock
		if len(why) > 0 {
			to = quar
		}
		if hold != 0 || held.Has(event.HoldRecall) || held.Has(event.HoldSuspect) {
			w.alert = true
		}
		if _, _, err := w.emit(event.KindReturn, s.Client, []event.Key{it.Key}, event.Context{To: to, Hold: hold, Lot: it.Lot, Expiry: it.Expiry},
			""); err != nil {
			return "", err
		}
		if len(why) > 0 {
			w.warnings = append(w.warnings, "quarantined: "+strings.Join(why, ", "))
			return fmt.Sprintf("returned %s to %s", it.Key, quar), nil
		}
		return fmt.Sprintf("returned %s: verified, restock it at %s", it.Key, stock), nil
	})
}
