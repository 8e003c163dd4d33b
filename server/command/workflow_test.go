package command

import (
	"slices"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/shared/unit/workflowcases"
)

// workflowExceptions lists the workflow exceptions the state holds, by id.
func workflowExceptions(t *testing.T, st *state.Store) map[string]unit.Exception {
	t.Helper()
	out := map[string]unit.Exception{}
	err := st.View(func(r *state.Reader) error {
		page, err := r.Exceptions(state.ExceptionFilter{Limit: 10000})
		for _, x := range page.Items {
			if slices.Contains(workflowcases.Rules(), x.Rule) {
				out[x.ID] = x
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWorkflowCasesThroughTheLog runs the shared workflow cases through
// the processor and Badger state: the same findings under the same ids
// as the reference store and the handheld.
func TestWorkflowCasesThroughTheLog(t *testing.T) {
	for _, c := range workflowcases.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			st := openStore(t)
			l := &log{p: newProc(t, st)}
			entries := [][]byte{jsonEntry(t, TypeClient, master.Client{ID: workflowcases.Client})}
			for _, p := range c.Products {
				entries = append(entries, jsonEntry(t, TypeProduct, p))
			}
			for _, r := range l.apply(t, entries...) {
				if r != nil {
					t.Fatalf("master data: %v", r)
				}
			}
			// The ASN record as the catalog (its expect events come next,
			// as the case gives them).
			tx := st.Begin()
			for _, a := range c.ASNs {
				if err := tx.PutASN(a); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			received := hlc.New(1_790_000_100_000, 0)
			if len(c.Before) > 0 {
				l.apply(t, EncodeEvents(&Events{Received: received, Events: c.Before}))
			}
			before := workflowExceptions(t, st)
			entry := EncodeEvents(&Events{Received: received, Events: []event.Event{c.Event}})
			vs := l.apply(t, entry)[0].([]Verdict)
			if vs[0].Status != StatusApplied {
				t.Fatalf("verdict %+v", vs[0])
			}
			got := map[string]unit.Rule{}
			for id, x := range workflowExceptions(t, st) {
				if _, old := before[id]; !old {
					got[id] = x.Rule
				}
			}
			want := c.WantIDs()
			if len(got) != len(want) {
				t.Fatalf("raised %v, want %v", got, want)
			}
			for id, r := range want {
				if got[id] != r {
					t.Fatalf("missing %s %s; raised %v", r, id, got)
				}
			}
			// A resend of the event (the device did not hear the ack) is a
			// duplicate and raises nothing again.
			again := l.apply(t, entry)[0].([]Verdict)
			if again[0].Status != StatusDuplicate {
				t.Fatalf("resend: %+v", again[0])
			}
			if n := len(workflowExceptions(t, st)) - len(before); n != len(want) {
				t.Fatalf("after a resend %d exceptions, want %d", n, len(want))
			}
		})
	}
}

// TestWorkflowRecordsKeptAtTheSite: a close marks the site's ASN
// closed; a short pick is kept with its order line.
func TestWorkflowRecordsKeptAtTheSite(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	c := workflowcases.Cases()[0]
	entries := [][]byte{jsonEntry(t, TypeClient, master.Client{ID: workflowcases.Client}),
		jsonEntry(t, TypeOrder, master.Order{ID: "SO-1", Client: workflowcases.Client, Lines: []master.OrderLine{{ID: "1", GTIN: workflowcases.GTIN, Qty: 5}}})}
	for _, p := range c.Products {
		entries = append(entries, jsonEntry(t, TypeProduct, p))
	}
	for _, r := range l.apply(t, entries...) {
		if r != nil {
			t.Fatalf("master data: %v", r)
		}
	}
	tx := st.Begin()
	if err := tx.PutASN(c.ASNs[0]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	short := c.Event
	short.Seq++
	short.ID[15]++
	short.Kind, short.Subjects = event.KindShortPick, nil
	short.Ctx = event.Context{Order: "SO-1", Line: "1", Qty: 3, Reason: "two found damaged"}
	evs := append(c.Before, c.Event, short)
	vs := l.apply(t, EncodeEvents(&Events{Received: hlc.New(1_790_000_100_000, 0), Events: evs}))[0].([]Verdict)
	for _, v := range vs {
		if v.Status != StatusApplied {
			t.Fatalf("verdict %+v", v)
		}
	}
	err := st.View(func(r *state.Reader) error {
		a, err := r.ASN("ASN-1")
		if err != nil || !a.Closed {
			t.Errorf("ASN after close: %+v %v", a.Closed, err)
		}
		sp, err := r.ShortPicks("SO-1")
		if err != nil || len(sp) != 1 || sp[0].Qty != 3 || sp[0].Reason != "two found damaged" || sp[0].Event != short.ID {
			t.Errorf("short picks %+v %v", sp, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// memCatalog is the reference store with products (and no ASNs).
type memCatalog struct {
	*unit.MemStore
	products map[string]string
}

func (m *memCatalog) ProductClient(gtin string) (string, bool, error) {
	c, ok := m.products[gtin]
	return c, ok, nil
}

func (m *memCatalog) ASNAnnounces(string, string) (bool, bool, error) { return false, false, nil }

// evs builds events of one device in sequence, after the case's own.
type evs struct {
	base event.Event
	n    uint64
}

func (s *evs) ev(k event.Kind, ctx event.Context, keys ...event.Key) event.Event {
	s.n++
	e := s.base
	e.Device, e.Seq, e.HLC, e.Kind, e.Ctx, e.Subjects = "hh-9", s.n, s.base.HLC+hlc.Timestamp(s.n<<16), k, ctx, nil
	e.ID[0], e.ID[14], e.ID[15] = 0x01, 0x99, byte(s.n)
	for _, key := range keys {
		e.Subjects = append(e.Subjects, event.Subject{Key: key})
	}
	return e
}

// TestShipmentRecordFollowsTheDevices: what a device ships is in the
// shipment's record (created when the site has none), and what it takes
// off the shipment leaves it; the record of another client's shipment
// is left alone.
func TestShipmentRecordFollowsTheDevices(t *testing.T) {
	st := openStore(t)
	l := &log{p: newProc(t, st)}
	c := workflowcases.Cases()[0]
	entries := [][]byte{jsonEntry(t, TypeClient, master.Client{ID: workflowcases.Client}),
		jsonEntry(t, TypeClient, master.Client{ID: "other"}),
		jsonEntry(t, TypeShipment, master.Shipment{ID: "SHP-X", Client: "other"}),
		jsonEntry(t, TypeOrder, master.Order{ID: "SO-1", Client: workflowcases.Client, Lines: []master.OrderLine{{ID: "1", GTIN: workflowcases.GTIN, Qty: 5}}})}
	for _, p := range c.Products {
		entries = append(entries, jsonEntry(t, TypeProduct, p))
	}
	for _, r := range l.apply(t, entries...) {
		if r != nil {
			t.Fatalf("master data: %v", r)
		}
	}
	sscc := event.SSCC("003000100000000015")
	s := &evs{base: c.Event}
	day := append([]event.Event{}, c.Before...)
	day = append(day,
		s.ev(event.KindPick, event.Context{Order: "SO-1", Line: "1"}, workflowcases.U3),
		s.ev(event.KindPack, event.Context{Parent: sscc}, workflowcases.U3),
		s.ev(event.KindVerify, event.Context{}, sscc),
		s.ev(event.KindShip, event.Context{Shipment: "SHP-1"}, sscc),
		s.ev(event.KindShip, event.Context{Shipment: "SHP-X"}, sscc))
	vs := l.apply(t, EncodeEvents(&Events{Received: hlc.New(1_790_000_100_000, 0), Events: day}))[0].([]Verdict)
	for _, v := range vs {
		if v.Status != StatusApplied {
			t.Fatalf("verdict %+v", v)
		}
	}
	shipment := func(id string) master.Shipment {
		var sh master.Shipment
		if err := st.View(func(r *state.Reader) (err error) { sh, err = r.Shipment(id); return }); err != nil {
			t.Fatalf("shipment %s: %v", id, err)
		}
		return sh
	}
	if sh := shipment("SHP-1"); sh.Client != workflowcases.Client || !slices.Equal(sh.Containers, []event.Key{sscc}) {
		t.Fatalf("SHP-1 after the ship: %+v", sh)
	}
	if sh := shipment("SHP-X"); len(sh.Containers) != 0 {
		t.Fatalf("another client's shipment got %v", sh.Containers)
	}
	// The histories: the new SSCC's starts with its packing; the unit's
	// shows its container verified.
	kinds := func(k event.Key) []event.Kind {
		var out []event.Kind
		err := st.View(func(r *state.Reader) error {
			h, err := r.History(k, 0)
			for _, rec := range h {
				out = append(out, rec.Event.Kind)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := kinds(sscc), []event.Kind{event.KindPack, event.KindVerify, event.KindShip, event.KindShip}; !slices.Equal(got, want) {
		t.Errorf("history of %s: %v, want %v", sscc, got, want)
	}
	if got := kinds(workflowcases.U3); !slices.Contains(got, event.KindVerify) || !slices.Contains(got, event.KindPack) {
		t.Errorf("history of %s: %v, want its container's verify", workflowcases.U3, got)
	}
	void := s.ev(event.KindVoidShip, event.Context{Shipment: "SHP-1"}, sscc)
	if v := l.apply(t, EncodeEvents(&Events{Received: hlc.New(1_790_000_200_000, 0), Events: []event.Event{void}}))[0].([]Verdict); v[0].Status != StatusApplied {
		t.Fatalf("void: %+v", v[0])
	}
	if sh := shipment("SHP-1"); len(sh.Containers) != 0 {
		t.Fatalf("SHP-1 after the void: %+v", sh)
	}
}
