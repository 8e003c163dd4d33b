package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// conflictKind is a deliberate conflict between two devices offline.
type conflictKind int

const (
	doublePick conflictKind = iota // both pick the same unit for different orders
	holdVsPick                     // one picks, the other holds
	holdVsShip                     // one ships (the unit was picked before), the other holds
)

func (k conflictKind) String() string {
	return [...]string{"double-pick", "hold-vs-pick", "hold-vs-ship"}[k]
}

// conflict is one planned conflict: device a acts first in the log
// unless bFirst, device b second.
type conflict struct {
	n      int
	kind   conflictKind
	a, b   int
	unit   event.Key
	orderA string
	orderB string
	ship   string
	bFirst bool
}

// workPlan is what one device does: receive its case, then pick, pack
// and ship orders of two units, and put a unit on hold now and then.
type workPlan struct {
	asn       string
	caseKey   event.Key
	missing   event.Key // announced on the ASN, never received: the close raises a SHORTAGE
	units     []event.Key
	orders    []string
	shipments []string
}

// plan is everything the run loads into the site and then does.
type plan struct {
	fix       *demo.Fixture
	tag       string
	ref       uint64 // SSCC serial range of the run's cases: ref*1000 + device
	gtin      string // EU unit product the simulation works with
	lot       string
	expiry    string
	user      string // the operator every simulated device signs in as
	pin       string
	work      []workPlan
	conflicts []conflict
	confASN   string
}

func newPlan(o options, start time.Time) (*plan, error) {
	p := demo.DefaultParams()
	p.Seed = uint64(o.seed)
	fix, err := demo.Build(p)
	if err != nil {
		return nil, err
	}
	// The run's tag keeps its identifiers apart from other runs' on the
	// same site: milliseconds, so runs started in one second differ too.
	ms := start.UnixMilli() % 2_000_000_000_000
	pl := &plan{fix: fix, tag: strconv.FormatInt(ms, 36), ref: uint64(ms % 900_000), gtin: fix.Product(3),
		lot: "SIMLOT1", expiry: start.AddDate(2, 0, 0).Format("060102"), user: "op2"}
	pl.pin = fix.PIN(pl.user)
	cycles := max(4, int(o.duration/(o.pace*8)))
	perDevice := 2*cycles + cycles/4 + 2
	for d := range o.devices {
		w := workPlan{asn: fmt.Sprintf("SIM-%s-D%d", pl.tag, d)}
		sscc, err := demo.SSCC(demo.SSCCExtension, "4012345", pl.ref*1000+uint64(d))
		if err != nil {
			return nil, err
		}
		w.caseKey = event.SSCC(sscc)
		w.missing = event.SGTIN(pl.gtin, fmt.Sprintf("R%sD%dM", pl.tag, d))
		for i := range perDevice {
			w.units = append(w.units, event.SGTIN(pl.gtin, fmt.Sprintf("R%sD%dU%d", pl.tag, d, i)))
		}
		for k := range cycles {
			w.orders = append(w.orders, fmt.Sprintf("SIM-%s-D%d-O%d", pl.tag, d, k))
			w.shipments = append(w.shipments, fmt.Sprintf("SIM-%s-D%d-S%d", pl.tag, d, k))
		}
		pl.work = append(pl.work, w)
	}
	pl.confASN = fmt.Sprintf("SIM-%s-C", pl.tag)
	for i := range o.conflicts {
		c := conflict{n: i, kind: conflictKind(i % 3), a: (2 * i) % o.devices, b: (2*i + 1) % o.devices,
			unit:   event.SGTIN(pl.gtin, fmt.Sprintf("R%sC%d", pl.tag, i)),
			orderA: fmt.Sprintf("SIM-%s-C%d-A", pl.tag, i), orderB: fmt.Sprintf("SIM-%s-C%d-B", pl.tag, i),
			ship: fmt.Sprintf("SIM-%s-C%d-S", pl.tag, i)}
		// Every other hold-vs-pick lets the hold reach the log first.
		c.bFirst = c.kind == holdVsPick && (i/3)%2 == 1
		if c.a == c.b {
			c.b = (c.a + 1) % o.devices
		}
		pl.conflicts = append(pl.conflicts, c)
	}
	return pl, nil
}

func (pl *plan) deviceID(d int) string { return fmt.Sprintf("sim-%s-%02d", pl.tag, d) }

// rounds groups the conflicts so that no device is in two conflicts of
// one round.
func (pl *plan) rounds() [][]conflict {
	var out [][]conflict
	var cur []conflict
	busy := map[int]bool{}
	for _, c := range pl.conflicts {
		if busy[c.a] || busy[c.b] {
			out = append(out, cur)
			cur, busy = nil, map[int]bool{}
		}
		cur = append(cur, c)
		busy[c.a], busy[c.b] = true, true
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// load writes the demo data (when the site has none yet) and the run's
// own ASNs, orders and shipments through the API.
func (pl *plan) load(ctx context.Context, s *site, logf func(string, ...any)) error {
	// A site just started knows its first user only once it has a leader.
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		err := s.get(wctx, "/api/v1/me", nil)
		if err == nil {
			break
		}
		if !isStatus(err, 401) || wctx.Err() != nil {
			return fmt.Errorf("the site does not answer as %s: %w", s.user, err)
		}
		if !sleep(wctx, 200*time.Millisecond) {
			return fmt.Errorf("the site does not know user %s: %w", s.user, err)
		}
	}
	snap := &pl.fix.Snapshot
	var have master.Product
	err := s.get(ctx, "/api/v1/products/"+url.PathEscape(pl.gtin)+"?consistency=leader", &have)
	switch {
	case err == nil:
		logf("the site has the demo data already")
	case isStatus(err, 404):
		logf("loading the demo data")
		if err := s.do(ctx, "PUT", "/api/v1/site", snap.Site, nil); err != nil {
			return err
		}
		for _, u := range snap.Users {
			if err := s.do(ctx, "PUT", "/api/v1/users/"+url.PathEscape(u.ID), u, nil); err != nil {
				return err
			}
		}
		for _, c := range snap.Clients {
			if err := s.do(ctx, "PUT", "/api/v1/clients/"+url.PathEscape(c.ID), c, nil); err != nil {
				return err
			}
		}
		for _, p := range snap.Products {
			if err := s.do(ctx, "PUT", "/api/v1/products/"+url.PathEscape(p.GTIN), p, nil); err != nil {
				return err
			}
		}
		for _, l := range snap.Locations {
			if err := s.do(ctx, "PUT", "/api/v1/locations/"+url.PathEscape(l.ID), l, nil); err != nil {
				return err
			}
		}
		for _, x := range snap.Partners {
			if err := s.do(ctx, "PUT", "/api/v1/partners/"+url.PathEscape(x.ID), x, nil); err != nil {
				return err
			}
		}
		for _, a := range snap.ASNs {
			if err := s.do(ctx, "POST", "/api/v1/asns", a, nil); err != nil {
				return err
			}
		}
		for _, o := range snap.Orders {
			if err := s.do(ctx, "POST", "/api/v1/orders", o, nil); err != nil {
				return err
			}
		}
		for _, x := range snap.Shipments {
			if err := s.do(ctx, "POST", "/api/v1/shipments", x, nil); err != nil {
				return err
			}
		}
		for _, h := range snap.Holds {
			hw := map[string]any{"id": h.ID, "client": h.Client, "scope": h.Scope, "gtin": h.GTIN, "lot": h.Lot,
				"reason": h.Reason.String(), "note": h.Note, "active": h.Active, "by": h.By}
			if err := s.do(ctx, "POST", "/api/v1/holds", hw, nil); err != nil {
				return err
			}
		}
	default:
		return err
	}
	logf("loading the run's ASNs, orders and shipments (tag %s)", pl.tag)
	for d, w := range pl.work {
		a := master.ASN{ID: w.asn, Client: demo.ClientEU, Supplier: "SUP-2", Items: []master.ASNItem{{Key: w.caseKey}}}
		for _, k := range w.units {
			a.Items = append(a.Items, master.ASNItem{Key: k, Parent: w.caseKey, Lot: pl.lot, Expiry: pl.expiry})
		}
		a.Items = append(a.Items, master.ASNItem{Key: w.missing, Lot: pl.lot, Expiry: pl.expiry})
		if err := s.do(ctx, "POST", "/api/v1/asns", a, nil); err != nil {
			return err
		}
		for k := range w.orders {
			o := master.Order{ID: w.orders[k], Client: demo.ClientEU, Customer: "CUST-2",
				Lines: []master.OrderLine{{ID: "1", GTIN: pl.gtin, Qty: 2}}}
			if err := s.do(ctx, "POST", "/api/v1/orders", o, nil); err != nil {
				return err
			}
			sh := master.Shipment{ID: w.shipments[k], Client: demo.ClientEU, Destination: "CUST-2", Orders: []string{o.ID}}
			if err := s.do(ctx, "POST", "/api/v1/shipments", sh, nil); err != nil {
				return err
			}
		}
		_ = d
	}
	if len(pl.conflicts) > 0 {
		a := master.ASN{ID: pl.confASN, Client: demo.ClientEU, Supplier: "SUP-2"}
		for _, c := range pl.conflicts {
			a.Items = append(a.Items, master.ASNItem{Key: c.unit, Lot: pl.lot, Expiry: pl.expiry})
			for _, id := range []string{c.orderA, c.orderB} {
				o := master.Order{ID: id, Client: demo.ClientEU, Customer: "CUST-2", Lines: []master.OrderLine{{ID: "1", GTIN: pl.gtin, Qty: 1}}}
				if err := s.do(ctx, "POST", "/api/v1/orders", o, nil); err != nil {
					return err
				}
			}
			sh := master.Shipment{ID: c.ship, Client: demo.ClientEU, Destination: "CUST-2", Orders: []string{c.orderA}}
			if err := s.do(ctx, "POST", "/api/v1/shipments", sh, nil); err != nil {
				return err
			}
		}
		if err := s.do(ctx, "POST", "/api/v1/asns", a, nil); err != nil {
			return err
		}
	}
	return nil
}

// conflictRules are the rules deliberate conflicts raise.
func conflictRules() []unit.Rule {
	return []unit.Rule{unit.RuleDoublePick, unit.RuleHoldOverridesPick, unit.RuleHeldUnitMoved, unit.RuleShippedWhileHeld}
}

// expected is what a conflict must raise on its unit, given which of the
// two events the log took first.
func (c *conflict) expected(aFirst bool) []unit.Rule {
	switch c.kind {
	case doublePick:
		return []unit.Rule{unit.RuleDoublePick}
	case holdVsPick:
		if aFirst {
			return []unit.Rule{unit.RuleHoldOverridesPick}
		}
		return []unit.Rule{unit.RuleHeldUnitMoved}
	default:
		if aFirst {
			return []unit.Rule{unit.RuleShippedWhileHeld}
		}
		return []unit.Rule{unit.RuleHoldOverridesPick, unit.RuleShippedWhileHeld}
	}
}
