package command

import (
	"errors"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

var networkUnit = event.SGTIN("00300010123455", "NET1")

// networkSamples: a unit received, then found at two other sites.
func networkSamples(t testing.TB) [][]byte {
	at := hlc.New(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli(), 0)
	ev := event.Event{ID: event.ID{0x42}, Device: "hh1", Epoch: 1, Seq: 1, HLC: at, User: "admin", Site: "site", Client: "acme",
		Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: "L1"}, Subjects: []event.Subject{{Key: networkUnit}}}
	return [][]byte{
		EncodeEvents(&Events{Received: at, Events: []event.Event{ev}}),
		jsonEntry(t, TypeNetworkDuplicate, NetworkDuplicate{Unit: networkUnit, Sites: []string{"south", "east"}, By: "operator", At: at}),
	}
}

func TestNetworkDuplicate(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	s := networkSamples(t)
	res := l.apply(t, s...)
	id, ok := res[1].(string)
	if !ok {
		t.Fatalf("result %v", res[1])
	}
	var x unit.Exception
	if err := st.View(func(r *state.Reader) error { var err error; x, err = r.Exception(id); return err }); err != nil {
		t.Fatal(err)
	}
	if x.Rule != unit.RuleDuplicateInNetwork || x.Severity != unit.SeverityHigh || x.Status != unit.ExceptionOpen ||
		x.Client != "acme" || x.Unit != networkUnit {
		t.Fatalf("exception %+v", x)
	}
	// The same finding again (sites in another order) is the same exception.
	at := hlc.New(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(), 0)
	again := l.apply(t, jsonEntry(t, TypeNetworkDuplicate, NetworkDuplicate{Unit: networkUnit, Sites: []string{"east", "south"}, By: "operator", At: at}))
	if again[0] != id {
		t.Fatalf("again: %v, want %s", again[0], id)
	}
	var xs state.Page[unit.Exception]
	st.View(func(r *state.Reader) error {
		xs, _ = r.Exceptions(state.ExceptionFilter{Rule: unit.RuleDuplicateInNetwork})
		return nil
	})
	if len(xs.Items) != 1 {
		t.Fatalf("%d exceptions, want 1", len(xs.Items))
	}
}

func TestNetworkDuplicateRefused(t *testing.T) {
	at := hlc.New(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli(), 0)
	tests := []struct {
		name string
		v    NetworkDuplicate
	}{
		{"unknown unit", NetworkDuplicate{Unit: event.SGTIN("00300010123455", "NOPE"), Sites: []string{"s"}, At: at}},
		{"an SSCC", NetworkDuplicate{Unit: event.SSCC("003000100000000017"), Sites: []string{"s"}, At: at}},
		{"no sites", NetworkDuplicate{Unit: networkUnit, At: at}},
		{"no time", NetworkDuplicate{Unit: networkUnit, Sites: []string{"s"}}},
		{"empty site", NetworkDuplicate{Unit: networkUnit, Sites: []string{""}, At: at}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			l := &log{p: newProc(t, st)}
			l.apply(t, networkSamples(t)[0])
			before, _ := hashOf(t, st)
			res := l.apply(t, jsonEntry(t, TypeNetworkDuplicate, tc.v))
			err, ok := res[0].(error)
			if !ok || !errors.Is(err, ErrRejected) {
				t.Fatalf("result %v, want a rejection", res[0])
			}
			if after, _ := hashOf(t, st); after != before {
				t.Fatal("a refused finding changed the state")
			}
		})
	}
}
