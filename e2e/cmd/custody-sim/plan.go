package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	client    string // whose units the device works
	gtin      string // the client's unit product
	asn       string
	caseKey   event.Key
	missing   event.Key // announced on the ASN, never received: the close raises a SHORTAGE
	units     []event.Key
	orders    []string
	shipments []string
}

// maxSerial is the longest serial a GS1 element string carries (AI 21).
const maxSerial = 20

// plan is everything the run loads into the site and then does.
type plan struct {
	fix                        *demo.Fixture
	own                        bool     // work the site's own clients and products (--clients), not the demo site's
	clients                    []string // the clients the fleet works, devices taking turns
	prefix                     string   // first characters of every serial the run receives
	tag                        string
	ref                        uint64 // SSCC serial range of the run's cases: ref*1000 + device
	gtin                       string // unit product of the conflicts (the first client's)
	lot                        string
	expiry                     string
	user                       string // the operator every simulated device signs in as
	pin                        string
	devices, conflictN, cycles int
	work                       []workPlan
	conflicts                  []conflict
	confASN                    string
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
	pl := &plan{fix: fix, prefix: o.serialPrefix, tag: strconv.FormatInt(ms, 36), ref: uint64(ms % 900_000),
		lot: "SIMLOT1", expiry: start.AddDate(2, 0, 0).Format("060102"), user: demoUser,
		devices: o.devices, conflictN: o.conflicts, cycles: max(4, int(o.duration/(o.pace*8)))}
	pl.pin = fix.PIN(demoUser)
	if len(o.clients) > 0 {
		pl.user = ownUser
	}
	if len(o.clients) == 0 {
		// The demo site: its EU client's first product.
		pl.clients = []string{demo.ClientEU}
		if err := pl.build(map[string]string{demo.ClientEU: fix.Product(3)}); err != nil {
			return nil, err
		}
		return pl, nil
	}
	// The site's own clients: their products are read from the site
	// before build.
	pl.own, pl.clients = true, o.clients
	return pl, nil
}

// build lays out every device's work and the conflicts, given each
// client's unit product. Device d works client d mod len(clients); the
// conflicts are on the first client's product.
func (pl *plan) build(gtins map[string]string) error {
	perDevice := 2*pl.cycles + pl.cycles/4 + 2
	serial := func(format string, a ...any) (string, error) {
		s := pl.prefix + pl.tag + fmt.Sprintf(format, a...)
		if len(s) > maxSerial {
			return "", fmt.Errorf("serial %s is longer than %d characters: a shorter --serial-prefix, fewer devices or a shorter run", s, maxSerial)
		}
		return s, nil
	}
	pl.gtin = gtins[pl.clients[0]]
	pl.work = nil
	for d := range pl.devices {
		client := pl.clients[d%len(pl.clients)]
		w := workPlan{client: client, gtin: gtins[client], asn: fmt.Sprintf("SIM-%s-D%d", pl.tag, d)}
		if pl.prefix != defaultSerialPrefix {
			w.asn = fmt.Sprintf("SIM-%s-%s-D%d", pl.prefix, pl.tag, d)
		}
		sscc, err := demo.SSCC(demo.SSCCExtension, "4012345", pl.ref*1000+uint64(d))
		if err != nil {
			return err
		}
		w.caseKey = event.SSCC(sscc)
		sn, err := serial("D%dM", d)
		if err != nil {
			return err
		}
		w.missing = event.SGTIN(w.gtin, sn)
		for i := range perDevice {
			if sn, err = serial("D%dU%d", d, i); err != nil {
				return err
			}
			w.units = append(w.units, event.SGTIN(w.gtin, sn))
		}
		for k := range pl.cycles {
			w.orders = append(w.orders, fmt.Sprintf("%s-O%d", w.asn, k))
			w.shipments = append(w.shipments, fmt.Sprintf("%s-S%d", w.asn, k))
		}
		pl.work = append(pl.work, w)
	}
	pl.confASN = fmt.Sprintf("SIM-%s-C", pl.tag)
	if pl.prefix != defaultSerialPrefix {
		pl.confASN = fmt.Sprintf("SIM-%s-%s-C", pl.prefix, pl.tag)
	}
	pl.conflicts = nil
	for i := range pl.conflictN {
		sn, err := serial("C%d", i)
		if err != nil {
			return err
		}
		c := conflict{n: i, kind: conflictKind(i % 3), a: (2 * i) % pl.devices, b: (2*i + 1) % pl.devices,
			unit:   event.SGTIN(pl.gtin, sn),
			orderA: fmt.Sprintf("%s%d-A", pl.confASN, i), orderB: fmt.Sprintf("%s%d-B", pl.confASN, i),
			ship: fmt.Sprintf("%s%d-S", pl.confASN, i)}
		// Every other hold-vs-pick lets the hold reach the log first.
		c.bFirst = c.kind == holdVsPick && (i/3)%2 == 1
		if c.a == c.b {
			c.b = (c.a + 1) % pl.devices
		}
		pl.conflicts = append(pl.conflicts, c)
	}
	return nil
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

// load writes the demo data (when the site has none yet), or with
// --clients reads the site's own products and adds what the work needs,
// then the run's own ASNs, orders and shipments, through the API.
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
	var err error
	if pl.own {
		err = pl.loadOwn(ctx, s, logf)
	} else {
		err = pl.loadDemo(ctx, s, logf)
	}
	if err != nil {
		return err
	}
	return pl.loadRun(ctx, s, logf)
}

// loadDemo writes the demo data when the site has none yet.
func (pl *plan) loadDemo(ctx context.Context, s *site, logf func(string, ...any)) error {
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
	return nil
}

// loadOwn checks that the site numbers containers (its SSCC prefix),
// reads each client's unit product from the site (the first by GTIN), adds the demo's locations and partners the site lacks (the
// work receives at a dock and ships to a partner) and puts the devices'
// user, granted the fleet's clients only. Nothing else of the site is
// changed: its own record, clients, products and users stay as they are.
func (pl *plan) loadOwn(ctx context.Context, s *site, logf func(string, ...any)) error {
	var me master.Site
	if err := s.get(ctx, "/api/v1/site?consistency=leader", &me); err != nil {
		return err
	}
	if me.SSCCPrefix == "" {
		return fmt.Errorf("site %s has no SSCC prefix: the devices number the containers they pack with it", me.ID)
	}
	gtins := map[string]string{}
	for _, c := range pl.clients {
		if err := s.get(ctx, "/api/v1/clients/"+url.PathEscape(c)+"?consistency=leader", nil); err != nil {
			if isStatus(err, 404) {
				return fmt.Errorf("the site has no client %s", c)
			}
			return err
		}
		var ps list[master.Product]
		if err := s.get(ctx, "/api/v1/products?client="+url.QueryEscape(c)+"&consistency=leader", &ps); err != nil {
			return err
		}
		for _, p := range ps.Items {
			if p.Client == c && p.UnitsPerCase == 0 && p.UnitGTIN == "" && (gtins[c] == "" || p.GTIN < gtins[c]) {
				gtins[c] = p.GTIN
			}
		}
		if gtins[c] == "" {
			return fmt.Errorf("the site has no unit product of client %s", c)
		}
		logf("client %s: product %s", c, gtins[c])
	}
	if err := pl.build(gtins); err != nil {
		return err
	}
	snap := &pl.fix.Snapshot
	var locs list[master.Location]
	if err := s.get(ctx, "/api/v1/locations?consistency=leader", &locs); err != nil {
		return err
	}
	for _, l := range snap.Locations {
		if !slices.ContainsFunc(locs.Items, func(x master.Location) bool { return x.ID == l.ID }) {
			if err := s.do(ctx, "PUT", "/api/v1/locations/"+url.PathEscape(l.ID), l, nil); err != nil {
				return err
			}
		}
	}
	var parts list[master.Partner]
	if err := s.get(ctx, "/api/v1/partners?consistency=leader", &parts); err != nil {
		return err
	}
	for _, x := range snap.Partners {
		if !slices.ContainsFunc(parts.Items, func(y master.Partner) bool { return y.ID == x.ID }) {
			if err := s.do(ctx, "PUT", "/api/v1/partners/"+url.PathEscape(x.ID), x, nil); err != nil {
				return err
			}
		}
	}
	// The fleet's user is one of its own, with the demo operator's PIN:
	// a user of the site named like the demo's is never replaced.
	for _, u := range snap.Users {
		if u.ID == demoUser {
			u.ID, u.Name, u.Clients = pl.user, "Simulated fleet", pl.clients
			logf("user %s works %s", u.ID, strings.Join(pl.clients, ", "))
			return s.do(ctx, "PUT", "/api/v1/users/"+url.PathEscape(u.ID), u, nil)
		}
	}
	return fmt.Errorf("the demo data has no user %s", demoUser)
}

// The fleet's users: the demo operator on the demo site; on a site's
// own clients, a user of the fleet's own with the demo operator's PIN.
const (
	demoUser = "op2"
	ownUser  = "sim-fleet"
)

// loadRun writes the run's own ASNs, orders and shipments.
func (pl *plan) loadRun(ctx context.Context, s *site, logf func(string, ...any)) error {
	logf("loading the run's ASNs, orders and shipments (tag %s)", pl.tag)
	for _, w := range pl.work {
		a := master.ASN{ID: w.asn, Client: w.client, Supplier: "SUP-2", Items: []master.ASNItem{{Key: w.caseKey}}}
		for _, k := range w.units {
			a.Items = append(a.Items, master.ASNItem{Key: k, Parent: w.caseKey, Lot: pl.lot, Expiry: pl.expiry})
		}
		a.Items = append(a.Items, master.ASNItem{Key: w.missing, Lot: pl.lot, Expiry: pl.expiry})
		if err := s.do(ctx, "POST", "/api/v1/asns", a, nil); err != nil {
			return err
		}
		for k := range w.orders {
			o := master.Order{ID: w.orders[k], Client: w.client, Customer: "CUST-2",
				Lines: []master.OrderLine{{ID: "1", GTIN: w.gtin, Qty: 2}}}
			if err := s.do(ctx, "POST", "/api/v1/orders", o, nil); err != nil {
				return err
			}
			sh := master.Shipment{ID: w.shipments[k], Client: w.client, Destination: "CUST-2", Orders: []string{o.ID}}
			if err := s.do(ctx, "POST", "/api/v1/shipments", sh, nil); err != nil {
				return err
			}
		}
	}
	if len(pl.conflicts) > 0 {
		client := pl.clients[0]
		a := master.ASN{ID: pl.confASN, Client: client, Supplier: "SUP-2"}
		for _, c := range pl.conflicts {
			a.Items = append(a.Items, master.ASNItem{Key: c.unit, Lot: pl.lot, Expiry: pl.expiry})
			for _, id := range []string{c.orderA, c.orderB} {
				o := master.Order{ID: id, Client: client, Customer: "CUST-2", Lines: []master.OrderLine{{ID: "1", GTIN: pl.gtin, Qty: 1}}}
				if err := s.do(ctx, "POST", "/api/v1/orders", o, nil); err != nil {
					return err
				}
			}
			sh := master.Shipment{ID: c.ship, Client: client, Destination: "CUST-2", Orders: []string{c.orderA}}
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
