// Package workflowcases holds the cases every replica's workflow rules
// are checked against: the unit tests of shared/unit run them on the
// reference store, the site's processor runs them through its log and
// Badger state, the handheld runs them on its local replica. Each side
// must raise exactly the findings a case wants, under the same ids.
package workflowcases

import (
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Want is an exception a case's last event must open.
type Want struct {
	Rule unit.Rule
	Key  event.Key
}

// Case is master data, events that set the scene, and the event whose
// workflow findings are checked.
type Case struct {
	Name     string
	Products []master.Product
	ASNs     []master.ASN // headers and items (the catalog); Before expects them
	Before   []event.Event
	Event    event.Event
	Want     []Want
}

// Identities used by every case.
const (
	Client  = "acme"
	Site    = "0614141000005"
	User    = "maria"
	GTIN    = "00300010123455" // unit GTIN of acme, announced on ASN-1
	Other   = "00300010555553" // unit GTIN of acme, never announced
	Unknown = "00300010999999" // in no master data
	CaseGT  = "10300010123452" // case GTIN
)

// Keys used by the cases (GS1 element strings: 01 GTIN 21 serial).
const (
	C1 event.Key = "01" + CaseGT + "21C1"
	U1 event.Key = "01" + GTIN + "21U1"
	U2 event.Key = "01" + GTIN + "21U2"
	U3 event.Key = "01" + GTIN + "21U3"
	X9 event.Key = "01" + GTIN + "21X9"
	O1 event.Key = "01" + Other + "21O1"
	N1 event.Key = "01" + Unknown + "21N1"
)

// t0 is the cases' first device time (ms since the epoch).
const t0 = 1_790_000_000_000

// seq numbers the events of one case's devices.
type seq struct{ n map[string]uint64 }

func (s *seq) ev(device string, k event.Kind, ctx event.Context, keys ...event.Key) event.Event {
	if s.n == nil {
		s.n = map[string]uint64{}
	}
	s.n[device]++
	n := s.n[device]
	e := event.Event{Device: device, Epoch: 1, Seq: n, HLC: hlc.New(t0+int64(len(s.n)*1000)+int64(n), 0), User: User, Site: Site,
		Client: Client, Kind: k, Ctx: ctx}
	// A stable id per (device, seq), version 7 shaped.
	e.ID[0], e.ID[1], e.ID[6], e.ID[8] = 0x01, byte(len(device)), 0x70, 0x80
	copy(e.ID[9:15], device)
	e.ID[15] = byte(n)
	for _, key := range keys {
		e.Subjects = append(e.Subjects, event.Subject{Key: key})
	}
	return e
}

func products() []master.Product {
	return []master.Product{
		{GTIN: GTIN, Client: Client, Name: "Amoxicillin 500 mg", NDC: "0001-0123-45", CompanyPrefixLen: 7},
		{GTIN: CaseGT, Client: Client, Name: "Amoxicillin 500 mg case", CompanyPrefixLen: 7, UnitsPerCase: 2, UnitGTIN: GTIN},
		{GTIN: Other, Client: Client, Name: "Ibuprofen 200 mg", CompanyPrefixLen: 7},
	}
}

// asn1 announces case C1 (U1, U2) and a loose U3, lot L1 expiring 280331.
func asn1() master.ASN {
	return master.ASN{ID: "ASN-1", Client: Client, Supplier: "supplier", Items: []master.ASNItem{
		{Key: C1, Lot: "L1", Expiry: "280331"},
		{Key: U1, Parent: C1, Lot: "L1", Expiry: "280331"},
		{Key: U2, Parent: C1, Lot: "L1", Expiry: "280331"},
		{Key: U3, Lot: "L1", Expiry: "280331"},
	}}
}

// expects are the expect events ASN-1 implies, from the site's "asn" device.
func expects(s *seq) []event.Event {
	var out []event.Event
	for _, it := range asn1().Items {
		out = append(out, s.ev("asn", event.KindExpect, event.Context{ASN: "ASN-1", Parent: it.Parent, Lot: it.Lot, Expiry: it.Expiry}, it.Key))
	}
	return out
}

// Cases returns the cases, built fresh on each call.
func Cases() []Case {
	var out []Case
	add := func(name string, build func(s *seq) ([]event.Event, event.Event, []Want)) {
		s := &seq{}
		before, last, want := build(s)
		out = append(out, Case{Name: name, Products: products(), ASNs: []master.ASN{asn1()}, Before: before, Event: last, Want: want})
	}
	add("shortage of a case, the loose unit arrived", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b, s.ev("hh-1", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Lot: "L1", Expiry: "280331"}, U3))
		return b, s.ev("hh-1", event.KindCloseASN, event.Context{ASN: "ASN-1"}, C1), []Want{{unit.RuleShortage, C1}}
	})
	add("no shortage at the site for what another device received", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b, s.ev("hh-2", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Inferred: true}, C1))
		return b, s.ev("hh-1", event.KindCloseASN, event.Context{ASN: "ASN-1"}, C1, U3), []Want{{unit.RuleShortage, U3}}
	})
	add("a complete close raises nothing", func(s *seq) ([]event.Event, event.Event, []Want) {
		return expects(s), s.ev("hh-1", event.KindCloseASN, event.Context{ASN: "ASN-1"}), nil
	})
	add("aggregation mismatch: one missing, one extra", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b, s.ev("hh-1", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Inferred: true}, C1))
		return b, s.ev("hh-1", event.KindVerifyMismatch, event.Context{}, C1, U1, X9), []Want{{unit.RuleAggregation, C1}}
	})
	add("what the site records in the case matches", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b, s.ev("hh-1", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Inferred: true}, C1))
		return b, s.ev("hh-1", event.KindVerifyMismatch, event.Context{}, C1, U1, U2), nil
	})
	add("unknown GTIN", func(s *seq) ([]event.Event, event.Event, []Want) {
		return expects(s), s.ev("hh-1", event.KindReceive, event.Context{To: "QUAR", Hold: event.HoldInvestigation, Reason: string(unit.RuleUnknownGTIN)}, N1),
			[]Want{{unit.RuleUnknownGTIN, N1}}
	})
	add("product without data", func(s *seq) ([]event.Event, event.Event, []Want) {
		return expects(s), s.ev("hh-1", event.KindReceive, event.Context{To: "QUAR", Hold: event.HoldInvestigation, Reason: unit.ReasonNotAnnounced + "ASN-1"}, O1),
			[]Want{{unit.RuleNoData, O1}}
	})
	add("a product the ASN announces has data", func(s *seq) ([]event.Event, event.Event, []Want) {
		return expects(s), s.ev("hh-1", event.KindReceive, event.Context{To: "QUAR", Hold: event.HoldInvestigation, Reason: unit.ReasonNotAnnounced + "ASN-1"}, X9), nil
	})
	add("return of a serial never shipped", func(s *seq) ([]event.Event, event.Event, []Want) {
		return nil, s.ev("hh-1", event.KindReceive, event.Context{To: "QUAR", Hold: event.HoldSuspect, Reason: unit.ReasonNeverShipped}, X9),
			[]Want{{unit.RuleWrongSerial, X9}}
	})
	add("return with another lot and expiry", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b,
			s.ev("hh-1", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Lot: "L1", Expiry: "280331"}, U3),
			s.ev("hh-1", event.KindPick, event.Context{Order: "SO-1", Line: "1"}, U3),
			s.ev("hh-1", event.KindShip, event.Context{Shipment: "SH-1", Destination: "0614141000012"}, U3))
		return b, s.ev("hh-1", event.KindReturn, event.Context{To: "QUAR", Hold: event.HoldSuspect, Lot: "L2", Expiry: "290101"}, U3),
			[]Want{{unit.RuleLotMismatch, U3}, {unit.RuleExpiryMismatch, U3}}
	})
	add("a refused return raises nothing", func(s *seq) ([]event.Event, event.Event, []Want) {
		b := expects(s)
		b = append(b, s.ev("hh-1", event.KindReceive, event.Context{ASN: "ASN-1", To: "DOCK", Lot: "L1", Expiry: "280331"}, U3))
		return b, s.ev("hh-1", event.KindReturn, event.Context{To: "QUAR", Lot: "L2"}, U3), nil
	})
	return out
}

// Rules are the rules Workflow raises, for filtering what a replica holds.
func Rules() []unit.Rule {
	return []unit.Rule{unit.RuleShortage, unit.RuleAggregation, unit.RuleUnknownGTIN, unit.RuleNoData,
		unit.RuleWrongSerial, unit.RuleLotMismatch, unit.RuleExpiryMismatch}
}

// WantIDs returns the exception ids the case's last event must open.
func (c *Case) WantIDs() map[string]unit.Rule {
	out := map[string]unit.Rule{}
	for _, w := range c.Want {
		out[unit.ExceptionID(w.Rule, w.Key, c.Event.ID)] = w.Rule
	}
	return out
}
