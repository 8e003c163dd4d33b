package console

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Quarantine and recalls: holds on lots and products are records
// (command.TypeHold, as the API makes them); holds on one unit or
// container are hold events the console submits under a device of its
// own, "console:<user>", in an epoch this process drew at start.

var holdReasons = []event.HoldReason{event.HoldSuspect, event.HoldRecall, event.HoldDamaged, event.HoldExpired, event.HoldInvestigation}

type holdsView struct {
	Holds   []master.Hold
	Reasons []string
	Names   map[string]string // gtin → product name
	Scope   string
	Ident   string
	CanLead bool
}

func reasonNames() []string {
	out := make([]string, len(holdReasons))
	for i, r := range holdReasons {
		out[i] = r.String()
	}
	return out
}

func (c *Console) holdsPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := holdsView{Reasons: reasonNames(), Names: map[string]string{}, Scope: x.Query("scope", "lot"), Ident: x.Query("ident"), CanLead: u.Role.CanRelease()}
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		v.Holds, err = r.Holds(func(h *master.Hold) bool { return u.Sees(h.Client) })
		if err != nil {
			return err
		}
		for _, h := range v.Holds {
			if p, err := r.Product(h.GTIN); err == nil {
				v.Names[h.GTIN] = p.Name
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Active first, newest first.
	sort.SliceStable(v.Holds, func(i, j int) bool {
		if v.Holds[i].Active != v.Holds[j].Active {
			return v.Holds[i].Active
		}
		return v.Holds[i].At > v.Holds[j].At
	})
	return c.render(x, "holds", "Quarantine & recalls", v)
}

// createHold holds a unit, a container, a lot or a product.
func (c *Console) createHold(x *fiber.Ctx) error {
	u := currentUser(x)
	reason, err := event.ParseHoldReason(x.FormValue("reason"))
	if err != nil {
		return fmt.Errorf("%w: choose a reason", ErrBadRequest)
	}
	note := strings.TrimSpace(x.FormValue("note"))
	if len(note) > event.MaxField {
		return fmt.Errorf("%w: a note has at most %d characters", ErrBadRequest, event.MaxField)
	}
	scope := x.FormValue("scope")
	p, err := parseAnything(x.FormValue("ident"))
	if err != nil {
		return err
	}
	back := x.FormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/holds"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	switch scope {
	case "unit", "container":
		if p.Key == "" {
			return fmt.Errorf("%w: a %s hold needs a serial or an SSCC", ErrBadRequest, scope)
		}
		if err := c.holdUnit(x.UserContext(), u, p.Key, reason, note); err != nil {
			return err
		}
		return x.Redirect(back+sep+"done="+url.QueryEscape("held "+p.Key.String()), fiber.StatusSeeOther)
	case "lot", "product":
	default:
		return fmt.Errorf("%w: scope: want unit, container, lot or product", ErrBadRequest)
	}
	if !u.Role.CanRelease() {
		return fmt.Errorf("%w: a lot or product hold needs a lead or an admin", ErrForbidden)
	}
	gtin, lot := p.GTIN, p.Lot
	if p.Key != "" {
		gtin = p.Key.GTIN()
		if scope == "lot" {
			var un unit.State
			if err := c.node.State().View(func(r *state.Reader) error { var err error; un, err = r.Unit(p.Key); return err }); err != nil {
				return err
			}
			lot = un.Lot
		}
	}
	if l := strings.TrimSpace(x.FormValue("lot")); l != "" {
		lot = l
	}
	if scope == "product" {
		lot = ""
	}
	h, err := c.holdRecord(u, gtin, lot, reason, note)
	if err != nil {
		return err
	}
	if err := c.propose(x.UserContext(), command.TypeHold, h); err != nil {
		return err
	}
	return x.Redirect(back+sep+"done="+url.QueryEscape("hold placed"), fiber.StatusSeeOther)
}

// holdRecord makes a lot (lot != "") or product hold of the product's
// own client, which the user must see.
func (c *Console) holdRecord(u *master.User, gtin, lot string, reason event.HoldReason, note string) (master.Hold, error) {
	var p master.Product
	err := c.node.State().View(func(r *state.Reader) error { var err error; p, err = r.Product(gtin); return err })
	if errors.Is(err, state.ErrNotFound) || err == nil && !u.Sees(p.Client) {
		return master.Hold{}, fmt.Errorf("%w: %s is not a product of yours", ErrBadRequest, gtin)
	}
	if err != nil {
		return master.Hold{}, err
	}
	id, err := event.NewID(c.cfg.Now(), rand.Reader)
	if err != nil {
		return master.Hold{}, err
	}
	h := master.Hold{ID: "H" + id.String(), Client: p.Client, Scope: master.ScopeProduct, GTIN: gtin, Lot: lot,
		Reason: reason, Note: note, Active: true, By: u.ID, At: c.clock.Now()}
	if lot != "" {
		h.Scope = master.ScopeLot
	}
	if err := h.Validate(); err != nil {
		return master.Hold{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return h, nil
}

func (c *Console) releaseHold(x *fiber.Ctx) error {
	u := currentUser(x)
	if !u.Role.CanRelease() {
		return fmt.Errorf("%w: releasing needs a lead or an admin", ErrForbidden)
	}
	why := strings.TrimSpace(x.FormValue("reason"))
	if why == "" || len(why) > 500 {
		return fmt.Errorf("%w: say why the hold is released (up to 500 characters)", ErrBadRequest)
	}
	var h master.Hold
	if err := c.node.State().View(func(r *state.Reader) error { var err error; h, err = r.Hold(x.Params("id")); return err }); err != nil {
		return err
	}
	if !u.Sees(h.Client) {
		return ErrNotFound
	}
	h.Active, h.By, h.At = false, u.ID, c.clock.Now()
	h.Note = strings.TrimSpace(h.Note + " · released: " + why)
	if err := c.propose(x.UserContext(), command.TypeHold, h); err != nil {
		return err
	}
	return x.Redirect("/holds?done="+url.QueryEscape("hold released"), fiber.StatusSeeOther)
}

// consoleDevice is the device sequence the console submits events in.
type consoleDevice struct {
	mu    sync.Mutex
	epoch uint32
}

// holdUnit submits a hold event on one unit or container of the user's.
func (c *Console) holdUnit(ctx context.Context, u *master.User, k event.Key, reason event.HoldReason, note string) error {
	return c.submitUnitEvent(ctx, u, k, event.KindHold, event.Context{Hold: reason, Reason: note})
}

func (c *Console) submitUnitEvent(ctx context.Context, u *master.User, k event.Key, kind event.Kind, ectx event.Context) error {
	c.dev.mu.Lock()
	defer c.dev.mu.Unlock()
	device := "console:" + u.ID
	var un unit.State
	var site master.Site
	var mark uint64
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		if un, err = r.Unit(k); err != nil {
			return err
		}
		if site, err = r.Site(); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		mark, err = r.Mark(device, c.dev.epoch)
		return err
	})
	if err != nil {
		return err
	}
	if !un.Known() || !u.Sees(un.Client) {
		return ErrNotFound
	}
	id, err := event.NewID(c.cfg.Now(), rand.Reader)
	if err != nil {
		return err
	}
	ev := event.Event{ID: id, Device: device, Epoch: c.dev.epoch, Seq: mark + 1, HLC: c.clock.Now(), User: u.ID, Site: site.ID,
		Client: un.Client, Kind: kind, Subjects: []event.Subject{{Key: k, BaseVersion: un.Version}}, Ctx: ectx}
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	vs, err := c.node.SubmitEvents(ctx, []event.Event{ev}, false)
	if err != nil {
		return err
	}
	if len(vs) != 1 {
		return fmt.Errorf("console: %d verdicts for one event", len(vs))
	}
	switch v := vs[0]; {
	case v.Status == command.StatusApplied && v.Result != nil && v.Result.Verdict == unit.VerdictRefused:
		return fmt.Errorf("%w: refused: %s", ErrBadRequest, v.Result.Reason)
	case v.Status == command.StatusApplied:
		return nil
	default:
		return fmt.Errorf("%w: not applied: %s", ErrBadRequest, v.Reason)
	}
}

// recall is a lot's page: every unit by status and location, what is in
// the building, what shipped where.
type recallView struct {
	GTIN, Lot, Product, Client string
	Total                      int
	ByStatus                   []countRow
	ByLocation                 []countRow
	Shipped                    []shipRow
	Units                      []unit.State
	Next                       string
	Holds                      []master.Hold
	Reasons                    []string
	CanLead                    bool
	HereHeld, Here             int
	ShipmentsOut               int
}

type countRow struct {
	Name string
	N    int
}

// shipRow is what went to one ship-to: units, the shipments (the first
// few; the CSV has all) and when the last left.
type shipRow struct {
	Destination string
	Units       int
	Shipments   []string
	More        int
	At          time.Time
}

// shipShown is how many shipment ids a ship-to row names.
const shipShown = 6

func (c *Console) recallPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := recallView{GTIN: strings.TrimSpace(x.Query("gtin")), Lot: strings.TrimSpace(x.Query("lot")), Reasons: reasonNames(), CanLead: u.Role.CanRelease()}
	if v.GTIN == "" {
		return c.render(x, "recall", "Lot recall", v)
	}
	byStatus, byLoc := map[string]int{}, map[string]int{}
	type perShip struct {
		units int
		at    time.Time
	}
	ships := map[string]*perShip{}
	err := c.node.State().View(func(r *state.Reader) error {
		p, err := r.Product(v.GTIN)
		if errors.Is(err, state.ErrNotFound) || err == nil && !u.Sees(p.Client) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		v.Product, v.Client = p.Name, p.Client
		// The lot's counters, which the state keeps as units change; a
		// GTIN is one client's, so the product's client answers for
		// every unit counted.
		lots, err := r.LotCounts(v.GTIN, v.Lot, v.Lot == "")
		if err != nil {
			return err
		}
		for _, lc := range lots {
			inherited, err := r.Inherited(unit.State{Key: event.SGTIN(v.GTIN, "x"), Lot: lc.Lot})
			if err != nil {
				return err
			}
			v.Total += lc.Total
			for st, n := range lc.ByStatus {
				byStatus[strings.ReplaceAll(st.String(), "_", " ")] += n
			}
			for loc, n := range lc.ByLocation {
				if loc == "" {
					loc = "(no location)"
				}
				byLoc[loc] += n
			}
			v.Here += lc.Here
			if inherited != 0 {
				v.HereHeld += lc.Here
			} else {
				v.HereHeld += lc.HereHeld
			}
			for _, sc := range lc.Shipped {
				s := ships[sc.Shipment]
				if s == nil {
					s = &perShip{}
					ships[sc.Shipment] = s
				}
				s.units += sc.Units
				if sc.Last.After(s.at) {
					s.at = sc.Last
				}
			}
		}
		ids := make([]string, 0, len(ships))
		for id := range ships {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		byDest := map[string]*shipRow{}
		for _, id := range ids {
			dest := "(shipment record unknown)"
			if sh, err := r.Shipment(id); err == nil {
				dest = sh.Destination
				if pa, err := r.Partner(sh.Destination); err == nil && pa.Name != "" {
					dest = pa.Name + " (" + sh.Destination + ")"
				}
			}
			row := byDest[dest]
			if row == nil {
				row = &shipRow{Destination: dest}
				byDest[dest] = row
			}
			s := ships[id]
			row.Units += s.units
			if s.at.After(row.At) {
				row.At = s.at
			}
			if len(row.Shipments) < shipShown {
				row.Shipments = append(row.Shipments, id)
			} else {
				row.More++
			}
		}
		for _, row := range byDest {
			v.Shipped = append(v.Shipped, *row)
		}
		page, err := r.Units(state.UnitFilter{GTIN: v.GTIN, Lot: v.Lot, AnyLot: v.Lot == "", Client: u.Sees, After: x.Query("after"), Limit: pageSize})
		if err != nil {
			return err
		}
		v.Units = page.Items
		if page.Next != "" {
			v.Next = url.Values{"gtin": {v.GTIN}, "lot": {v.Lot}, "after": {page.Next}}.Encode()
		}
		v.Holds, err = r.Holds(func(h *master.Hold) bool {
			return u.Sees(h.Client) && h.GTIN == v.GTIN && (h.Scope == master.ScopeProduct || h.Lot == v.Lot)
		})
		return err
	})
	if err != nil {
		return err
	}
	v.ByStatus, v.ByLocation = sortedCounts(byStatus), sortedCounts(byLoc)
	v.ShipmentsOut = len(ships)
	sort.Slice(v.Shipped, func(i, j int) bool { return v.Shipped[i].Destination < v.Shipped[j].Destination })
	return c.render(x, "recall", "Lot recall", v)
}

func sortedCounts(m map[string]int) []countRow {
	out := make([]countRow, 0, len(m))
	for k, n := range m {
		out = append(out, countRow{k, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N > out[j].N || out[i].N == out[j].N && out[i].Name < out[j].Name })
	return out
}

// eachLotUnit calls fn for every unit of a lot (every unit of the GTIN
// when lot is "") the user sees, until fn returns false.
func eachLotUnit(r *state.Reader, gtin, lot string, sees func(string) bool, fn func(unit.State) bool) error {
	after := ""
	for {
		page, err := r.Units(state.UnitFilter{GTIN: gtin, Lot: lot, AnyLot: lot == "", Client: sees, After: after, Limit: 5000})
		if err != nil {
			return err
		}
		for _, un := range page.Items {
			if !fn(un) {
				return nil
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// recallCSV downloads every unit of the lot with where it is or went.
func (c *Console) recallCSV(x *fiber.Ctx) error {
	u := currentUser(x)
	gtin, lot := strings.TrimSpace(x.Query("gtin")), strings.TrimSpace(x.Query("lot"))
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	_ = w.Write([]string{"gtin", "serial", "lot", "expiry", "status", "holds", "location", "container", "shipment", "ship_to", "status_since_utc"})
	err := c.node.State().View(func(r *state.Reader) error {
		p, err := r.Product(gtin)
		if errors.Is(err, state.ErrNotFound) || err == nil && !u.Sees(p.Client) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		inherited, err := r.Inherited(unit.State{Key: event.SGTIN(gtin, "x"), Lot: lot})
		if err != nil {
			return err
		}
		dest := map[string]string{}
		return eachLotUnit(r, gtin, lot, u.Sees, func(un unit.State) bool {
			to := ""
			if un.Shipment != "" {
				d, ok := dest[un.Shipment]
				if !ok {
					if sh, err := r.Shipment(un.Shipment); err == nil {
						d = sh.Destination
					}
					dest[un.Shipment] = d
				}
				to = d
			}
			since := ""
			if !un.Since.IsZero() {
				since = un.Since.Time().UTC().Format(time.RFC3339)
			}
			_ = w.Write([]string{csvCell(un.Key.GTIN()), csvCell(un.Key.Serial()), csvCell(un.Lot), csvCell(un.Expiry), un.Status.String(),
				(un.Holds | inherited).String(), csvCell(un.Location), csvCell(string(un.Parent)), csvCell(un.Shipment), csvCell(to), since})
			return true
		})
	})
	if err != nil {
		return err
	}
	w.Flush()
	x.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	x.Set(fiber.HeaderContentDisposition, `attachment; filename="recall-`+safeName(gtin)+"-"+safeName(lot)+`.csv"`)
	return x.SendString(sb.String())
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// releaseUnit lifts one hold reason of a unit or container (a release
// event, which the rules allow leads and admins), with why.
func (c *Console) releaseUnit(x *fiber.Ctx) error {
	u := currentUser(x)
	if !u.Role.CanRelease() {
		return fmt.Errorf("%w: releasing needs a lead or an admin", ErrForbidden)
	}
	p, err := parseAnything(x.FormValue("ident"))
	if err != nil {
		return err
	}
	if p.Key == "" {
		return fmt.Errorf("%w: name a unit or a container", ErrBadRequest)
	}
	reason, err := event.ParseHoldReason(x.FormValue("reason"))
	if err != nil {
		return fmt.Errorf("%w: which hold", ErrBadRequest)
	}
	why := strings.TrimSpace(x.FormValue("why"))
	if why == "" || len(why) > event.MaxField {
		return fmt.Errorf("%w: say why the hold is released (up to %d characters)", ErrBadRequest, event.MaxField)
	}
	if err := c.submitUnitEvent(x.UserContext(), u, p.Key, event.KindRelease, event.Context{Hold: reason, Reason: why}); err != nil {
		return err
	}
	return x.Redirect("/trace?"+url.Values{"q": {p.Key.String()}, "done": {"released " + reason.String()}}.Encode(), fiber.StatusSeeOther)
}
