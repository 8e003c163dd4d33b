package command

import (
	"errors"
	"slices"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// recordWorkflow keeps what an event tells the site beyond its units and
// exceptions (which unit.Evaluate decided): an ASN closed on a device is
// closed at the site, a short pick is kept with its order, and what a
// device ships (or takes off a shipment) is in the shipment's record, so
// the shipment's outbound document is whole without another call.
func (b *batch) recordWorkflow(ev *event.Event) {
	switch ev.Kind {
	case event.KindShip, event.KindVoidShip:
		b.recordShipment(ev)
	case event.KindCloseASN:
		a, err := b.tx.ASN(ev.Ctx.ASN)
		if errors.Is(err, state.ErrNotFound) {
			return
		}
		must(err, "asn")
		if a.Client != ev.Client || a.Closed {
			return
		}
		a.Closed = true
		must(b.tx.PutASN(a), "asn")
	case event.KindShortPick:
		o, err := b.tx.Order(ev.Ctx.Order)
		if errors.Is(err, state.ErrNotFound) {
			return
		}
		must(err, "order")
		if o.Client != ev.Client {
			return
		}
		must(b.tx.PutShortPick(state.ShortPick{Order: ev.Ctx.Order, Line: ev.Ctx.Line, Client: ev.Client, Qty: ev.Ctx.Qty,
			Reason: ev.Ctx.Reason, User: ev.User, Device: ev.Device, Event: ev.ID, At: ev.HLC}), "short pick")
	}
}

// recordShipment brings the shipment record named by a ship or void_ship
// event up to date with the event's subjects as they now are: a subject
// on the shipment is one of its containers, one no longer on it is not.
// A shipment the site has no record of is recorded for the event's
// client; a shipment of another client is left alone.
func (b *batch) recordShipment(ev *event.Event) {
	sh, err := b.tx.Shipment(ev.Ctx.Shipment)
	switch {
	case errors.Is(err, state.ErrNotFound):
		if ev.Kind == event.KindVoidShip {
			return
		}
		sh = master.Shipment{ID: ev.Ctx.Shipment, Client: ev.Client}
	case err != nil:
		must(err, "shipment")
	case sh.Client != ev.Client:
		return
	}
	changed := false
	for _, s := range ev.Subjects {
		u, err := b.tx.Unit(s.Key)
		must(err, "unit")
		on := u.Known() && u.Client == sh.Client && u.Status == unit.StatusShipped && u.Shipment == sh.ID
		i := slices.Index(sh.Containers, s.Key)
		switch {
		case on && i < 0:
			sh.Containers = append(sh.Containers, s.Key)
			changed = true
		case !on && i >= 0 && ev.Kind == event.KindVoidShip:
			sh.Containers = slices.Delete(sh.Containers, i, i+1)
			changed = true
		}
	}
	if changed {
		must(b.tx.PutShipment(sh), "shipment")
	}
}

// historyOfContainers puts an event in the history of what it changed
// without naming it: the container a pack filled (a new SSCC's history
// starts with its packing), and everything inside a container verified
// (a unit's history shows its case opened and checked).
func (b *batch) historyOfContainers(rec *state.Record, pos uint32) {
	ev := &rec.Event
	switch ev.Kind {
	case event.KindPack:
		if ev.Ctx.Parent != "" && slices.ContainsFunc(rec.Result.Subjects, func(s unit.SubjectResult) bool {
			return s.Verdict != unit.VerdictRefused
		}) {
			must(b.tx.PutHistory(ev.Ctx.Parent, rec, pos), "history")
		}
	case event.KindVerify, event.KindVerifyMismatch:
		if len(ev.Subjects) == 0 {
			return
		}
		var walk func(k event.Key, depth int)
		walk = func(k event.Key, depth int) {
			if !k.IsContainer() || depth >= maxContainerDepth {
				return
			}
			kids, err := b.tx.Children(k)
			must(err, "children")
			for _, c := range kids {
				must(b.tx.PutHistory(c, rec, pos), "history")
				walk(c, depth+1)
			}
		}
		walk(ev.Subjects[0].Key, 0)
	}
}

// maxContainerDepth bounds a walk down containers (a pallet of cases of
// bundles is three levels).
const maxContainerDepth = 8
