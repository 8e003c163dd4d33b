package syncsite_test

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/protocol"
)

// A pushed event with an identifier or date a scan would refuse is
// answered "rejected" with the field and takes its place in the
// device's sequence, so the events after it apply (the protocol's
// per-event verdict; the HTTP API refuses such an event with 400).
func TestSyncRejectsWhatAScanWouldRefuse(t *testing.T) {
	r := newRig(t)
	keys := r.seed(t, 4)
	d := newDevice("dev-a", "op")
	c := r.run(t, d)
	d.write(t, event.KindReceive, keys[:1], event.Context{ASN: "A1", To: "DOCK"})
	d.write(t, event.KindReceive, []event.Key{event.SGTIN("09501101530004", "S0001")}, event.Context{To: "DOCK"})
	d.write(t, event.KindReceive, keys[1:2], event.Context{To: "DOCK", Expiry: "281301"})
	d.write(t, event.KindReceive, keys[2:3], event.Context{To: "DOCK", Lot: "L1\x1d21X"})
	d.write(t, event.KindReceive, keys[3:4], event.Context{ASN: "A1", To: "DOCK"})
	c.Notify()
	waitFor(t, "five verdicts", func() bool { _, ok := d.verdict(5); return ok })
	want := []struct {
		outcome protocol.Outcome
		field   string
	}{{protocol.OutcomeApplied, ""}, {protocol.OutcomeRejected, "subjects[0].key"},
		{protocol.OutcomeRejected, "ctx.expiry"}, {protocol.OutcomeRejected, "ctx.lot"}, {protocol.OutcomeApplied, ""}}
	for i, w := range want {
		v, _ := d.verdict(uint64(i + 1))
		if v.Final() != w.outcome || !strings.Contains(v.Message, w.field) {
			t.Errorf("event %d: %+v, want %v naming %q", i+1, v, w.outcome, w.field)
		}
	}
}
