package ui

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/shared/demo"
)

// Five wrong PINs lock the user out, and the sign-in screen shows the
// engine's words for it.
func TestSignInLockout(t *testing.T) {
	r := newRig(t)
	r.screen("signin")
	for i := 0; i < 5; i++ {
		r.u.SignIn("op1", "0000")
		r.u.Wait()
		r.screen("signin")
		r.want("refused", "unknown user or wrong PIN")
	}
	r.u.SignIn("op1", r.fx.PIN("op1"))
	r.u.Wait()
	r.screen("signin")
	r.want("refused", "too many wrong PINs: wait")
	if last := r.cues.cues[len(r.cues.cues)-1]; last != engine.CueRefuse {
		t.Fatalf("cue %s", last)
	}
}

// Home shows each task with its count for the user's role and clients.
func TestHomeCounts(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	r.shows("Receive · 1 ASN to receive")
	r.shows("Pick · 1 order to pick")
	r.shows("Ship · 1 shipment to load")
	if r.u.Button("Release") != nil {
		t.Fatal("an operator is offered a lead's action")
	}
	r.tap("Sign out")
	r.screen("signin")
	r.signIn("op2")
	r.shows("Receive · 2 ASNs to receive")
}

// Receiving an ASN by typed scans: progress against the ASN, the verdict
// of each scan, and the close with its shortage list; the events reach
// the outbox.
func TestReceiveByTypedScans(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	_, cases, _ := r.asn1()
	r.tap("Receive")
	r.screen("receive-list")
	r.tap(demo.ASNUS)
	r.screen("receive")
	r.want("accepted", "receiving ASN "+demo.ASNUS)
	r.shows("0 of 4 cases")
	r.scan(r.fx.ScanOf(cases[0]))
	r.want("accepted", "received")
	r.shows("1 of 4 cases")
	r.shows("50 of 200 units")
	r.scan(r.fx.ScanOf(cases[1]))
	r.shows("2 of 4 cases")
	r.scan(r.fx.ScanOf(cases[1]))
	r.want("warning", "already received")
	r.scan([]byte("]d201not-a-gtin"))
	r.want("refused", "bad scan")
	r.shows("2 of 4 cases")
	if n := r.pending(); n != 2 {
		t.Fatalf("%d events waiting, want 2", n)
	}
	r.tap("Close the ASN")
	r.want("warning", "shortage")
	r.shows("Shortage: 2 items not received")
	r.shows("SSCC") // the missing are named as people read them
	r.tap("Back to the ASNs")
	r.screen("receive-list")
	r.shows("No ASN is waiting")
}

// The replay camera feeds frames through the real detector; each code
// read is one scan.
func TestReceiveByCamera(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	_, cases, _ := r.asn1()
	r.frames(r.fx.ScanOf(cases[0]), r.fx.ScanOf(cases[2]), r.fx.ScanOf(cases[3]))
	r.tap("Receive")
	r.tap(demo.ASNUS)
	r.tap("Camera")
	frames, reads := r.u.WaitCamera()
	r.u.Wait()
	if frames != 3 || reads != 3 {
		t.Fatalf("camera: %d frames, %d reads", frames, reads)
	}
	r.want("accepted", "received")
	r.shows("3 of 4 cases")
	if n := r.pending(); n != 3 {
		t.Fatalf("%d events waiting, want 3", n)
	}
}

// A keyboard wedge types fast and ends with Enter: one scan. Slow keys
// are a person, not a scanner: nothing happens.
func TestWedgeScan(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	_, cases, _ := r.asn1()
	r.tap("Receive")
	r.tap(demo.ASNUS)
	r.u.Trigger(string(r.fx.ScanOf(cases[0])), r.clock, 5*time.Millisecond, &r.clock)
	r.u.Wait()
	r.want("accepted", "received")
	r.shows("1 of 4 cases")
	r.u.Trigger(string(r.fx.ScanOf(cases[1])), r.clock, 300*time.Millisecond, &r.clock)
	r.u.Wait()
	r.shows("1 of 4 cases")
}

// Verify a case with one pack missing and a stranger in it: the case is
// held and the screen lists what is missing and extra.
func TestVerifyMismatch(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	pallet, cases, units := r.asn1()
	r.tap("Receive")
	r.tap(demo.ASNUS)
	r.scan(r.fx.ScanOf(pallet))
	r.want("accepted")
	r.tap("Home")
	r.tap("Verify a case")
	r.screen("verify")
	r.scan(r.fx.ScanOf(cases[0]))
	r.want("accepted", "50 expected")
	r.shows("now scan each pack inside")
	for _, it := range units[cases[0]][1:] {
		r.scan(r.fx.ScanOf(it.Key))
	}
	r.want("accepted", "49 of 50")
	r.scan(r.fx.ScanOf(units[cases[1]][0].Key))
	r.want("warning", "not expected")
	r.shows("50 packs scanned")
	r.tap("Finish")
	r.want("warning", "held for investigation")
	r.shows("Missing: 1")
	r.shows("Extra: 1")
}

// Picking follows the engine's FEFO guidance; a held unit is refused
// with the alert; a line is shorted with a reason.
func TestPickGuidanceHeldAndShort(t *testing.T) {
	r := newRig(t)
	r.signIn("op2")
	// hold one pack of the first lot as damaged
	stock := r.fx.Stock(r.fx.Product(3))
	held := stock[0].Units[0]
	r.tap("Quarantine")
	r.tap("Hold: Damaged")
	r.screen("hold")
	r.scan(r.fx.ScanOf(held))
	r.want("accepted")
	r.tap("Home")
	r.tap("Pick")
	r.screen("pick-list")
	r.tap(demo.OrderEU)
	r.screen("pick")
	r.shows("Line 1: 2 more ×")
	r.shows("earliest expiry first")
	r.scan(r.fx.ScanOf(held))
	r.want("alert")
	if last := r.cues.cues[len(r.cues.cues)-1]; last != engine.CueAlert {
		t.Fatalf("cue %s, want alert", last)
	}
	r.shows("Line 1: 0 of 2 picked")
	g, err := r.eng.PickGuide(demo.OrderEU)
	if err != nil {
		t.Fatal(err)
	}
	r.scan(r.fx.ScanOf(g.Suggest))
	r.want("accepted", "picked")
	r.shows("Line 1: 1 of 2 picked")
	r.tap("Short pick this line")
	r.tap("Not on the shelf")
	r.want("warning", "short pick recorded")
	r.shows("1 short (not on the shelf)")
	r.shows("Line 2: 2 more ×")
}

// Pack a picked unit into a new SSCC: the label is on screen; then ship.
func TestPackAndShip(t *testing.T) {
	r := newRig(t)
	r.signIn("op2")
	r.tap("Pick")
	r.tap(demo.OrderEU)
	g, err := r.eng.PickGuide(demo.OrderEU)
	if err != nil {
		t.Fatal(err)
	}
	r.scan(r.fx.ScanOf(g.Suggest))
	r.want("accepted")
	r.tap("Home")
	r.tap("Pack")
	r.screen("pack")
	r.tap("New container")
	r.want("accepted")
	cont := r.u.LastStep().Container
	if !cont.IsSSCC() {
		t.Fatalf("container %q", cont)
	}
	r.shows("Packing into SSCC " + cont.SSCCValue())
	r.scan(r.fx.ScanOf(g.Suggest))
	r.want("accepted")
	r.shows("1 pack in SSCC " + cont.SSCCValue())
	r.tap("Close the container")
	r.want("accepted", "closed")
	r.tap("Home")
	r.tap("Ship")
	r.tap(demo.ShipmentEU)
	r.screen("ship")
	r.scan([]byte("]C100" + cont.SSCCValue()))
	if r.u.Kind() == "refused" {
		t.Fatalf("ship refused: %s", r.u.Reason())
	}
	r.shows("1 container loaded")
}

// A lead holds and releases; an operator is not offered the lead's
// actions.
func TestQuarantineLead(t *testing.T) {
	r := newRig(t)
	r.signIn("lead1")
	u0 := r.fx.Stock(r.fx.Product(3))[1].Units[0]
	r.tap("Quarantine")
	r.tap("Hold: Suspect")
	r.scan(r.fx.ScanOf(u0))
	r.want("accepted")
	r.tap("Home")
	r.tap("Quarantine")
	r.tap("Release holds")
	r.screen("lead")
	r.scan(r.fx.ScanOf(u0))
	r.want("accepted", "releas")
	r.tap("Home")
	r.tap("Quarantine")
	r.u.Fill("GTIN", r.fx.Product(3))
	r.u.Fill("Lot", r.fx.Stock(r.fx.Product(3))[2].Lot)
	r.tap("Hold this lot")
	r.want("accepted")
}

// Look-up shows state, location and history in words.
func TestLookup(t *testing.T) {
	r := newRig(t)
	r.signIn("op2")
	u0 := r.fx.Stock(r.fx.Product(0))[1].Units[0] // a unit of the recalled lot
	r.tap("Look up")
	r.screen("lookup")
	r.scan(r.fx.ScanOf(u0))
	if r.u.Kind() == "refused" {
		t.Fatalf("look-up refused: %s", r.u.Reason())
	}
	r.shows("In stock · at A-01-02")
	r.shows("ON HOLD (recall of its lot or product)")
}

// A return of a serial the site never shipped goes to quarantine with
// the alert.
func TestReturnUnknownSerial(t *testing.T) {
	r := newRig(t)
	r.signIn("op2")
	r.tap("Returns")
	r.screen("returns")
	r.scan(demo.UnitScan(r.fx.Product(3), "NEVER1", r.fx.Stock(r.fx.Product(3))[0].Lot, r.fx.Stock(r.fx.Product(3))[0].Expiry))
	r.want("alert", "quarantine")
}

// Idle for longer than the setting signs the user out.
func TestIdleSignOut(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	r.clock = r.clock.Add(9 * time.Minute)
	r.u.CheckIdle()
	r.screen("home")
	r.clock = r.clock.Add(2 * time.Minute)
	r.u.CheckIdle()
	r.screen("signin")
	r.want("accepted", "signed out after")
	if r.eng.User() != nil {
		t.Fatal("still signed in")
	}
}

// The header says offline and how many events wait; the sync screen
// says the same in words.
func TestHeaderAndSyncScreen(t *testing.T) {
	r := newRig(t)
	r.signIn("op1")
	_, cases, _ := r.asn1()
	r.tap("Receive")
	r.tap(demo.ASNUS)
	r.scan(r.fx.ScanOf(cases[0]))
	if got, _ := r.u.header.waiting.Get(); got != "1 event waiting" {
		t.Fatalf("header: %q", got)
	}
	if got, _ := r.u.header.conn.Get(); got != "● NO SITE SET" {
		t.Fatalf("header: %q", got)
	}
	r.tap("Home")
	r.tap("Sync")
	r.screen("sync")
	r.shows("1 event waiting to be sent")
}
