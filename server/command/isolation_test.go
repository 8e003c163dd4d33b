package command

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

func verdictOf(t *testing.T, res []any) Verdict {
	t.Helper()
	vs, ok := res[0].([]Verdict)
	if !ok || len(vs) != 1 {
		t.Fatalf("result %v", res[0])
	}
	return vs[0]
}

// A malformed event reusing a stored event's id is rejected without
// touching the stored record or the unit's history, and the stored
// event's own resend still gets its original verdict.
func TestMalformedEventCannotReplaceStoredRecord(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	ev1 := workload.New(workload.Options{Seed: 1, Devices: 1, Client: "a"}).Receive(1)[0]
	first := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev1.HLC, Events: []event.Event{ev1}})))

	bad := ev1
	bad.Device, bad.Seq, bad.Client, bad.Subjects = "other", 1, "b", nil
	v := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev1.HLC, Events: []event.Event{bad}})))
	if v.Status != StatusRejected || v.Result != nil || !strings.Contains(v.Reason, "already used") {
		t.Fatalf("malformed event under a stored id: %+v", v)
	}
	err := st.View(func(r *state.Reader) error {
		rec, err := r.Event(ev1.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(rec.Event, ev1) || rec.Result == nil || rec.Reason != "" {
			t.Errorf("stored record replaced: %+v", rec)
		}
		hist, err := r.History(ev1.Subjects[0].Key, 0)
		if err != nil {
			return err
		}
		if len(hist) != 1 || hist[0].Event.Device != ev1.Device {
			t.Errorf("history %+v", hist)
		}
		if m, err := r.Mark("other", bad.Epoch); err != nil || m != 1 {
			t.Errorf("the rejected event did not take its place: mark %d, %v", m, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	again := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev1.HLC, Events: []event.Event{ev1}})))
	if again.Status != StatusDuplicate || again.Result == nil || !reflect.DeepEqual(*again.Result, *first.Result) {
		t.Fatalf("resend of the stored event: %+v", again)
	}
}

// Ids and sequence places are never answered with another event's
// verdict: a device would take "duplicate" for its own event
// acknowledged (and prune it), and the verdict may be another client's.
func TestIdempotencyNeverAnswersForAnotherEvent(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	ga := workload.New(workload.Options{Seed: 1, Devices: 1, Client: "a"})
	gb := workload.New(workload.Options{Seed: 9, Devices: 1, Client: "b", Prefix: "db", GTIN: "00300020123452"})
	ev1 := ga.Receive(1)[0]
	first := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev1.HLC, Events: []event.Event{ev1}})))
	if first.Status != StatusApplied {
		t.Fatalf("first: %+v", first)
	}
	submit := func(ev event.Event) Verdict {
		return verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev1.HLC, Events: []event.Event{ev}})))
	}
	unitOf := func(k event.Key) unit.State {
		var u unit.State
		if err := st.View(func(r *state.Reader) error { var err error; u, err = r.Unit(k); return err }); err != nil {
			t.Fatal(err)
		}
		return u
	}

	// Another device's event under ev1's id, at its next place.
	evb := gb.Receive(1)[0]
	evb.ID = ev1.ID
	if v := submit(evb); v.Status != StatusRejected || v.Result != nil || !strings.Contains(v.Reason, "already used") {
		t.Errorf("another event under a stored id: %+v", v)
	}
	// And again, now at a place already decided.
	if v := submit(evb); v.Status != StatusRejected || v.Result != nil {
		t.Errorf("another event under a stored id, resent: %+v", v)
	}
	if unitOf(evb.Subjects[0].Key).Known() {
		t.Error("the refused event was applied")
	}

	// Another event at ev1's place in its device's sequence.
	other := ga.Receive(1)[0]
	other.Seq = ev1.Seq
	if v := submit(other); v.Status != StatusRejected || v.Result != nil || !strings.Contains(v.Reason, "already used by another event") {
		t.Errorf("another event at a decided place: %+v", v)
	}
	if unitOf(other.Subjects[0].Key).Known() {
		t.Error("the event at a taken place was applied")
	}

	// The same event resent from a new epoch (a device that lost its
	// outbox position) is still a duplicate with its verdict.
	moved := ev1
	moved.Epoch, moved.Seq = ev1.Epoch+1, 1
	if v := submit(moved); v.Status != StatusDuplicate || v.Result == nil || !reflect.DeepEqual(*v.Result, *first.Result) {
		t.Errorf("the same event from a new epoch: %+v", v)
	}
}

// A put under an id another client's record holds changes nothing.
func TestRecordsStayWithTheirClient(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	at := hlc.Timestamp(1)
	gtinA, gtinB := "00300010123455", "00300020123452"
	c := event.SSCC("003000100000000015")
	setup := [][]byte{
		jsonEntry(t, TypeUser, admin),
		jsonEntry(t, TypeClient, master.Client{ID: "a"}),
		jsonEntry(t, TypeClient, master.Client{ID: "b"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtinA, Client: "a", Name: "A"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: gtinB, Client: "b", Name: "B"}),
		jsonEntry(t, TypeASN, ASN{ASN: master.ASN{ID: "ASN-B", Client: "b", Items: []master.ASNItem{{Key: c}}}, User: "admin", At: at, IDs: []event.ID{{7}}}),
		jsonEntry(t, TypeOrder, master.Order{ID: "SO-1", Client: "b", Customer: "x", Lines: []master.OrderLine{{ID: "1", GTIN: gtinB, Qty: 1}}}),
		jsonEntry(t, TypeShipment, master.Shipment{ID: "SH-1", Client: "b", Containers: []event.Key{c}}),
		jsonEntry(t, TypeHold, master.Hold{ID: "H-1", Client: "b", Scope: master.ScopeProduct, GTIN: gtinB, Reason: event.HoldRecall, Active: true, At: at}),
	}
	for i, res := range l.apply(t, setup...) {
		if err, ok := res.(error); ok {
			t.Fatalf("setup %d: %v", i, err)
		}
	}
	before, _ := hashOf(t, st)
	for name, entry := range map[string][]byte{
		"order":    jsonEntry(t, TypeOrder, master.Order{ID: "SO-1", Client: "a", Customer: "x", Lines: []master.OrderLine{{ID: "1", GTIN: gtinA, Qty: 1}}}),
		"shipment": jsonEntry(t, TypeShipment, master.Shipment{ID: "SH-1", Client: "a"}),
		"hold":     jsonEntry(t, TypeHold, master.Hold{ID: "H-1", Client: "a", Scope: master.ScopeProduct, GTIN: gtinA, Reason: event.HoldRecall, Active: true, At: at}),
		"asn": jsonEntry(t, TypeASN, ASN{ASN: master.ASN{ID: "ASN-B", Client: "a", Items: []master.ASNItem{{Key: event.SGTIN(gtinA, "N1")}}},
			User: "admin", At: at, IDs: []event.ID{{8}}}),
		"shipment of another client's container": jsonEntry(t, TypeShipment, master.Shipment{ID: "SH-2", Client: "a", Containers: []event.Key{c}}),
		"shipment of an unknown container":       jsonEntry(t, TypeShipment, master.Shipment{ID: "SH-3", Client: "a", Containers: []event.Key{event.SSCC("003000100000000022")}}),
		"hold on another client's product":       jsonEntry(t, TypeHold, master.Hold{ID: "H-2", Client: "a", Scope: master.ScopeProduct, GTIN: gtinB, Reason: event.HoldRecall, Active: true, At: at}),
		"lot hold on another client's product":   jsonEntry(t, TypeHold, master.Hold{ID: "H-3", Client: "a", Scope: master.ScopeLot, GTIN: gtinB, Lot: "L1", Reason: event.HoldRecall, Active: true, At: at}),
		"hold on an unknown product":             jsonEntry(t, TypeHold, master.Hold{ID: "H-4", Client: "a", Scope: master.ScopeProduct, GTIN: "00300030123459", Reason: event.HoldRecall, Active: true, At: at}),
	} {
		res := l.apply(t, entry)[0]
		if err, ok := res.(error); !ok || !errors.Is(err, ErrRejected) {
			t.Errorf("%s: result %v, want a rejection", name, res)
		}
	}
	// Only the applied index moved (the hash leaves it out).
	if after, _ := hashOf(t, st); after != before {
		t.Error("a refused put changed the state")
	}
	err := st.View(func(r *state.Reader) error {
		o, err := r.Order("SO-1")
		if err != nil || o.Client != "b" {
			t.Errorf("order %+v %v", o, err)
		}
		h, err := r.Hold("H-1")
		if err != nil || h.Client != "b" || h.GTIN != gtinB {
			t.Errorf("hold %+v %v", h, err)
		}
		a, err := r.ASN("ASN-B")
		if err != nil || a.Client != "b" {
			t.Errorf("asn %+v %v", a, err)
		}
		if _, err := r.Shipment("SH-2"); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("shipment of another client's container stored: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The same ASN proposed twice (a retried request) expects its items once:
// the ids derive from its content, and the second proposal answers every
// item from its record.
func TestASNProposedTwiceExpectsOnce(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	a := master.ASN{ID: "ASN-1", Client: "acme", Items: []master.ASNItem{
		{Key: event.SGTIN("00300010123455", "R1"), Lot: "L1", Expiry: "301231"},
		{Key: event.SGTIN("00300010123455", "R2"), Lot: "L1", Expiry: "301231"}}}
	ids := ASNEventIDs(&a)
	if again := ASNEventIDs(&a); !reflect.DeepEqual(ids, again) || ids[0] == ids[1] {
		t.Fatalf("ids %v, again %v", ids, again)
	}
	changed := a
	changed.Items = append([]master.ASNItem(nil), a.Items...)
	changed.Items[1].Lot = "L2"
	if c := ASNEventIDs(&changed); c[0] != ids[0] || c[1] == ids[1] {
		t.Fatalf("a changed item keeps its id or an unchanged one loses it: %v, %v", ids, c)
	}
	first := l.apply(t, jsonEntry(t, TypeASN, ASN{ASN: a, User: "admin", At: 1, IDs: ids}))[0].(ASNResult)
	h1, _ := hashOf(t, st)
	second := l.apply(t, jsonEntry(t, TypeASN, ASN{ASN: a, User: "admin", At: 2, IDs: ASNEventIDs(&a)}))[0].(ASNResult)
	for i, v := range second.Verdicts {
		if v.Status != StatusDuplicate || v.Index != first.Verdicts[i].Index || !reflect.DeepEqual(v.Result, first.Verdicts[i].Result) {
			t.Errorf("item %d proposed again: %+v, first %+v", i, v, first.Verdicts[i])
		}
	}
	if h2, _ := hashOf(t, st); h2 != h1 {
		t.Error("the second proposal changed the state")
	}
	err := st.View(func(r *state.Reader) error {
		for _, it := range a.Items {
			u, err := r.Unit(it.Key)
			if err != nil {
				return err
			}
			hist, err := r.History(it.Key, 0)
			if err != nil {
				return err
			}
			if u.Version != 1 || len(hist) != 1 {
				t.Errorf("%s: version %d, %d history entries after the ASN came twice", it.Key, u.Version, len(hist))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ASN event ids can be predicted, so an event sent under one must not
// make the import answer for it: the ASN is refused and changes nothing.
func TestASNRefusedWhenAnotherEventHoldsItsID(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	l.apply(t, jsonEntry(t, TypeUser, admin))
	a := master.ASN{ID: "ASN-1", Client: "acme", Items: []master.ASNItem{
		{Key: event.SGTIN("00300010123455", "R1")}, {Key: event.SGTIN("00300010123455", "R2")}}}
	ids := ASNEventIDs(&a)
	ev := workload.New(workload.Options{Seed: 5, Devices: 1, Client: "b", GTIN: "00300020123452"}).Receive(1)[0]
	ev.ID = ids[1]
	if v := verdictOf(t, l.apply(t, EncodeEvents(&Events{Received: ev.HLC, Events: []event.Event{ev}}))); v.Status != StatusApplied {
		t.Fatalf("event: %+v", v)
	}
	before, _ := hashOf(t, st)
	res := l.apply(t, jsonEntry(t, TypeASN, ASN{ASN: a, User: "admin", At: 1, IDs: ids}))[0]
	if err, ok := res.(error); !ok || !errors.Is(err, ErrRejected) {
		t.Fatalf("ASN over a taken id: %v", res)
	}
	if after, _ := hashOf(t, st); after != before {
		t.Fatal("the refused ASN changed the state")
	}
}
