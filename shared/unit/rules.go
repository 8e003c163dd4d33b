package unit

import (
	"fmt"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/hlc"
)

// DefaultMaxSkew is how far a device clock may run ahead of the site's
// before its events raise CLOCK_SKEW.
const DefaultMaxSkew = 5 * time.Minute

// RevertWindow is how long after decommissioning a pack may be reverted
// to active (EU FMD, Delegated Regulation 2016/161 Art. 13).
const RevertWindow = 10 * 24 * time.Hour

// Verdict is what became of an event for one subject.
type Verdict uint8

// Verdicts.
const (
	// VerdictApplied: the event changed the unit.
	VerdictApplied Verdict = iota + 1
	// VerdictMerged: the same effect was already there; nothing changed.
	VerdictMerged
	// VerdictConflict: the event met something committed before it; the
	// findings say what, and Outcome.Changed whether it still applied.
	VerdictConflict
	// VerdictRefused: the event is not allowed in the unit's state.
	VerdictRefused
)

// String is the verdict's name.
func (v Verdict) String() string {
	switch v {
	case VerdictApplied:
		return "applied"
	case VerdictMerged:
		return "merged"
	case VerdictConflict:
		return "conflict"
	case VerdictRefused:
		return "refused"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Input is everything Apply may look at.
type Input struct {
	Current State // the zero State when the unit is unknown
	// Inherited holds reach the unit from its lot, its product or a
	// recall; holds on its containers are copied onto it by propagation.
	Inherited  event.Holds
	Event      *event.Event
	Subject    event.Subject
	Authorized bool // the user may release holds and make corrections
	// ContentsHeld are the holds found on anything inside the subject
	// (for a container being picked or packed); the caller walks them.
	ContentsHeld event.Holds
	// Received is the proposer's clock when the event reached the site
	// (0 when unknown, as on the handheld).
	Received hlc.Timestamp
	MaxSkew  time.Duration // 0 means DefaultMaxSkew
}

// OrderLine names an order line to reopen.
type OrderLine struct {
	Order string `json:"order"`
	Line  string `json:"line"`
}

// Outcome is what an event does to one unit.
type Outcome struct {
	State    State // the unit afterwards (unchanged unless Changed)
	Verdict  Verdict
	Changed  bool
	Reason   string    // for people: why refused, what a conflict means
	Findings []Finding // exceptions to open or join
	Reopen   *OrderLine
	// Skew is how far the device clock was ahead of the site's beyond
	// the bound (0 when within it); the display time was clamped.
	Skew time.Duration
}

// Propagates reports whether an event of kind k on a container also acts
// on everything inside it. The caller expands such events to the
// container's descendants (in key order), with base version 0.
func Propagates(k event.Kind) bool {
	switch k {
	case event.KindReceive, event.KindPick, event.KindUnpick, event.KindShip, event.KindVoidShip,
		event.KindHold, event.KindRelease, event.KindMove, event.KindDecommission, event.KindDestroy, event.KindReturn:
		return true
	}
	return false
}

// Apply decides what in.Event does to in.Subject's unit. It is pure and
// deterministic.
func Apply(in Input) Outcome {
	a := applier{in: in, ev: in.Event, cur: in.Current, next: in.Current}
	a.held = in.Current.Holds | in.Inherited
	a.stale = in.Subject.BaseVersion != in.Current.Version
	a.when = EffectiveTime(in.Event, in.Received)
	a.decide()
	return a.finish()
}

// EffectiveTime is the time decisions use for ev: the device's clock,
// but never later than the site's clock when the event arrived, so a
// device running ahead cannot stretch a window or dodge an expiry.
func EffectiveTime(ev *event.Event, received hlc.Timestamp) hlc.Timestamp {
	return ev.HLC.Clamp(received)
}

type applier struct {
	in   Input
	ev   *event.Event
	cur  State
	next State
	held event.Holds
	// stale: the device did not see the state it acted on (its base
	// version is not the current one). A refusal of a stale event means
	// the device already did the thing physically: that is an exception.
	stale bool
	when  hlc.Timestamp // EffectiveTime
	out   Outcome
}

func (a *applier) key() event.Key { return a.in.Subject.Key }

func (a *applier) apply()  { a.out.Verdict, a.out.Changed = VerdictApplied, true }
func (a *applier) merged() { a.out.Verdict = VerdictMerged }

func (a *applier) refuse(format string, args ...any) {
	a.out.Verdict, a.out.Changed = VerdictRefused, false
	a.out.Reason = fmt.Sprintf(format, args...)
	a.next = a.cur
}

// conflict refuses the event (changed=false) or applies it (changed=true)
// and raises a finding.
func (a *applier) conflict(changed bool, rule Rule, format string, args ...any) {
	a.out.Verdict, a.out.Changed = VerdictConflict, changed
	a.out.Reason = fmt.Sprintf(format, args...)
	a.find(rule, a.out.Reason)
	if !changed {
		a.next = a.cur
	}
}

// refuseOrConflict refuses an event the device should not have made. If
// the device acted on a state it had not seen (a stale base version), it
// has already done it physically: that is a conflict with an exception.
func (a *applier) refuseOrConflict(rule Rule, format string, args ...any) {
	if a.stale {
		a.conflict(false, rule, format, args...)
		return
	}
	a.refuse(format, args...)
}

// voidPick undoes the unit's pick: its order line reopens.
func (a *applier) voidPick() {
	if a.cur.Order != "" && (a.cur.Status == StatusPicked || a.cur.Status == StatusPacked || a.cur.Status == StatusShipped) {
		a.out.Reopen = &OrderLine{Order: a.cur.Order, Line: a.cur.Line}
	}
	a.next.Status, a.next.Order, a.next.Line = StatusInStock, "", ""
}

func (a *applier) find(rule Rule, detail string) {
	a.out.Findings = append(a.out.Findings, Finding{Rule: rule, Detail: detail})
}

func (a *applier) decide() {
	k, cur, ev := a.key(), a.cur, a.ev
	if Records(ev.Kind) {
		// A workflow record changes no unit: Workflow decides what it raises.
		a.merged()
		return
	}
	if Notes(ev.Kind) {
		// A look-up notes who looked: the unit stays as it is.
		a.out.Verdict = VerdictApplied
		return
	}
	if cur.Status.Inactive() {
		a.onInactive()
		return
	}
	switch ev.Kind {
	case event.KindExpect:
		a.expect()
	case event.KindReceive:
		a.receive()
	case event.KindVerify:
		switch cur.Status {
		case StatusInStock, StatusPicked, StatusPacked:
			if cur.Completeness == CompletenessVerified {
				a.merged()
				return
			}
			a.next.Completeness = CompletenessVerified
			a.apply()
		default:
			a.refuse("%s is %s: only received containers can be verified", k, cur.Status)
		}
	case event.KindUnpack:
		a.unpack()
	case event.KindMove:
		switch cur.Status {
		case StatusInStock, StatusPicked, StatusPacked:
			if cur.Location == ev.Ctx.To {
				a.merged()
				return
			}
			a.next.Location = ev.Ctx.To
			a.apply()
		default:
			a.refuse("%s is %s: it is not here to move", k, describe(cur.Status))
		}
	case event.KindPick:
		a.pick()
	case event.KindUnpick:
		switch {
		case cur.Status == StatusInStock:
			a.merged()
		case cur.Status != StatusPicked:
			a.refuse("%s is %s: nothing to put back", k, describe(cur.Status))
		case ev.Ctx.Order != "" && ev.Ctx.Order != cur.Order:
			a.refuse("%s was picked for order %s, not %s", k, cur.Order, ev.Ctx.Order)
		default:
			a.next.Status, a.next.Order, a.next.Line = StatusInStock, "", ""
			a.apply()
		}
	case event.KindPack:
		a.pack()
	case event.KindShip:
		a.ship()
	case event.KindVoidShip:
		switch {
		case cur.Status == StatusShipped && cur.Shipment == ev.Ctx.Shipment:
			a.next.Shipment = ""
			switch {
			case a.held != 0:
				// Back in the building and on hold: the hold voids the pick.
				a.voidPick()
				a.conflict(true, RuleHoldOverridesPick, "%s came back off shipment %s on hold (%s): the pick is void, take it to quarantine", k, ev.Ctx.Shipment, a.held)
			case cur.Order == "":
				a.next.Status = StatusInStock
				a.apply()
			case cur.Parent != "":
				a.next.Status = StatusPacked
				a.apply()
			default:
				a.next.Status = StatusPicked
				a.apply()
			}
		case (cur.Status == StatusPicked || cur.Status == StatusPacked) && cur.Shipment == "":
			a.merged()
		default:
			a.refuse("%s is not on shipment %s", k, ev.Ctx.Shipment)
		}
	case event.KindHold:
		a.hold()
	case event.KindRelease:
		a.release()
	case event.KindDecommission:
		switch cur.Status {
		case StatusInStock, StatusPicked, StatusPacked:
			a.voidPick()
			a.next.Status = StatusDecommissioned
			a.apply()
		default:
			a.refuse("%s is %s: it cannot be decommissioned here", k, describe(cur.Status))
		}
	case event.KindDestroy:
		switch cur.Status {
		case StatusExpected, StatusNone, StatusShipped:
			a.refuse("%s is %s: it cannot be destroyed here", k, describe(cur.Status))
		default:
			a.voidPick()
			a.next.Status = StatusDestroyed
			a.apply()
		}
	case event.KindRevert:
		if cur.Status == StatusInStock {
			a.merged()
			return
		}
		a.refuse("%s is %s: only a decommissioned pack can be reverted", k, describe(cur.Status))
	case event.KindReturn:
		a.ret()
	case event.KindCount:
		switch cur.Status {
		case StatusInStock, StatusPicked, StatusPacked:
			if ev.Ctx.To == "" || ev.Ctx.To == cur.Location {
				a.merged()
				return
			}
			a.next.Location = ev.Ctx.To
			a.apply()
		case StatusShipped:
			a.conflict(false, RuleDuplicateSerial, "%s was counted here but it was shipped on %s: its code may be cloned", k, cur.Shipment)
		default:
			a.refuse("%s is %s: receive it before counting it", k, describe(cur.Status))
		}
	default:
		a.refuse("%s events are not understood by this version", ev.Kind)
	}
}

func (a *applier) onInactive() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch {
	case ev.Kind == event.KindDecommission && cur.Status == StatusDecommissioned,
		ev.Kind == event.KindDestroy && cur.Status == StatusDestroyed:
		a.merged()
	case ev.Kind == event.KindDestroy && cur.Status == StatusDecommissioned:
		a.next.Status = StatusDestroyed
		a.apply()
	case ev.Kind == event.KindRevert && cur.Status == StatusDecommissioned:
		switch {
		case !a.in.Authorized:
			a.refuse("only a shift lead may revert a decommissioned pack")
		case a.when.Ahead(cur.Since) > RevertWindow:
			a.refuse("%s was decommissioned more than 10 days ago: it cannot be reverted", k)
		case a.expired():
			a.refuse("%s has expired: it cannot be reverted", k)
		case a.held.Has(event.HoldRecall) || a.held.Has(event.HoldSuspect):
			a.refuse("%s is recalled or suspect: it cannot be reverted", k)
		default:
			a.next.Status = StatusInStock
			a.apply()
		}
	default:
		a.conflict(false, RuleActionOnInactive, "%s is %s: it cannot be %s", k, cur.Status, pastTense(ev.Kind))
	}
}

func (a *applier) expect() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch cur.Status {
	case StatusNone, StatusShipped:
		a.next = State{Key: k, Client: ev.Client, Lot: ev.Ctx.Lot, Expiry: ev.Ctx.Expiry, Status: StatusExpected,
			Holds: cur.Holds, Parent: ev.Ctx.Parent, ASN: ev.Ctx.ASN, Version: cur.Version}
		a.apply()
	case StatusExpected:
		if cur.ASN == ev.Ctx.ASN {
			a.merged()
			return
		}
		a.conflict(false, RuleDuplicateSerial, "%s is already expected on ASN %s: ASN %s announces it again", k, cur.ASN, ev.Ctx.ASN)
	default:
		a.conflict(false, RuleDuplicateSerial, "ASN %s announces %s, which is already %s here: its code may be cloned", ev.Ctx.ASN, k, describe(cur.Status))
	}
}

func (a *applier) receive() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch cur.Status {
	case StatusInStock:
		if cur.ASN == ev.Ctx.ASN || cur.ASN == "" || ev.Ctx.ASN == "" {
			a.merged()
			return
		}
		a.conflict(false, RuleDuplicateSerial, "%s was already received on ASN %s: its code may be cloned", k, cur.ASN)
		return
	case StatusPicked, StatusPacked, StatusShipped:
		a.conflict(false, RuleDuplicateSerial, "%s is already %s: its code may be cloned", k, describe(cur.Status))
		return
	}
	n := &a.next
	if cur.Status == StatusNone {
		*n = State{Key: k, Client: ev.Client, Lot: ev.Ctx.Lot, Expiry: ev.Ctx.Expiry, Holds: cur.Holds, ASN: ev.Ctx.ASN, Version: cur.Version}
		if ev.Ctx.ASN != "" {
			a.find(RuleOverage, fmt.Sprintf("%s is not on ASN %s", k, ev.Ctx.ASN))
		}
	} else {
		if ev.Ctx.ASN != "" && cur.ASN != "" && cur.ASN != ev.Ctx.ASN {
			a.find(RuleOverage, fmt.Sprintf("%s is not on ASN %s: it was expected on ASN %s", k, ev.Ctx.ASN, cur.ASN))
			n.ASN = ev.Ctx.ASN
		}
		// What the pack says is the physical fact; the ASN's data is kept
		// in the exception.
		if ev.Ctx.Lot != "" && cur.Lot != "" && ev.Ctx.Lot != cur.Lot {
			a.find(RuleLotMismatch, fmt.Sprintf("%s carries lot %s; the ASN says %s", k, ev.Ctx.Lot, cur.Lot))
		}
		if ev.Ctx.Expiry != "" && cur.Expiry != "" && ev.Ctx.Expiry != cur.Expiry {
			a.find(RuleExpiryMismatch, fmt.Sprintf("%s carries expiry %s; the ASN says %s", k, ev.Ctx.Expiry, cur.Expiry))
		}
		if ev.Ctx.Lot != "" {
			n.Lot = ev.Ctx.Lot
		}
		if ev.Ctx.Expiry != "" {
			n.Expiry = ev.Ctx.Expiry
		}
	}
	n.Status, n.Location, n.Since = StatusInStock, ev.Ctx.To, a.when
	if ev.Ctx.Inferred && k.IsContainer() {
		n.Completeness = CompletenessInferred
	}
	if ev.Ctx.Hold != 0 {
		n.Holds = n.Holds.With(ev.Ctx.Hold)
	}
	if a.expired() {
		n.Holds = n.Holds.With(event.HoldExpired)
		a.find(RuleExpired, fmt.Sprintf("%s expired (%s): received to hold", k, n.Expiry))
	}
	if a.in.Inherited.Has(event.HoldRecall) {
		a.find(RuleRecalled, fmt.Sprintf("%s belongs to a recalled lot or product: received to hold", k))
	}
	a.apply()
	if len(a.out.Findings) > 0 {
		a.out.Verdict = VerdictConflict
		a.out.Reason = a.out.Findings[0].Detail
	}
}

func (a *applier) unpack() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch {
	case cur.Status == StatusShipped:
		a.refuse("%s has left the building: it cannot be unpacked here", k)
	case cur.Status == StatusNone:
		a.refuse("%s is unknown to this site", k)
	case cur.Parent == "":
		a.merged()
	case ev.Ctx.Parent != "" && ev.Ctx.Parent != cur.Parent:
		a.refuse("%s is in %s, not in %s", k, cur.Parent, ev.Ctx.Parent)
	default:
		a.next.Parent = ""
		if cur.Status == StatusPacked {
			a.next.Status = StatusPicked
		}
		a.apply()
	}
}

func (a *applier) pick() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch cur.Status {
	case StatusNone:
		a.refuse("%s is unknown to this site", k)
		return
	case StatusExpected:
		a.refuse("%s has not been received yet", k)
		return
	case StatusShipped:
		a.conflict(false, RuleDuplicateSerial, "%s was shipped on %s but was scanned here: its code may be cloned", k, cur.Shipment)
		return
	case StatusPicked, StatusPacked:
		if cur.Order == ev.Ctx.Order && (ev.Ctx.Line == "" || cur.Line == "" || cur.Line == ev.Ctx.Line) {
			a.merged()
			return
		}
		a.refuseOrConflict(RuleDoublePick, "%s was already picked for order %s (device %s): put it back and pick another", k, cur.Order, cur.LastDevice)
		return
	}
	if a.held != 0 {
		a.refuseOrConflict(RuleHeldUnitMoved, "%s is on hold (%s): do not pick it, take it to quarantine", k, a.held)
		return
	}
	if a.in.ContentsHeld != 0 {
		a.refuseOrConflict(RuleHeldUnitMoved, "%s holds a unit that is on hold (%s): open it and pick the others, or pick another", k, a.in.ContentsHeld)
		return
	}
	if a.expired() {
		a.refuseOrConflict(RuleExpired, "%s expired (%s): do not pick it, take it to quarantine", k, cur.Expiry)
		return
	}
	a.next.Status, a.next.Order, a.next.Line = StatusPicked, ev.Ctx.Order, ev.Ctx.Line
	a.apply()
}

func (a *applier) pack() {
	k, cur, ev := a.key(), a.cur, a.ev
	if h := a.held | a.in.ContentsHeld; h != 0 && cur.Status != StatusShipped {
		a.refuseOrConflict(RuleHeldUnitMoved, "%s is on hold or holds a unit on hold (%s): do not pack it, take it to quarantine", k, h)
		return
	}
	switch cur.Status {
	case StatusPicked:
		if ev.Ctx.Order != "" && cur.Order != "" && ev.Ctx.Order != cur.Order {
			a.refuse("%s was picked for order %s, not %s", k, cur.Order, ev.Ctx.Order)
			return
		}
		a.next.Status, a.next.Parent = StatusPacked, ev.Ctx.Parent
		a.apply()
	case StatusPacked:
		switch cur.Parent {
		case ev.Ctx.Parent:
			a.merged()
		case "":
			a.next.Parent = ev.Ctx.Parent
			a.apply()
		default:
			a.refuseOrConflict(RuleDoublePack, "%s is already packed in %s (device %s): take it out of %s", k, cur.Parent, cur.LastDevice, ev.Ctx.Parent)
		}
	default:
		a.refuse("%s is %s: pick it before packing it", k, describe(cur.Status))
	}
}

func (a *applier) ship() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch cur.Status {
	case StatusShipped:
		if cur.Shipment == ev.Ctx.Shipment {
			a.merged()
			return
		}
		a.conflict(false, RuleDuplicateSerial, "%s already left on shipment %s: its code may be cloned", k, cur.Shipment)
		return
	case StatusNone, StatusExpected:
		a.refuse("%s has not been received: it cannot be shipped", k)
		return
	}
	a.next.Status, a.next.Shipment, a.next.Location, a.next.Since = StatusShipped, ev.Ctx.Shipment, "", a.when
	if a.held != 0 {
		// A shipment that left the building cannot be undone by data.
		a.conflict(true, RuleShippedWhileHeld, "%s was shipped on %s while on hold (%s)", k, ev.Ctx.Shipment, a.held)
		return
	}
	a.apply()
}

func (a *applier) hold() {
	k, cur, ev := a.key(), a.cur, a.ev
	r := ev.Ctx.Hold
	switch {
	case cur.Status == StatusNone:
		a.refuse("%s is unknown to this site: hold its lot or product instead", k)
		return
	case cur.Holds.Has(r):
		a.merged()
		return
	}
	a.next.Holds = cur.Holds.With(r)
	switch cur.Status {
	case StatusPicked, StatusPacked:
		// Restrictive actions win: the hold voids the pick. The unit stays
		// where it physically is (its container) until someone takes it
		// out; if that container leaves, SHIPPED_WHILE_HELD says so.
		a.voidPick()
		a.conflict(true, RuleHoldOverridesPick, "%s was put on hold (%s) after it was picked for order %s: the pick is void, take it to quarantine", k, r, cur.Order)
	case StatusShipped:
		a.conflict(true, RuleShippedWhileHeld, "%s was put on hold (%s) after it left on shipment %s", k, r, cur.Shipment)
	default:
		a.apply()
	}
}

func (a *applier) release() {
	k, cur, ev := a.key(), a.cur, a.ev
	r := ev.Ctx.Hold
	own := cur.Holds
	switch {
	case !a.in.Authorized:
		a.refuse("only a shift lead may release a hold")
	case r == 0 && own == 0, r != 0 && !own.Has(r):
		if r != 0 && a.in.Inherited.Has(r) || r == 0 && a.in.Inherited != 0 {
			a.refuse("the hold on %s is on its lot or product: release it there", k)
			return
		}
		a.merged()
	case r == 0:
		a.next.Holds = 0
		a.apply()
	default:
		a.next.Holds = own.Without(r)
		a.apply()
	}
}

func (a *applier) ret() {
	k, cur, ev := a.key(), a.cur, a.ev
	switch cur.Status {
	case StatusShipped:
	case StatusInStock, StatusPicked, StatusPacked:
		a.conflict(false, RuleDuplicateSerial, "%s is already %s here: its code may be cloned", k, describe(cur.Status))
		return
	default:
		a.refuse("%s was never shipped from this site: it cannot be returned here", k)
		return
	}
	n := &a.next
	n.Status, n.Location, n.Shipment, n.Order, n.Line, n.Parent, n.Since = StatusInStock, ev.Ctx.To, "", "", "", "", a.when
	if ev.Ctx.Hold != 0 {
		n.Holds = n.Holds.With(ev.Ctx.Hold)
	}
	switch {
	case a.held.Has(event.HoldRecall) || a.held.Has(event.HoldSuspect):
		a.conflict(true, RuleRecalled, "returned %s is recalled or suspect: keep it in quarantine", k)
	case a.expired():
		n.Holds = n.Holds.With(event.HoldExpired)
		a.conflict(true, RuleExpired, "returned %s has expired (%s): keep it in quarantine", k, cur.Expiry)
	default:
		a.apply()
	}
}

// expired reports whether the unit's expiry date is before the event's day.
func (a *applier) expired() bool {
	exp := a.next.Expiry
	if exp == "" {
		exp = a.cur.Expiry
	}
	day := a.when.Time()
	last, ok := ExpiryDate(exp, day)
	return ok && day.After(last.Add(24*time.Hour-time.Nanosecond))
}

func (a *applier) finish() Outcome {
	o := a.out
	ev := a.ev
	maxSkew := a.in.MaxSkew
	if maxSkew == 0 {
		maxSkew = DefaultMaxSkew
	}
	display := ev.HLC
	if a.in.Received != 0 && ev.HLC.Ahead(a.in.Received) > maxSkew {
		display = a.when
		o.Skew = ev.HLC.Ahead(a.in.Received)
	}
	if o.Changed {
		n := a.next
		n.Key = a.key()
		if n.Client == "" {
			n.Client = ev.Client
		}
		n.Version = a.cur.Version + 1
		n.LastEvent, n.LastDevice, n.Updated = ev.ID, ev.Device, display
		if n.Status != a.cur.Status && n.Since == a.cur.Since {
			n.Since = a.when
		}
		o.State = n
	} else {
		o.State = a.cur
	}
	return o
}

// ExpiryDate interprets a GS1 YYMMDD date as gs1.Date does (DD 00 is
// the last day of the month; the century puts the year within 49 years
// before and 50 after ref). ok is false for an empty or malformed date.
func ExpiryDate(yymmdd string, ref time.Time) (t time.Time, ok bool) {
	t, err := gs1.Date(yymmdd, ref)
	return t, err == nil
}

func describe(s Status) string {
	switch s {
	case StatusNone:
		return "unknown to this site"
	case StatusExpected:
		return "expected but not received"
	case StatusInStock:
		return "in stock"
	}
	return s.String()
}

func pastTense(k event.Kind) string {
	switch k {
	case event.KindExpect:
		return "announced"
	case event.KindVerify:
		return "verified"
	case event.KindUnpack:
		return "unpacked"
	case event.KindMove:
		return "moved"
	case event.KindPick:
		return "picked"
	case event.KindUnpick:
		return "put back"
	case event.KindPack:
		return "packed"
	case event.KindShip:
		return "shipped"
	case event.KindVoidShip:
		return "taken off a shipment"
	case event.KindHold:
		return "put on hold"
	case event.KindRelease:
		return "released"
	case event.KindReturn:
		return "returned"
	case event.KindCount:
		return "counted"
	case event.KindLookup:
		return "looked up"
	case event.KindReceive:
		return "received"
	case event.KindRevert:
		return "reverted"
	}
	return k.String()
}
