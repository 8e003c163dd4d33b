package event

// validateWorkflow checks what the workflow record kinds need: an ASN
// for a close, an order line, a quantity and a reason for a short pick,
// and a container first for a verification that did not match.
func (e *Event) validateWorkflow() error {
	switch e.Kind {
	case KindCloseASN:
		if e.Ctx.ASN == "" {
			return fieldErr("ctx.asn", "close_asn without an ASN")
		}
	case KindShortPick:
		switch {
		case e.Ctx.Order == "" || e.Ctx.Line == "":
			return fieldErr("ctx.line", "short_pick without an order line")
		case e.Ctx.Qty == 0:
			return fieldErr("ctx.qty", "short_pick without a quantity")
		case e.Ctx.Reason == "":
			return fieldErr("ctx.reason", "short_pick without a reason")
		case len(e.Subjects) != 0:
			return fieldErr("subjects", "short_pick names no unit")
		}
	case KindVerifyMismatch:
		if !e.Subjects[0].Key.IsContainer() {
			return fieldErr("subjects[0].key", "verify_mismatch names the container first")
		}
	}
	return nil
}
