package command

import (
	"errors"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
)

// recordWorkflow keeps what a workflow record event tells the site
// beyond its exceptions (which unit.Evaluate raised): an ASN closed on a
// device is closed at the site, a short pick is kept with its order.
func (b *batch) recordWorkflow(ev *event.Event) {
	switch ev.Kind {
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
