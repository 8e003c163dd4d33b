package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// actTask applies one kind of event to each scanned unit or container:
// hold, release, destroy, decommission, revert.
type actTask struct {
	kind   event.Kind
	hold   event.HoldReason
	reason string
}

func (t *actTask) name() string { return t.kind.String() }
func (t *actTask) policy() bool { return false }

// leadOnly reports whether the task's events need a shift lead:
// releases and reverts, and destroying or decommissioning, which cannot
// be undone (or only by a lead).
func (t *actTask) leadOnly() bool {
	switch t.kind {
	case event.KindRelease, event.KindRevert, event.KindDestroy, event.KindDecommission:
		return true
	}
	return false
}

// startLead starts a task that needs a shift lead.
func (e *Engine) startLead(action string, t task, msg, refusal string) Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn(action)
	if s != nil {
		return *s
	}
	if !u.Role.CanRelease() {
		return refused(action, "%s", refusal)
	}
	e.task = t
	return accepted(action, "%s", msg)
}

func (t *actTask) scan(e *Engine, it Item) (Step, error) {
	return e.write(t.kind.String(), it.Key, func(w *writer) (string, error) {
		s, err := w.tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		switch {
		case !s.Known() && t.kind == event.KindHold:
			return "", refuse("%s is unknown to this site: hold its lot or product instead", it.Key)
		case !s.Known():
			return "", refuse("%s is unknown to this site", it.Key)
		case !e.user.Sees(s.Client):
			return "", refuse("%s belongs to a client you are not granted", it.Key)
		case t.leadOnly() && !e.user.Role.CanRelease():
			return "", refuse("only a shift lead may %s stock", t.kind)
		}
		_, quar, _, err := places(w.tx)
		if err != nil {
			return "", err
		}
		ctx := event.Context{Hold: t.hold, Reason: t.reason}
		var merged, done string
		switch t.kind {
		case event.KindHold:
			merged = fmt.Sprintf("%s is already on hold (%s)", it.Key, t.hold)
			done = fmt.Sprintf("%s on hold (%s): take it to %s", it.Key, t.hold, quar)
		case event.KindRelease:
			merged = fmt.Sprintf("%s has no hold of its own to release", it.Key)
			done = fmt.Sprintf("hold on %s released", it.Key)
		case event.KindDestroy:
			merged, done = fmt.Sprintf("%s is already destroyed", it.Key), fmt.Sprintf("%s destroyed (%s)", it.Key, t.reason)
		case event.KindDecommission:
			merged, done = fmt.Sprintf("%s is already decommissioned", it.Key), fmt.Sprintf("%s decommissioned (%s)", it.Key, t.reason)
		case event.KindRevert:
			merged, done = fmt.Sprintf("%s is already active", it.Key), fmt.Sprintf("%s reverted to active", it.Key)
		}
		_, res, err := w.emit(t.kind, s.Client, []event.Key{it.Key}, ctx, merged)
		if err != nil {
			return "", err
		}
		if n := len(res.Subjects); n > 1 {
			done += fmt.Sprintf(" (with %d inside)", n-1)
		}
		return done, nil
	})
}

// StartHold starts putting scanned units and containers on hold. reason
// is suspect, recall, damaged, expired or investigation.
func (e *Engine) StartHold(reason, note string) Step {
	r, err := event.ParseHoldReason(reason)
	if err != nil {
		return refused("hold", "%s", holdWords(reason))
	}
	return e.setTask("hold", &actTask{kind: event.KindHold, hold: r, reason: note}, fmt.Sprintf("scan what to put on hold (%s)", r))
}

func holdWords(reason string) string {
	return fmt.Sprintf("unknown hold reason %q: use suspect, recall, damaged, expired or investigation", reason)
}

// StartRelease starts releasing holds (a shift lead only). With a reason,
// only that hold is lifted; without, all of the unit's own holds.
func (e *Engine) StartRelease(reason string) Step {
	var r event.HoldReason
	if reason != "" {
		var err error
		if r, err = event.ParseHoldReason(reason); err != nil {
			return refused("release", "%s", holdWords(reason))
		}
	}
	e.mu.Lock()
	if _, s := e.lead("release"); s != nil {
		e.mu.Unlock()
		return *s
	}
	e.mu.Unlock()
	return e.setTask("release", &actTask{kind: event.KindRelease, hold: r}, "scan what to release")
}

// StartDestroy starts destroying scanned units, with a reason (a shift
// lead only: it cannot be undone).
func (e *Engine) StartDestroy(reason string) Step {
	if reason == "" {
		return refused("destroy", "give a reason")
	}
	return e.startLead("destroy", &actTask{kind: event.KindDestroy, reason: reason}, "scan what is destroyed: "+reason,
		"only a shift lead may destroy stock: call a lead")
}

// StartDecommission starts decommissioning scanned units, with a reason
// (a shift lead only).
func (e *Engine) StartDecommission(reason string) Step {
	if reason == "" {
		return refused("decommission", "give a reason")
	}
	return e.startLead("decommission", &actTask{kind: event.KindDecommission, reason: reason}, "scan what is decommissioned: "+reason,
		"only a shift lead may decommission stock: call a lead")
}

// StartRevert starts reverting decommissioned packs to active (a shift
// lead only; within 10 days, not expired, recalled or suspect).
func (e *Engine) StartRevert() Step {
	e.mu.Lock()
	if _, s := e.lead("revert"); s != nil {
		e.mu.Unlock()
		return *s
	}
	e.mu.Unlock()
	return e.setTask("revert", &actTask{kind: event.KindRevert}, "scan the pack to revert")
}

// localHoldPrefix marks lot holds made on a device, pending the site.
const localHoldPrefix = "LH-"

// HoldLot puts a whole lot on hold from the device. It travels two ways:
// a hold event on every unit of the lot this device knows to be here (in
// chunks of at most 1000 units per event and transaction), and a local
// lot hold record (one per lot and reason), so units of the lot received
// later on this device are held too. The record notes which units the
// hold put on hold (those that did not carry the reason already): a
// release lifts the hold from those only. The site confirms the lot hold
// when it applies the events.
func (e *Engine) HoldLot(gtin, lot, reason, note string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn("hold-lot")
	if s != nil {
		return *s, nil
	}
	r, err := event.ParseHoldReason(reason)
	if err != nil {
		return refused("hold-lot", "%s", holdWords(reason)), nil
	}
	var p master.Product
	var units []event.Key
	err = e.st.View(func(tx *store.Tx) (err error) {
		if p, err = tx.Product(gtin); err != nil {
			return err
		}
		units = tx.LotUnits(gtin, lot)
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refused("hold-lot", "GTIN %s is not in the product master data", gtin), nil
	case err != nil:
		return failed("hold-lot", err)
	case !u.Sees(p.Client):
		return refused("hold-lot", "%s belongs to a client you are not granted", p.Name), nil
	case lot == "":
		return refused("hold-lot", "name the lot"), nil
	}
	total := Step{Verdict: Accepted, Cue: CueOK, Action: "hold-lot"}
	first := true
	for i := 0; i < len(units) || first; i += event.MaxSubjects {
		chunk := units[i:min(i+event.MaxSubjects, len(units))]
		isFirst := first
		first = false
		id := localHoldPrefix + e.st.Device() + "-" + gtin + "-" + lot + "-" + r.String()
		st, err := e.write("hold-lot", "", func(w *writer) (string, error) {
			if isFirst {
				if old, err := w.tx.LocalHold(id); err == nil && !old.Active {
					if err := w.tx.ClearHoldUnits(id); err != nil {
						return "", err
					}
				}
				h := master.Hold{ID: id, Client: p.Client, Scope: master.ScopeLot,
					GTIN: gtin, Lot: lot, Reason: r, Note: note, Active: true, By: u.ID, At: e.clock.Now()}
				if err := w.tx.PutLocalHold(h); err != nil {
					return "", err
				}
			}
			if len(chunk) == 0 {
				return "", nil
			}
			var fresh []event.Key
			for _, k := range chunk {
				s, err := w.tx.Unit(k)
				if err != nil {
					return "", err
				}
				if !s.Holds.Has(r) {
					fresh = append(fresh, k)
				}
			}
			_, _, err := w.emit(event.KindHold, p.Client, chunk, event.Context{Hold: r, Lot: lot, Reason: note}, "")
			var n *errNothing
			if errors.As(err, &n) {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			return "", w.tx.AddHoldUnits(id, fresh)
		})
		if err != nil || st.Verdict == Refused {
			st.Reason = fmt.Sprintf("lot hold stopped after %d units: %s", total.Units, st.Reason)
			return st, err
		}
		total.Events = append(total.Events, st.Events...)
		total.Exceptions = append(total.Exceptions, st.Exceptions...)
		total.Rules = append(total.Rules, st.Rules...)
		total.Units += st.Units
		total.Seq = max(total.Seq, st.Seq)
		if st.Verdict == Warning {
			total.Verdict, total.Cue = Warning, CueWarn
		}
	}
	total.Reason = fmt.Sprintf("lot %s of %s on hold (%s): %d units here; later receipts of the lot are held too", lot, p.Name, r, total.Units)
	return total, nil
}

// ReleaseLot lifts the lot holds made on this device on gtin's lot (a
// shift lead only): each local record is deactivated and the units that
// hold put on hold are released from its reason. A unit that carried
// the reason before the lot hold (its own hold) keeps it. Lot holds set
// at the site are released there.
func (e *Engine) ReleaseLot(gtin, lot string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.lead("release-lot")
	if s != nil {
		return *s, nil
	}
	return e.write("release-lot", "", func(w *writer) (string, error) {
		holds, err := w.tx.HoldsOn(gtin)
		if err != nil {
			return "", err
		}
		var mine []master.Hold
		for _, h := range holds {
			if !h.Active || h.Scope != master.ScopeLot || h.Lot != lot {
				continue
			}
			if !strings.HasPrefix(h.ID, localHoldPrefix) {
				return "", refuse("lot %s is held by the site (%s): release it there", lot, h.ID)
			}
			if !u.Sees(h.Client) {
				return "", refuse("lot %s of %s belongs to a client you are not granted", lot, gtin)
			}
			mine = append(mine, h)
		}
		if len(mine) == 0 {
			return "", &errNothing{fmt.Sprintf("lot %s of %s has no hold made on this device", lot, gtin)}
		}
		for _, h := range mine {
			h.Active = false
			if err := w.tx.PutLocalHold(h); err != nil {
				return "", err
			}
			units := w.tx.HoldUnits(h.ID)
			if err := w.tx.ClearHoldUnits(h.ID); err != nil {
				return "", err
			}
			var held []event.Key
			for _, k := range units {
				s, err := w.tx.Unit(k)
				if err != nil {
					return "", err
				}
				if s.Holds.Has(h.Reason) {
					held = append(held, k)
				}
			}
			for i := 0; i < len(held); i += event.MaxSubjects {
				chunk := held[i:min(i+event.MaxSubjects, len(held))]
				_, _, err := w.emit(event.KindRelease, h.Client, chunk, event.Context{Hold: h.Reason, Lot: lot}, "")
				var n *errNothing
				if err != nil && !errors.As(err, &n) {
					return "", err
				}
			}
		}
		return fmt.Sprintf("lot %s released", lot), nil
	})
}
