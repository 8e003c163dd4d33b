package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// asn1 returns the US ASN's pallet, its cases and each case's units.
func asn1(fx *demo.Fixture) (pallet event.Key, cases []event.Key, units map[event.Key][]master.ASNItem) {
	a := fx.ASN(demo.ASNUS)
	units = map[event.Key][]master.ASNItem{}
	for _, it := range a.Items {
		switch {
		case it.Parent == "":
			pallet = it.Key
		case it.Parent == pallet:
			cases = append(cases, it.Key)
		default:
			units[it.Parent] = append(units[it.Parent], it)
		}
	}
	return
}

// A full inbound ASN: one pallet of 4 cases of 50 units, received by the
// pallet label; one case opened and verified; one opened and found with
// a unit missing and a stranger inside; then a second ASN closed short.
func TestScenarioInboundPallet(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	pallet, cases, units := asn1(r.fx)
	if len(cases) != 4 || len(units[cases[0]]) != 50 {
		t.Fatalf("fixture: %d cases, %d units", len(cases), len(units[cases[0]]))
	}
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	s := r.is(Accepted)(r.scan(pallet))
	if s.Units != 205 || s.Seq != 1 || len(s.Events) != 1 {
		t.Fatalf("pallet receipt reached %d units, seq %d", s.Units, s.Seq)
	}
	for _, c := range cases {
		if st := r.unit(c); st.Status != unit.StatusInStock || st.Completeness != unit.CompletenessInferred || st.Location != demo.Dock {
			t.Fatalf("case %s: %+v", c, st)
		}
	}
	u0 := units[cases[0]][0].Key
	if st := r.unit(u0); st.Status != unit.StatusInStock || st.Parent != cases[0] {
		t.Fatalf("unit: %+v", st)
	}
	// The same label again changes nothing.
	r.is(Warning)(r.scan(pallet))

	// Open case 0 and scan all 50: verified.
	r.is(Accepted)(r.e.StartVerify(), nil)
	r.is(Accepted)(r.scan(cases[0]))
	for _, it := range units[cases[0]] {
		r.is(Accepted)(r.scan(it.Key))
	}
	s = r.is(Accepted)(r.e.Close())
	if s.Cue != CueDone || r.unit(cases[0]).Completeness != unit.CompletenessVerified {
		t.Fatalf("verify: %+v %+v", s, r.unit(cases[0]))
	}

	// Open case 1: one unit missing, one from case 2 inside.
	r.is(Accepted)(r.e.StartVerify(), nil)
	r.is(Accepted)(r.scan(cases[1]))
	for _, it := range units[cases[1]][1:] {
		r.is(Accepted)(r.scan(it.Key))
	}
	stranger := units[cases[2]][0].Key
	r.is(Warning)(r.scan(stranger))
	s = r.is(Warning)(r.e.Close())
	if !hasRule(s, unit.RuleAggregation) || len(s.Missing) != 1 || s.Missing[0] != units[cases[1]][0].Key || len(s.Extra) != 1 {
		t.Fatalf("mismatch: %+v", s)
	}
	if h := r.unit(units[cases[1]][0].Key).Holds; !h.Has(event.HoldInvestigation) {
		t.Fatalf("missing unit not held: %v", h)
	}
	x := r.exception(s.Exceptions[0])
	if x.Rule != unit.RuleAggregation || x.Unit != cases[1] {
		t.Fatalf("exception %+v", x)
	}

	// Close the ASN: everything was received by the pallet label.
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	s = r.is(Accepted)(r.e.Close())
	if s.Cue != CueDone || len(s.Missing) != 0 {
		t.Fatalf("close: %+v", s)
	}
	r.is(Refused)(r.e.StartReceive(demo.ASNUS))
}

func TestCloseASNRaisesShortage(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op2")
	_, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	// Receive cases 0 and 1 by label, and all but 3 units of case 2 one by one.
	r.is(Accepted)(r.scan(cases[0]))
	r.is(Accepted)(r.scan(cases[1]))
	for _, it := range units[cases[2]][3:] {
		r.is(Accepted)(r.scan(it.Key))
	}
	s := r.is(Warning)(r.e.Close())
	// Missing: the 3 units of case 2 and the whole of case 3 (one
	// exception for the case, standing for its 50 units).
	if len(s.Missing) != 4 || len(s.Exceptions) != 4 || !hasRule(s, unit.RuleShortage) {
		t.Fatalf("shortage: %+v", s)
	}
	if s.Missing[3] != cases[3] {
		t.Fatalf("missing %v", s.Missing)
	}
	x := r.exception(s.Exceptions[3])
	if x.Rule != unit.RuleShortage || x.Unit != cases[3] {
		t.Fatalf("exception %+v", x)
	}
}

func TestReceiveVerdicts(t *testing.T) {
	type tc struct {
		name  string
		setup func(r *rig) // before load: nothing; after load: may move the clock
		scan  func(r *rig) []byte
		user  string
		asn   string
		want  Verdict
		rule  unit.Rule
		held  event.HoldReason // hold expected on the scanned unit afterwards
		where string           // location expected afterwards
		// why is a word of the expected refusal's reason; atStart: the
		// refusal comes when the receipt starts, not at the scan.
		why     string
		atStart bool
	}
	unknownGTIN := "00399999999991"
	cases := []tc{
		{name: "expected unit", scan: func(r *rig) []byte { return r.item(1, 0) }, want: Accepted, where: demo.Dock},
		{name: "case label infers contents", scan: func(r *rig) []byte { return r.caseScan(1) }, want: Accepted, where: demo.Dock},
		{name: "overage: serial not on ASN", scan: func(r *rig) []byte {
			return demo.UnitScan(r.fx.Product(0), "NEW0001", "US0001C001", "271201")
		}, want: Warning, rule: unit.RuleOverage, where: demo.Dock},
		{name: "unknown GTIN received to hold", scan: func(r *rig) []byte {
			return demo.UnitScan(unknownGTIN, "X1", "L1", "281231")
		}, want: Warning, rule: unit.RuleUnknownGTIN, held: event.HoldInvestigation, where: demo.Quarantine},
		{name: "product without data received to hold", scan: func(r *rig) []byte {
			return demo.UnitScan(r.fx.Product(2), "LIS1", "US03X", "281231")
		}, want: Warning, rule: unit.RuleNoData, held: event.HoldInvestigation, where: demo.Quarantine},
		{name: "expired to quarantine", setup: func(r *rig) { r.now = time.Date(2028, 2, 1, 9, 0, 0, 0, time.UTC) },
			scan: func(r *rig) []byte { return r.item(0, 0) }, want: Warning, rule: unit.RuleExpired, held: event.HoldExpired, where: demo.Quarantine},
		{name: "recalled lot to quarantine", setup: func(r *rig) {
			r.is(Accepted)(r.e.Login("lead1", r.fx.PIN("lead1")))
			r.is(Accepted)(r.e.HoldLot(r.fx.Product(0), "US0001C001", "recall", "test recall"))
		}, scan: func(r *rig) []byte { return r.item(0, 1) }, want: Warning, rule: unit.RuleRecalled, where: demo.Quarantine},
		{name: "held unit to quarantine", setup: func(r *rig) {
			r.is(Accepted)(r.e.Login("lead1", r.fx.PIN("lead1")))
			r.e.StartHold("suspect", "tip-off")
			r.is(Accepted)(r.e.Scan(r.item(0, 2)))
		}, scan: func(r *rig) []byte { return r.item(0, 2) }, want: Accepted, held: event.HoldSuspect, where: demo.Quarantine},
		{name: "lot mismatch", scan: func(r *rig) []byte {
			k := r.itemKey(0, 3)
			return demo.UnitScan(k.GTIN(), k.Serial(), "OTHERLOT", "271201")
		}, want: Warning, rule: unit.RuleLotMismatch, where: demo.Dock},
		{name: "already picked: cloned code", setup: func(r *rig) {
			r.is(Accepted)(r.e.Login("op2", r.fx.PIN("op2")))
			r.is(Accepted)(r.e.StartPick(demo.OrderUS))
			r.is(Accepted)(r.scan(r.fx.Stock(r.fx.Product(0))[0].Units[0]))
		}, scan: func(r *rig) []byte {
			return r.fx.ScanOf(r.fx.Stock(r.fx.Product(0))[0].Units[0])
		}, want: Refused, rule: unit.RuleDuplicateSerial, why: "cloned"},
		{name: "in stock without ASN: merged", scan: func(r *rig) []byte {
			return r.fx.ScanOf(r.fx.Stock(r.fx.Product(0))[0].Units[0])
		}, want: Warning},
		{name: "no serial", scan: func(r *rig) []byte { return []byte("]d201" + r.fx.Product(0) + "17271201" + "10US0001C001") }, want: Refused, why: "bad scan"},
		{name: "lot required by client", scan: func(r *rig) []byte {
			k := r.itemKey(0, 4)
			return []byte("]d201" + k.GTIN() + "17271201" + "21" + k.Serial())
		}, want: Refused, why: "lot"},
		{name: "swallowed serial (no GS)", scan: func(r *rig) []byte {
			k := r.itemKey(0, 4)
			return []byte("]d201" + k.GTIN() + "17271201" + "10US0001C001" + "21" + k.Serial())
		}, want: Refused, why: "bad scan"},
		{name: "client not granted", user: "op1", asn: demo.ASNEU, scan: func(r *rig) []byte { return r.item(0, 0) }, want: Refused,
			why: "not granted", atStart: true},
		{name: "unknown SSCC received to hold", scan: func(r *rig) []byte {
			s, _ := demo.SSCC(3, demo.SSCCPrefix, 777)
			return demo.SSCCScan(s)
		}, want: Warning, rule: unit.RuleOverage, held: event.HoldInvestigation, where: demo.Quarantine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, demo.DefaultParams())
			if c.setup != nil {
				c.setup(r)
			}
			user, asn := c.user, c.asn
			if user == "" {
				user = "op2"
			}
			if asn == "" {
				asn = demo.ASNUS
			}
			r.login(user)
			s, err := r.e.StartReceive(asn)
			if c.atStart {
				r.is(Refused)(s, err)
				if !strings.Contains(s.Reason, c.why) {
					t.Fatalf("refused for %q, want %q", s.Reason, c.why)
				}
				return
			}
			r.is(Accepted)(s, err)
			raw := c.scan(r)
			before, _ := r.st.Outbox()
			s = r.is(c.want)(r.e.Scan(raw))
			after, _ := r.st.Outbox()
			if c.want == Refused {
				if after.Last != before.Last {
					t.Fatalf("refused scan wrote seq %d", after.Last)
				}
				if c.rule != "" && !hasRule(s, c.rule) {
					t.Fatalf("rules %v, want %s (%s)", s.Rules, c.rule, s.Reason)
				}
				if s.Reason == "" || !strings.Contains(s.Reason, c.why) {
					t.Fatalf("refused for %q, want %q", s.Reason, c.why)
				}
				return
			}
			if s.Events == nil && c.want == Warning {
				if after.Last != before.Last {
					t.Fatal("a step that changed nothing wrote")
				}
				return
			}
			if after.Last != before.Last+1 {
				t.Fatalf("seq %d -> %d", before.Last, after.Last)
			}
			if c.rule != "" && !hasRule(s, c.rule) {
				t.Fatalf("rules %v, want %s (%s)", s.Rules, c.rule, s.Reason)
			}
			st := r.unit(s.Subject)
			if st.Status != unit.StatusInStock {
				t.Fatalf("status %s", st.Status)
			}
			if c.held != 0 && !st.Holds.Has(c.held) {
				t.Fatalf("holds %v, want %v", st.Holds, c.held)
			}
			if c.where != "" && st.Location != c.where {
				t.Fatalf("location %s, want %s", st.Location, c.where)
			}
		})
	}
}

func (r *rig) itemKey(caseIdx, unitIdx int) event.Key {
	_, cases, units := asn1(r.fx)
	return units[cases[caseIdx]][unitIdx].Key
}

func (r *rig) item(caseIdx, unitIdx int) []byte {
	_, cases, units := asn1(r.fx)
	it := units[cases[caseIdx]][unitIdx]
	return demo.KeyScan(it.Key, it.Lot, it.Expiry)
}

func (r *rig) caseScan(caseIdx int) []byte {
	_, cases, _ := asn1(r.fx)
	return r.fx.ScanOf(cases[caseIdx])
}
