package command

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// InvestigationStep is one step of a suspect product investigation, as
// a person took it: open, clear, illegitimate, notified, dispose.
type InvestigationStep struct {
	ID     string        `json:"id"`
	Action string        `json:"action"`
	By     string        `json:"by"`
	At     hlc.Timestamp `json:"at"`
	Note   string        `json:"note,omitempty"`
	// Open: what it covers and why.
	Client    string      `json:"client,omitempty"`
	Scope     string      `json:"scope,omitempty"`
	GTIN      string      `json:"gtin,omitempty"`
	Lot       string      `json:"lot,omitempty"`
	Keys      []event.Key `json:"keys,omitempty"`
	Trigger   string      `json:"trigger,omitempty"`
	Exception string      `json:"exception,omitempty"`
	// Event is the id of the hold (open) or release (clear) event the
	// site records for units or a container.
	Event event.ID `json:"event,omitempty"`
	// Notified: to whom ("fda" or a partner id). Dispose: how.
	To          string `json:"to,omitempty"`
	Disposition string `json:"disposition,omitempty"`
}

// RuleNotificationOverdue is the exception of an investigation whose
// FDA notification was not marked sent within 24 hours of the finding
// of illegitimate product.
const RuleNotificationOverdue unit.Rule = "NOTIFICATION_OVERDUE"

// Investigation actions, triggers and dispositions.
const (
	ActionOpen         = "open"
	ActionClear        = "clear"
	ActionIllegitimate = "illegitimate"
	ActionNotified     = "notified"
	ActionDispose      = "dispose"
	// ActionOverdue is the site's own step: the leader proposes it when
	// the 24 hours passed without the FDA notification marked sent.
	ActionOverdue = "overdue"

	TriggerException = "exception"
	TriggerPartner   = "partner_notice"
	TriggerSuspicion = "suspicion"

	DispositionDestroyed = "destroyed"
	DispositionReturned  = "returned_to_manufacturer"

	// NoticeFDA is the Form 3911 notification's addressee.
	NoticeFDA = state.NoticeFDA
)

func (b *batch) investigation(index uint64, s *InvestigationStep) any {
	if s.ID == "" || s.By == "" || s.At == 0 {
		return fmt.Errorf("%w: an investigation step needs an id, who and when", ErrRejected)
	}
	if err := checkFields(s.ID, s.By, s.Note, s.Client, s.Scope, s.GTIN, s.Lot, s.Trigger, s.Exception, s.To, s.Disposition); err != nil {
		return fmt.Errorf("%w: investigation %.40s: %v", ErrRejected, s.ID, err)
	}
	v, err := b.tx.Investigation(s.ID)
	found := err == nil
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "investigation")
	}
	if s.Action == ActionOpen {
		if found {
			if v.Client != s.Client {
				return fmt.Errorf("%w: investigation %s belongs to another client", ErrRejected, s.ID)
			}
			return v // opened already: a retried request
		}
		return b.openInvestigation(index, s)
	}
	if !found {
		return fmt.Errorf("%w: investigation %s", ErrNotFound, s.ID)
	}
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%w: investigation %s: %s", ErrRejected, s.ID, fmt.Sprintf(format, a...))
	}
	switch s.Action {
	case ActionClear:
		if v.Status != state.InvestigationOpen {
			return refuse("is %s: only an open investigation is cleared", v.Status)
		}
		if s.Note == "" {
			return refuse("clearing says why")
		}
		if err := b.investigationHold(index, &v, s, false); err != nil {
			return err
		}
		v.Status = state.InvestigationCleared
	case ActionIllegitimate:
		if v.Status != state.InvestigationOpen {
			return refuse("is %s: only an open investigation is declared illegitimate", v.Status)
		}
		v.Status, v.Illegitimate = state.InvestigationIllegitimate, s.At
	case ActionNotified:
		if v.Status != state.InvestigationIllegitimate && v.Status != state.InvestigationClosed {
			return refuse("is %s: notifications follow a finding of illegitimate product", v.Status)
		}
		if s.To == "" {
			return refuse("a notification names whom it went to (fda or a partner)")
		}
		if s.To != NoticeFDA {
			if _, err := b.tx.Partner(s.To); errors.Is(err, state.ErrNotFound) {
				return refuse("no partner %q", s.To)
			} else if err != nil {
				must(err, "partner")
			}
		}
		v.Notices = append(v.Notices, state.Notice{To: s.To, By: s.By, At: s.At})
		if s.To == NoticeFDA && v.Overdue != "" {
			// Sent late: the overdue exception is settled.
			x, err := b.tx.Exception(v.Overdue)
			if err == nil && x.Status != unit.ExceptionResolved {
				x.Status, x.By, x.Note, x.Updated = unit.ExceptionResolved, s.By, "FDA notification marked sent", max(x.Updated, s.At)
				must(b.tx.PutException(x), "exception")
			} else if err != nil && !errors.Is(err, state.ErrNotFound) {
				must(err, "exception")
			}
		}
	case ActionOverdue:
		if v.Status != state.InvestigationIllegitimate || v.OverdueAt != 0 || slices.ContainsFunc(v.Notices, func(n state.Notice) bool { return n.To == NoticeFDA }) {
			return v // nothing is overdue (any more): a late or repeated proposal
		}
		if s.At.Millis() < v.Illegitimate.Millis()+state.NotifyWithin.Milliseconds() {
			return refuse("the FDA notification is due 24 hours after the finding, not yet")
		}
		if s.Event.IsZero() {
			return refuse("no event id for the exception")
		}
		v.OverdueAt, v.Overdue = s.At, b.raiseOverdue(&v, s)
	case ActionDispose:
		if v.Status != state.InvestigationIllegitimate {
			return refuse("is %s: only illegitimate product is disposed of", v.Status)
		}
		if s.Disposition != DispositionDestroyed && s.Disposition != DispositionReturned {
			return refuse("disposition %q (want %s or %s)", s.Disposition, DispositionDestroyed, DispositionReturned)
		}
		v.Status, v.Disposition = state.InvestigationClosed, s.Disposition
	default:
		return refuse("unknown action %q", s.Action)
	}
	v.Steps = append(v.Steps, state.Step{Action: s.Action, By: s.By, At: s.At, Note: stepNote(s)})
	must(b.tx.PutInvestigation(v), "investigation")
	return v
}

// raiseOverdue opens the high-severity exception of an overdue FDA
// notification, on the first unit the investigation covers (for a lot
// or a product: the first of its units the site knows), and returns its
// id ("" when the site knows no unit of it).
func (b *batch) raiseOverdue(v *state.Investigation, s *InvestigationStep) string {
	var k event.Key
	if len(v.Keys) > 0 {
		k = v.Keys[0]
	} else {
		page, err := b.tx.Units(state.UnitFilter{GTIN: v.GTIN, Lot: v.Lot, AnyLot: v.Scope == state.ScopeProduct, Limit: 1,
			Client: func(c string) bool { return c == v.Client }})
		must(err, "units")
		if len(page.Items) == 0 {
			return ""
		}
		k = page.Items[0].Key
	}
	site, err := b.tx.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "site")
	}
	x := unit.Exception{ID: unit.ExceptionID(RuleNotificationOverdue, k, s.Event), Rule: RuleNotificationOverdue, Severity: unit.SeverityHigh,
		Status: unit.ExceptionOpen, Unit: k, Client: v.Client, Site: site.ID,
		Detail: fmt.Sprintf("investigation %s: product found illegitimate %s; the FDA notification (Form 3911) was due within 24 hours and is not marked sent",
			v.ID, v.Illegitimate.Time().UTC().Format(time.RFC3339)),
		Events: []event.ID{s.Event}, Opened: s.At, Updated: s.At}
	must(b.tx.PutException(x), "exception")
	return x.ID
}

func stepNote(s *InvestigationStep) string {
	switch {
	case s.Action == ActionNotified && s.Note == "":
		return "notified " + s.To
	case s.Action == ActionDispose && s.Note == "":
		return s.Disposition
	case s.Action == ActionOverdue && s.Note == "":
		return "the FDA notification is overdue"
	}
	return s.Note
}

func (b *batch) openInvestigation(index uint64, s *InvestigationStep) any {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%w: investigation %s: %s", ErrRejected, s.ID, fmt.Sprintf(format, a...))
	}
	switch s.Trigger {
	case TriggerException, TriggerPartner, TriggerSuspicion:
	default:
		return refuse("trigger %q (want %s, %s or %s)", s.Trigger, TriggerException, TriggerPartner, TriggerSuspicion)
	}
	if s.Client == "" || s.Note == "" {
		return refuse("opening names the client and describes the suspicion")
	}
	v := state.Investigation{ID: s.ID, Client: s.Client, Scope: s.Scope, GTIN: s.GTIN, Lot: s.Lot, Keys: s.Keys, Trigger: s.Trigger,
		Exception: s.Exception, Description: s.Note, Status: state.InvestigationOpen}
	switch s.Scope {
	case state.ScopeLot, state.ScopeProduct:
		if len(s.Keys) != 0 || s.GTIN == "" || (s.Scope == state.ScopeLot) != (s.Lot != "") {
			return refuse("a %s investigation names a GTIN%s and no units", s.Scope, map[bool]string{true: " and a lot"}[s.Scope == state.ScopeLot])
		}
		p, err := b.tx.Product(s.GTIN)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			must(err, "product")
		}
		if err != nil || p.Client != s.Client {
			return refuse("%s is not a product of client %q", s.GTIN, s.Client)
		}
	case state.ScopeUnits, state.ScopeContainer:
		if len(s.Keys) == 0 || len(s.Keys) > event.MaxSubjects || (s.Scope == state.ScopeContainer && (len(s.Keys) != 1 || !s.Keys[0].IsContainer())) {
			return refuse("a %s investigation names 1 to %d units, or one container", s.Scope, event.MaxSubjects)
		}
		if s.Event.IsZero() {
			return refuse("no event id for the hold")
		}
		for _, k := range s.Keys {
			u, err := b.tx.Unit(k)
			must(err, "unit")
			if !u.Known() || u.Client != s.Client {
				return refuse("%s is not a unit of client %q", k, s.Client)
			}
			if v.GTIN == "" && !k.IsContainer() {
				v.GTIN, v.Lot = k.GTIN(), u.Lot
			}
		}
	default:
		return refuse("scope %q (want units, container, lot or product)", s.Scope)
	}
	if err := b.investigationHold(index, &v, s, true); err != nil {
		return err
	}
	v.Steps = []state.Step{{Action: ActionOpen, By: s.By, At: s.At, Note: s.Note}}
	must(b.tx.PutInvestigation(v), "investigation")
	return v
}

// investigationHold quarantines what an investigation covers (on) or
// releases it (off): a lot or product hold under the investigation's id,
// or a hold or release event on its units or container that the site
// applies like any event (and devices get with the units at their next
// sync).
func (b *batch) investigationHold(index uint64, v *state.Investigation, s *InvestigationStep, on bool) error {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%w: investigation %s: %s", ErrRejected, s.ID, fmt.Sprintf(format, a...))
	}
	if v.Scope == state.ScopeLot || v.Scope == state.ScopeProduct {
		scope := master.ScopeLot
		if v.Scope == state.ScopeProduct {
			scope = master.ScopeProduct
		}
		h := master.Hold{ID: v.ID, Client: v.Client, Scope: scope, GTIN: v.GTIN, Lot: v.Lot, Reason: event.HoldInvestigation,
			Note: "investigation " + v.ID, Active: on, By: s.By, At: s.At}
		if err := h.Validate(); err != nil {
			return refuse("%v", err)
		}
		prev, err := b.tx.Hold(h.ID)
		if err := sameOwner("hold", h.ID, h.Client, prev.Client, err); err != nil {
			return err
		}
		must(b.tx.PutHold(h), "hold")
		return nil
	}
	if s.Event.IsZero() {
		return refuse("no event id for the %s", map[bool]string{true: "hold", false: "release"}[on])
	}
	if _, err := b.tx.Event(s.Event); err == nil {
		return refuse("event id %s is already used", s.Event)
	} else if !errors.Is(err, state.ErrNotFound) {
		must(err, "event")
	}
	site, err := b.tx.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "site")
	}
	if site.ID == "" {
		site.ID = "site"
	}
	kind := event.KindHold
	if !on {
		kind = event.KindRelease
	}
	ev := event.Event{ID: s.Event, Device: "site", Seq: 1, HLC: s.At, User: s.By, Site: site.ID, Client: v.Client, Kind: kind,
		Ctx: event.Context{Hold: event.HoldInvestigation, Reason: "investigation " + v.ID}}
	for _, k := range v.Keys {
		ev.Subjects = append(ev.Subjects, event.Subject{Key: k})
	}
	if err := ev.Validate(); err != nil {
		return refuse("%v", err)
	}
	res, err := unit.Evaluate(b.tx, &ev, unit.Env{Authorized: true, Received: s.At, MaxSkew: b.p.maxSkew})
	must(err, "evaluate")
	rec := &state.Record{Event: ev, Index: index, Result: &res}
	must(b.tx.PutEvent(rec, 0), "event")
	b.historyOfContainers(rec, 0)
	return nil
}
