package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// refusedFor checks that a step was refused for the reason named by want.
func (r *rig) refusedFor(want string) func(Step, error) Step {
	return func(s Step, err error) Step {
		r.t.Helper()
		r.is(Refused)(s, err)
		if !strings.Contains(s.Reason, want) {
			r.t.Fatalf("%s refused for %q, want %q", s.Action, s.Reason, want)
		}
		return s
	}
}

// Two outbound containers cannot be packed into each other: A into B,
// then B into A is refused, and both can still be shipped as one.
func TestPackRefusesContainerCycle(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	u := r.fx.Stock(r.fx.Product(3))[0].Units[0]
	r.is(Accepted)(r.scan(u))
	a := r.is(Accepted)(r.e.NewContainer()).Container
	r.is(Accepted)(r.scan(u))
	b := r.is(Accepted)(r.e.NewContainer()).Container
	r.is(Accepted)(r.e.Scan(demo.SSCCScan(a.SSCCValue()))) // A into B
	r.is(Accepted)(r.e.PackInto(a))
	before, _ := r.st.Outbox()
	r.refusedFor("own contents")(r.e.Scan(demo.SSCCScan(b.SSCCValue()))) // B into A
	if after, _ := r.st.Outbox(); after.Last != before.Last || r.unit(a).Parent != b || r.unit(b).Parent != "" {
		t.Fatalf("cycle written: seq %d -> %d, A in %q, B in %q", before.Last, after.Last, r.unit(a).Parent, r.unit(b).Parent)
	}
	r.is(Accepted)(r.e.StartShip(demo.ShipmentEU, ""))
	r.is(Accepted)(r.e.Scan(demo.SSCCScan(b.SSCCValue())))
	if st := r.unit(u); st.Status != unit.StatusShipped {
		t.Fatalf("unit inside: %+v", st)
	}
}

// Wrong PINs are counted per user: an operator signing in with their own
// PIN does not reset the count of guesses at the lead's PIN.
func TestLockoutPerUser(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	for i := range 10 {
		pin := fmt.Sprintf("%04d", 9990+i) // the lead's PIN is 9999
		s := r.must(r.e.Login("lead1", pin))
		if s.Verdict == Accepted {
			t.Fatalf("lead PIN found after %d guesses", i+1)
		}
		if i%4 == 3 {
			r.is(Accepted)(r.e.Login("op1", r.fx.PIN("op1")))
		}
	}
	r.refusedFor("too many wrong PINs")(r.e.Login("lead1", "9999"))
	// Another user is not locked out by the lead's lockout.
	r.is(Accepted)(r.e.Login("op2", r.fx.PIN("op2")))
	r.now = r.now.Add(61 * time.Second)
	r.is(Accepted)(r.e.Login("lead1", "9999"))
}

// The lockout is kept in the store: a restart of the app does not lift it.
func TestLockoutSurvivesRestart(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	for range 5 {
		r.refusedFor("wrong PIN")(r.e.Login("lead1", "1234"))
	}
	e2, err := New(r.st, Config{Now: r.clock, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.refusedFor("too many wrong PINs")(e2.Login("lead1", "9999"))
	// A reload of the replica keeps it too.
	if _, err := e2.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	r.refusedFor("too many wrong PINs")(e2.Login("lead1", "9999"))
	// A clock set back a year does not lock the lead out for a year.
	r.now = r.now.Add(-365 * 24 * time.Hour)
	r.refusedFor("wait 1m0s")(e2.Login("lead1", "9999"))
	r.now = r.now.Add(61 * time.Second)
	r.is(Accepted)(e2.Login("lead1", "9999"))
}

// Guesses spread over many user ids, known or not, lock the device.
func TestLockoutPerDevice(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	for i := range 15 {
		r.refusedFor("unknown user or wrong PIN")(r.e.Login(fmt.Sprintf("nobody%d", i), "1111"))
	}
	r.refusedFor("too many wrong PINs")(r.e.Login("op1", r.fx.PIN("op1")))
	r.now = r.now.Add(61 * time.Second)
	r.is(Accepted)(r.e.Login("op1", r.fx.PIN("op1")))
	// A quiet spell forgets the device's count.
	for i := range 14 {
		r.refusedFor("wrong PIN")(r.e.Login(fmt.Sprintf("nobody%d", i), "1111"))
	}
	r.now = r.now.Add(11 * time.Minute)
	r.refusedFor("wrong PIN")(r.e.Login("nobody", "1111"))
	r.is(Accepted)(r.e.Login("op1", r.fx.PIN("op1")))
}

// Destroying and decommissioning stock need a shift lead.
func TestDestroyNeedsLead(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	r.refusedFor("only a shift lead may destroy")(r.e.StartDestroy("oops"), nil)
	r.refusedFor("only a shift lead may decommission")(r.e.StartDecommission("sample"), nil)
	if r.e.Mode() == "destroy" || r.e.Mode() == "decommission" {
		t.Fatalf("mode %s", r.e.Mode())
	}
	if st := r.unit(cases[0]); st.Status != unit.StatusInStock {
		t.Fatalf("case %+v", st)
	}
	r.login("lead1")
	r.is(Accepted)(r.e.StartDestroy("broken"), nil)
	r.is(Accepted)(r.scan(units[cases[0]][0].Key))
	// A task started by a lead does not outlive a change of user.
	r.login("op1")
	r.refusedFor("choose a task")(r.scan(units[cases[0]][1].Key))
}

// A lot release lifts only what the lot hold put on: a unit's own hold
// of the same reason, placed before, stays.
func TestReleaseLotKeepsOwnHolds(t *testing.T) {
	r := newRigWith(t, demo.DefaultParams(), func(fx *demo.Fixture) {
		for i := range fx.Snapshot.Users {
			if fx.Snapshot.Users[i].ID == "admin" {
				fx.Snapshot.Users[i].Clients = []string{demo.ClientEU}
			}
		}
	})
	r.login("lead1")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	own := units[cases[0]][5].Key
	r.is(Accepted)(r.e.StartHold("investigation", "suspected tamper"), nil)
	r.is(Accepted)(r.scan(own))
	lot := units[cases[0]][0].Lot
	r.is(Accepted)(r.e.HoldLot(r.fx.Product(0), lot, "investigation", "temperature excursion"))
	// A lead not granted the client may not release it.
	r.login("admin")
	r.refusedFor("not granted")(r.e.ReleaseLot(r.fx.Product(0), lot))
	r.login("lead1")
	r.is(Accepted)(r.e.ReleaseLot(r.fx.Product(0), lot))
	if h := r.unit(own).Holds; !h.Has(event.HoldInvestigation) {
		t.Fatalf("the unit's own hold was lifted: %v", h)
	}
	if h := r.unit(units[cases[0]][6].Key).Holds; h != 0 {
		t.Fatalf("lot hold not lifted: %v", h)
	}
}

// A reload of the replica keeps the device's own lot hold: the lead can
// still release it, and later receipts of the lot are still held.
func TestReloadKeepsLocalLotHold(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	lot := units[cases[0]][0].Lot
	r.is(Accepted)(r.e.HoldLot(r.fx.Product(0), lot, "suspect", "alert"))
	if _, err := r.e.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	var inh event.Holds
	if err := r.st.View(func(tx *store.Tx) (err error) { inh, err = tx.LotHolds(r.fx.Product(0), lot); return }); err != nil || !inh.Has(event.HoldSuspect) {
		t.Fatalf("lot hold after reload: %v %v", inh, err)
	}
	r.login("lead1")
	r.is(Accepted)(r.e.ReleaseLot(r.fx.Product(0), lot))
	if h := r.unit(units[cases[0]][3].Key).Holds; h != 0 {
		t.Fatalf("unit holds after release: %v", h)
	}
}

// A reload keeps a shipment created on the device: it can still be voided.
func TestReloadKeepsDeviceShipment(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	u := r.fx.Stock(r.fx.Product(3))[0].Units[0]
	r.is(Accepted)(r.scan(u))
	c := r.is(Accepted)(r.e.NewContainer()).Container
	r.is(Accepted)(r.scan(u))
	r.is(Accepted)(r.e.StartShip("SHP-NEW", "CUST-2"))
	r.is(Accepted)(r.e.Scan(demo.SSCCScan(c.SSCCValue())))
	if _, err := r.e.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	r.login("op2")
	r.is(Accepted)(r.e.VoidShipment("SHP-NEW"))
	if st, in := r.unit(c), r.unit(u); st.Status == unit.StatusShipped || in.Status != unit.StatusPacked || in.Shipment != "" {
		t.Fatalf("after void: container %+v, unit %+v", st, in)
	}
}

// A reload keeps an ASN closed on the device, its shortage exceptions and
// short picks.
func TestReloadKeepsClosedASNAndShortPick(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	_, cases, _ := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	closed := r.is(Warning)(r.e.Close())
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Warning)(r.e.ShortPick("1", "none on the shelf"))
	if _, err := r.e.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	r.login("op2")
	r.refusedFor("closed")(r.e.StartReceive(demo.ASNUS))
	for _, id := range closed.Exceptions {
		if x := r.exception(id); x.Rule != unit.RuleShortage || !x.Active() {
			t.Fatalf("shortage after reload: %+v", x)
		}
	}
	s := r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	if s.Progress[0].Short == 0 || s.Progress[0].Reason != "none on the shelf" {
		t.Fatalf("short pick after reload: %+v", s.Progress)
	}
}

// A pallet received by its label with a recalled lot inside goes to
// quarantine whole, with the alert.
func TestPalletWithRecalledLotToQuarantine(t *testing.T) {
	var lot string
	r := newRigWith(t, demo.DefaultParams(), func(fx *demo.Fixture) {
		_, cases, units := asn1(fx)
		lot = units[cases[1]][0].Lot
		fx.Snapshot.Holds = append(fx.Snapshot.Holds, master.Hold{ID: "H-X", Client: demo.ClientUS, Scope: master.ScopeLot,
			GTIN: fx.Product(0), Lot: lot, Reason: event.HoldRecall, Active: true, By: "lead1"})
	})
	r.login("op2")
	pallet, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	s := r.is(Warning)(r.scan(pallet))
	if s.Cue != CueAlert || !hasRule(s, unit.RuleRecalled) || !strings.Contains(s.Reason, "quarantine") {
		t.Fatalf("pallet: %+v", s)
	}
	for _, k := range []event.Key{pallet, cases[1], units[cases[1]][0].Key, units[cases[0]][0].Key} {
		if st := r.unit(k); st.Location != demo.Quarantine {
			t.Fatalf("%s at %s", k, st.Location)
		}
	}
	// A clean case is received at the dock with the plain cue.
	r2 := newRig(t, demo.DefaultParams())
	r2.login("op2")
	r2.is(Accepted)(r2.e.StartReceive(demo.ASNUS))
	if s := r2.is(Accepted)(r2.scan(cases[0])); s.Cue != CueOK || r2.unit(cases[0]).Location != demo.Dock {
		t.Fatalf("clean case: %+v", s)
	}
}

// A unit picked out of a received case leaves the case in the same
// step, so it can be shipped loose.
func TestPickOutOfCaseUnpacks(t *testing.T) {
	r := newRigWith(t, demo.DefaultParams(), func(fx *demo.Fixture) {
		fx.Snapshot.Clients[0].Policy.FEFO = master.FEFOOff
		fx.Snapshot.Orders = append(fx.Snapshot.Orders, master.Order{ID: "ORD-X", Client: demo.ClientUS, Customer: "CUST-1",
			Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(0), Qty: 5}}})
	})
	r.login("op2")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(cases[0]))
	k := units[cases[0]][0].Key
	r.is(Accepted)(r.e.StartPick("ORD-X"))
	s := r.is(Accepted)(r.scan(k))
	if len(s.Events) != 2 || r.unit(k).Parent != "" || len(r.children(cases[0])) != 49 {
		t.Fatalf("pick out of case: %+v parent %q", s, r.unit(k).Parent)
	}
	var kinds []event.Kind
	for _, h := range r.is(Accepted)(r.e.Lookup(k)).Info.History {
		kinds = append(kinds, h.Kind)
	}
	if len(kinds) != 3 || kinds[1] != event.KindUnpack || kinds[2] != event.KindPick {
		t.Fatalf("history %v", kinds)
	}
	r.is(Accepted)(r.e.StartShip("SHP-X", "CUST-1"))
	r.is(Accepted)(r.scan(k))
	// A refused pick (a held unit) leaves it in its case: nothing is written.
	held := units[cases[0]][1].Key
	r.login("lead1")
	r.is(Accepted)(r.e.StartHold("damaged", ""), nil)
	r.is(Accepted)(r.scan(held))
	r.is(Accepted)(r.e.StartPick("ORD-X"))
	r.is(Refused)(r.scan(held))
	if r.unit(held).Parent != cases[0] {
		t.Fatal("refused pick unpacked the unit")
	}
}

// The device number is stored in the data dir at first use; without one
// the device cannot number new containers; another one is refused.
func TestDeviceNumberStored(t *testing.T) {
	r := newRig(t, demo.DefaultParams()) // enrolled as device 7
	e2, err := New(r.st, Config{Now: r.clock, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	r.e = e2
	r.login("op2")
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(3))[0].Units[0]))
	c := r.is(Accepted)(r.e.NewContainer()).Container
	if got := c.SSCCValue()[1+len(demo.SSCCPrefix):][:3]; got != "007" {
		t.Fatalf("SSCC %s: device number %s", c, got)
	}
	if _, err := New(r.st, Config{DeviceNumber: 8, Logger: quiet()}); !errors.Is(err, ErrConfig) {
		t.Fatalf("another device number: %v", err)
	}

	st, err := store.Open(t.TempDir(), store.Options{Device: "hh-2", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bare, err := New(st, Config{Now: r.clock, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.Load(&r.fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	r.must(bare.Login("op2", r.fx.PIN("op2")))
	s := r.refusedFor("no device number")(bare.NewContainer())
	if s.Events != nil {
		t.Fatalf("refusal wrote %v", s.Events)
	}
}

// A site whose SSCC prefix leaves a device few serial references warns
// at every new container.
func TestSSCCRangeLowWarns(t *testing.T) {
	r := newRigWith(t, demo.DefaultParams(), func(fx *demo.Fixture) { fx.Snapshot.Site.SSCCPrefix = "061414100001" })
	r.login("op2")
	r.is(Accepted)(r.e.StartPick(demo.OrderEU))
	r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(3))[0].Units[0]))
	s := r.is(Warning)(r.e.NewContainer())
	if !strings.Contains(s.Reason, "8 SSCC numbers left") || s.Container == "" {
		t.Fatalf("new container: %+v", s)
	}
}

// A returned pack the site has no record of is received to quarantine
// on a suspect hold with a WRONG_SERIAL exception; one of a product the
// site does not know is refused.
func TestReturnOfUnknownSerial(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	para := r.fx.Stock(r.fx.Product(3))[0]
	r.is(Accepted)(r.e.StartReturn(), nil)
	s := r.is(Warning)(r.e.Scan(demo.UnitScan(para.GTIN, "NEVER", para.Lot, para.Expiry)))
	st := r.unit(event.SGTIN(para.GTIN, "NEVER"))
	if s.Cue != CueAlert || !hasRule(s, unit.RuleWrongSerial) || st.Status != unit.StatusInStock ||
		!st.Holds.Has(event.HoldSuspect) || st.Location != demo.Quarantine || st.Client != demo.ClientEU {
		t.Fatalf("unknown return: %+v %+v", s, st)
	}
	before, _ := r.st.Outbox()
	s = r.is(Refused)(r.e.Scan(demo.UnitScan("00399999999991", "X1", "L1", "281231")))
	if after, _ := r.st.Outbox(); s.Cue != CueAlert || after.Last != before.Last {
		t.Fatalf("unknown product return: %+v", s)
	}
	r.login("op1") // not granted the EU client
	r.is(Accepted)(r.e.StartReturn(), nil)
	r.refusedFor("not granted")(r.e.Scan(demo.UnitScan(para.GTIN, "NEVER2", para.Lot, para.Expiry)))
}

// FEFO compares expiry dates, not text: DD 00 is the month's last day.
func TestExpiresBefore(t *testing.T) {
	today := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"270615", "270600", true},  // 15 June before 30 June
		{"270600", "270615", false}, // as text "270600" < "270615"
		{"270600", "270701", true},
		{"270131", "270200", true},
		{"270200", "270200", false},
		{"", "270101", true}, // malformed: as text
	} {
		if got := expiresBefore(c.a, c.b, today); got != c.want {
			t.Errorf("expiresBefore(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
