package engine

import (
	"fmt"
	"slices"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Work is what the signed-in user can do on this device now: the open
// ASNs, the orders not yet picked in full and the shipments not yet gone
// of the clients the user is granted, and the open exceptions this
// device raised or joined. The screens show it; the engine decides it.
type Work struct {
	ASNs       []WorkASN
	Orders     []WorkOrder
	Shipments  []WorkShipment
	Exceptions []unit.Exception
}

// WorkASN is an ASN still to receive.
type WorkASN struct {
	ID, Client, Supplier string
	Items                int
}

// WorkOrder is an order still to pick.
type WorkOrder struct {
	ID, Client, Customer string
	Lines, LinesDone     int
}

// WorkShipment is a shipment still to load.
type WorkShipment struct {
	ID, Client, Destination string
	Containers              int
}

// Work lists the signed-in user's work (empty when nobody is signed in).
func (e *Engine) Work() (Work, error) {
	u := e.User()
	var w Work
	if u == nil {
		return w, nil
	}
	err := e.st.View(func(tx *store.Tx) error {
		asns, err := tx.ASNs()
		if err != nil {
			return err
		}
		for _, a := range asns {
			if !a.Closed && u.Sees(a.Client) {
				w.ASNs = append(w.ASNs, WorkASN{ID: a.ID, Client: a.Client, Supplier: a.Supplier, Items: a.Items})
			}
		}
		orders, err := tx.Orders()
		if err != nil {
			return err
		}
		for i := range orders {
			o := &orders[i]
			if !u.Sees(o.Client) {
				continue
			}
			ls, err := progress(tx, o)
			if err != nil {
				return err
			}
			done := 0
			for _, l := range ls {
				if l.Done() {
					done++
				}
			}
			if done < len(ls) {
				w.Orders = append(w.Orders, WorkOrder{ID: o.ID, Client: o.Client, Customer: o.Customer, Lines: len(ls), LinesDone: done})
			}
		}
		ships, err := tx.Shipments()
		if err != nil {
			return err
		}
		for _, s := range ships {
			if !s.Departed && u.Sees(s.Client) {
				w.Shipments = append(w.Shipments, WorkShipment{ID: s.ID, Client: s.Client, Destination: s.Destination, Containers: len(s.Containers)})
			}
		}
		xs, err := tx.Exceptions()
		if err != nil {
			return err
		}
		for _, x := range xs {
			if x.Status != unit.ExceptionResolved && u.Sees(x.Client) && slices.Contains(x.Devices, tx.Device()) {
				w.Exceptions = append(w.Exceptions, x)
			}
		}
		return nil
	})
	if err != nil {
		return Work{}, fmt.Errorf("%w: work: %v", ErrStorage, err)
	}
	return w, nil
}

// Level is how much of one kind of thing an ASN announced has arrived.
type Level struct {
	Name     string // "pallets", "cases" or "units"
	Received int
	Expected int
}

// ASNProgress is what of an ASN has arrived on this device's replica.
type ASNProgress struct {
	ASN    string
	Closed bool
	Levels []Level // pallets, cases, units: only those the ASN has
}

// ASNProgress counts what the ASN announced and what of it is here: a
// container at the top holding containers is a pallet, any other
// container a case, the rest units. Units are counted only on ASNs of at
// most Config.ProgressUnits items.
func (e *Engine) ASNProgress(id string) (ASNProgress, error) {
	p := ASNProgress{ASN: id}
	counts := map[string]*Level{}
	err := e.st.View(func(tx *store.Tx) error {
		a, err := tx.ASN(id)
		if err != nil {
			return err
		}
		p.Closed = a.Closed
		units := a.Items <= e.cfg.ProgressUnits
		var walk func(k event.Key, depth int) error
		walk = func(k event.Key, depth int) error {
			if !k.IsContainer() && !units {
				return nil
			}
			s, err := tx.Unit(k)
			if err != nil {
				return err
			}
			var kids []event.Key
			if k.IsContainer() && depth < 8 {
				if kids, err = tx.Children(k); err != nil {
					return err
				}
			}
			name := "units"
			if k.IsContainer() {
				name = "cases"
				if depth == 0 && len(kids) > 0 && kids[0].IsContainer() {
					name = "pallets"
				}
			}
			l := counts[name]
			if l == nil {
				l = &Level{Name: name}
				counts[name] = l
			}
			l.Expected++
			if s.Known() && s.Status != unit.StatusExpected {
				l.Received++
			}
			for _, c := range kids {
				if err := walk(c, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		for _, r := range a.Roots {
			if err := walk(r, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("%w: ASN progress: %v", ErrStorage, err)
	}
	for _, n := range []string{"pallets", "cases", "units"} {
		if l := counts[n]; l != nil {
			p.Levels = append(p.Levels, *l)
		}
	}
	return p, nil
}

// PickGuide tells a picker what to fetch next for an order.
type PickGuide struct {
	Order    string
	Lines    []LineState
	Done     bool      // every line picked or shorted
	Line     string    // the next line to pick ("" when done)
	GTIN     string    // its product
	Product  string    // the product's name
	Want     int       // units still needed on the line
	Lot      string    // the lot the line asks for ("" for any)
	Suggest  event.Key // the unit to take first (FEFO), "" when none is available
	Location string    // where it is
	SugLot   string    // its lot
	Expiry   string    // its expiry, YYMMDD
	FEFO     master.FEFO
}

// PickGuide returns the order's progress and, for its first line not
// done, the available unit that expires first (respecting the line's
// lot and the client's minimum shelf life), with its location.
func (e *Engine) PickGuide(order string) (PickGuide, error) {
	g := PickGuide{Order: order}
	err := e.st.View(func(tx *store.Tx) error {
		o, err := tx.Order(order)
		if err != nil {
			return err
		}
		if g.Lines, err = progress(tx, &o); err != nil {
			return err
		}
		g.Done = complete(g.Lines)
		var line *master.OrderLine
		for i, l := range g.Lines {
			if !l.Done() {
				line = &o.Lines[i]
				g.Line, g.GTIN, g.Want, g.Lot = l.Line, l.GTIN, l.Qty-l.Picked-l.Short, l.Lot
				break
			}
		}
		if line == nil {
			return nil
		}
		var pol master.Policy
		if p, err := tx.Product(line.GTIN); err == nil {
			g.Product = p.Name
			if c, err := tx.Client(p.Client); err == nil {
				pol = c.Policy
			}
		}
		g.FEFO = pol.FEFO
		from := e.today().AddDate(0, 0, max(pol.MinShelfDays, 0)).Format("060102")
		var ferr error
		seen := 0
		tx.EarliestAvailable(line.GTIN, from, "", func(k event.Key, _ string) bool {
			seen++
			if seen > 1000 {
				return false
			}
			s, err := tx.Unit(k)
			if err != nil {
				ferr = err
				return false
			}
			if s.Status != unit.StatusInStock || s.Holds != 0 || (line.Lot != "" && s.Lot != line.Lot) || e.expired(s.Expiry) {
				return true
			}
			if inh, err := tx.LotHolds(line.GTIN, s.Lot); err != nil || inh != 0 {
				ferr = err
				return err == nil
			}
			g.Suggest, g.Location, g.SugLot, g.Expiry = k, s.Location, s.Lot, s.Expiry
			return false
		})
		return ferr
	})
	if err != nil {
		return g, fmt.Errorf("%w: pick guide: %v", ErrStorage, err)
	}
	return g, nil
}
