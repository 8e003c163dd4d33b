package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

const gtin = "00300010123455"

// evs builds events of one device with contiguous sequence numbers.
type evs struct {
	dev string
	seq uint64
	t   time.Time
}

func (e *evs) next(kind event.Kind, k event.Key, ctx event.Context) event.Event {
	e.seq++
	e.t = e.t.Add(time.Hour)
	return event.Event{ID: event.ID{0x51, e.dev[len(e.dev)-1], byte(e.seq >> 8), byte(e.seq), 0x70, 0, 0, 0, 0x80}, Device: e.dev, Epoch: 1, Seq: e.seq,
		HLC: hlc.New(e.t.UnixMilli(), 0), User: "admin", Site: "site", Client: "acme", Kind: kind,
		Subjects: []event.Subject{{Key: k}}, Ctx: ctx}
}

func propose(t testing.TB, m *sitetest.Member, typ command.Type, v any) {
	t.Helper()
	b, err := command.EncodeJSON(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Node.Propose(context.Background(), b, false); err != nil {
		t.Fatal(err)
	}
}

func submit(t testing.TB, m *sitetest.Member, es ...event.Event) {
	t.Helper()
	vs, err := m.Node.SubmitEvents(context.Background(), es, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Status != command.StatusApplied {
			t.Fatalf("event %s: %s %s", v.ID, v.Status, v.Reason)
		}
	}
}

// exceptions lists the site's exceptions of a rule.
func exceptions(t *testing.T, st *state.Store, rule unit.Rule) []unit.Exception {
	t.Helper()
	var page state.Page[unit.Exception]
	if err := st.View(func(r *state.Reader) error {
		var err error
		page, err = r.Exceptions(state.ExceptionFilter{Rule: rule})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// step runs the analyzer until it has read everything applied.
func step(t *testing.T, a *Analyzer) {
	t.Helper()
	for {
		more, err := a.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
}

func TestAnalyzerOnASite(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	m := site.WaitLeader(30 * time.Second)
	propose(t, m, command.TypeClient, master.Client{ID: "acme"})
	propose(t, m, command.TypeProduct, master.Product{GTIN: gtin, Client: "acme"})
	k1, k2 := event.SGTIN(gtin, "A1"), event.SGTIN(gtin, "A2")
	asn := master.ASN{ID: "ASN1", Client: "acme", Supplier: "sup", Items: []master.ASNItem{{Key: k1, Lot: "L1", Expiry: "301231"}}}
	for _, c := range command.SplitASN(asn, "admin", hlc.New(time.Now().UnixMilli(), 0)) {
		propose(t, m, command.TypeASNChunk, c)
	}
	d1 := &evs{dev: "d1", t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	d2 := &evs{dev: "d2", t: d1.t}
	// Received, shipped, then received again elsewhere: a clone.
	submit(t, m, d1.next(event.KindReceive, k1, event.Context{ASN: "ASN1", To: "DOCK"}),
		d1.next(event.KindShip, k1, event.Context{Shipment: "S1"}))
	clone := d2.next(event.KindReceive, k1, event.Context{To: "DOCK-2"})
	submit(t, m, clone)
	// A unit no supplier announced.
	submit(t, m, d2.next(event.KindReceive, k2, event.Context{To: "DOCK-2"}))

	a := New(Config{Node: m.Node})
	step(t, a)
	xs := exceptions(t, m.Node.State(), signals.RuleClonedSerial)
	if len(xs) != 1 || xs[0].Unit != k1 || xs[0].Severity != unit.SeverityHigh || xs[0].Events[0] != clone.ID {
		t.Fatalf("clone exceptions %+v", xs)
	}
	var u unit.State
	m.Node.State().View(func(r *state.Reader) error { u, _ = r.Unit(k1); return nil })
	if !u.Holds.Has(event.HoldSuspect) {
		t.Fatalf("the clone's unit is not quarantined: %+v", u)
	}
	nodata := exceptions(t, m.Node.State(), signals.RuleNoSupplierData)
	if len(nodata) != 1 || nodata[0].Unit != k2 {
		t.Fatalf("no-supplier-data exceptions %+v", nodata)
	}

	// Another analyzer on the same log (a restart, a new leader) reads
	// everything again and repeats nothing.
	b := New(Config{Node: m.Node})
	step(t, b)
	if s := b.Stats(); s.Pending != 0 || s.Proposed != 0 {
		t.Fatalf("a second analyzer proposed again: %+v", s)
	}
	if n := len(exceptions(t, m.Node.State(), signals.RuleClonedSerial)) + len(exceptions(t, m.Node.State(), signals.RuleNoSupplierData)); n != 2 {
		t.Fatalf("%d exceptions after a second analyzer", n)
	}

	// A shift lead calls the missing supplier data a false alarm through
	// the API: the cause (that product without data) is silenced.
	body, _ := json.Marshal(map[string]string{"verdict": "false_alarm", "note": "supplier sends data late"})
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/exceptions/"+nodata[0].ID+"/verdict", bytes.NewReader(body))
	req.Header.Set("X-Custody-User", "admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verdict: HTTP %d", resp.StatusCode)
	}
	k3 := event.SGTIN(gtin, "A3")
	submit(t, m, d2.next(event.KindReceive, k3, event.Context{To: "DOCK-2"}))
	step(t, a)
	step(t, b)
	if got := exceptions(t, m.Node.State(), signals.RuleNoSupplierData); len(got) != 1 {
		t.Fatalf("a silenced cause was raised again: %+v", got)
	}
	var rec state.SignalRecord
	m.Node.State().View(func(r *state.Reader) error { rec, _ = r.Signal(nodata[0].ID); return nil })
	if rec.Verdict != signals.VerdictFalseAlarm || rec.By != "admin" {
		t.Fatalf("verdict not recorded: %+v", rec)
	}
	x := exceptions(t, m.Node.State(), signals.RuleNoSupplierData)[0]
	if x.Status != unit.ExceptionResolved {
		t.Fatalf("a false alarm left the exception %s", x.Status)
	}
	// A verdict on an exception no signal raised is not found.
	req, _ = http.NewRequest(http.MethodPost, m.URL()+"/api/v1/exceptions/Xnothing/verdict", bytes.NewReader(body))
	req.Header.Set("X-Custody-User", "admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("verdict on an unknown exception: HTTP %d", resp.StatusCode)
	}
}
