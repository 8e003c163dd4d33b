package event

// EPCISForm is how an event is told in EPCIS: event type, action, CBV
// business step and disposition (bare CBV 2.0 words). The zero form means
// the event is internal and has no EPCIS counterpart.
type EPCISForm struct {
	Type        string // ObjectEvent, AggregationEvent, ...
	Action      string // ADD, OBSERVE, DELETE
	BizStep     string
	Disposition string
}

// EPCIS types and actions.
const (
	ObjectEvent      = "ObjectEvent"
	AggregationEvent = "AggregationEvent"
	ActionAdd        = "ADD"
	ActionObserve    = "OBSERVE"
	ActionDelete     = "DELETE"
)

// EPCIS returns the event's EPCIS form, derived from its kind and context.
func (e *Event) EPCIS() EPCISForm {
	switch e.Kind {
	case KindReceive:
		if e.Ctx.Inferred {
			// A container received by its label: its contents are
			// inferred from the ASN, not seen.
			return EPCISForm{ObjectEvent, ActionObserve, "receiving", "completeness_inferred"}
		}
		if e.Ctx.Hold != 0 {
			return EPCISForm{ObjectEvent, ActionObserve, "receiving", holdDisposition(e.Ctx.Hold)}
		}
		return EPCISForm{ObjectEvent, ActionObserve, "receiving", "in_progress"}
	case KindVerify:
		return EPCISForm{ObjectEvent, ActionObserve, "inspecting", "completeness_verified"}
	case KindUnpack:
		return EPCISForm{AggregationEvent, ActionDelete, "unpacking", "in_progress"}
	case KindMove:
		return EPCISForm{ObjectEvent, ActionObserve, "storing", "in_progress"}
	case KindPick:
		return EPCISForm{ObjectEvent, ActionObserve, "picking", "in_progress"}
	case KindUnpick:
		return EPCISForm{ObjectEvent, ActionObserve, "storing", "active"}
	case KindPack:
		return EPCISForm{AggregationEvent, ActionAdd, "packing", "in_progress"}
	case KindShip:
		return EPCISForm{ObjectEvent, ActionObserve, "shipping", "in_transit"}
	case KindVoidShip:
		return EPCISForm{ObjectEvent, ActionObserve, "void_shipping", "in_progress"}
	case KindHold:
		return EPCISForm{ObjectEvent, ActionObserve, "holding", holdDisposition(e.Ctx.Hold)}
	case KindRelease:
		return EPCISForm{ObjectEvent, ActionObserve, "inspecting", "active"}
	case KindDecommission:
		return EPCISForm{ObjectEvent, ActionDelete, "decommissioning", "inactive"}
	case KindDestroy:
		return EPCISForm{ObjectEvent, ActionDelete, "destroying", "destroyed"}
	case KindRevert:
		return EPCISForm{ObjectEvent, ActionObserve, "inspecting", "active"}
	case KindReturn:
		// CBV 2.0 has no "returning" step: a return is received back,
		// with disposition returned (or the hold's, when quarantined).
		if e.Ctx.Hold != 0 {
			return EPCISForm{ObjectEvent, ActionObserve, "receiving", holdDisposition(e.Ctx.Hold)}
		}
		return EPCISForm{ObjectEvent, ActionObserve, "receiving", "returned"}
	case KindCount:
		return EPCISForm{ObjectEvent, ActionObserve, "cycle_counting", "active"}
	case KindVerifyMismatch:
		return EPCISForm{ObjectEvent, ActionObserve, "inspecting", "mismatch_instance"}
	}
	// Internal kinds (Kind.Internal) have no EPCIS form: an ASN's
	// announcement, a closed ASN, a short pick, and a look-up, which
	// tells who looked at a unit, not where it went or what became of it.
	return EPCISForm{}
}

func holdDisposition(r HoldReason) string {
	switch r {
	case HoldRecall:
		return "recalled"
	case HoldDamaged:
		return "damaged"
	case HoldExpired:
		return "expired"
	}
	return "non_sellable_other"
}
