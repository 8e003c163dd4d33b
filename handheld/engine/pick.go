package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// LineState is an order line's progress.
type LineState struct {
	Line   string `json:"line"`
	GTIN   string `json:"gtin"`
	Lot    string `json:"lot,omitempty"`
	Qty    int    `json:"qty"`
	Picked int    `json:"picked"`
	Short  int    `json:"short,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Done reports whether the line needs nothing more.
func (l LineState) Done() bool { return l.Picked+l.Short >= l.Qty }

type pickTask struct{ order string }

func (t *pickTask) name() string { return "pick " + t.order }
func (t *pickTask) policy() bool { return true }
func (t *pickTask) scan(e *Engine, it Item) (Step, error) {
	return e.pick(t.order, it)
}

func progress(tx *store.Tx, o *master.Order) ([]LineState, error) {
	picked := tx.OrderUnits(o.ID)
	shorts, err := tx.ShortPicks(o.ID)
	if err != nil {
		return nil, err
	}
	out := make([]LineState, 0, len(o.Lines))
	for _, l := range o.Lines {
		ls := LineState{Line: l.ID, GTIN: l.GTIN, Lot: l.Lot, Qty: l.Qty}
		for _, k := range picked[l.ID] {
			if !k.IsContainer() {
				ls.Picked++
			}
		}
		if sp, ok := shorts[l.ID]; ok {
			ls.Short, ls.Reason = sp.Qty, sp.Reason
		}
		out = append(out, ls)
	}
	return out, nil
}

func complete(ls []LineState) bool {
	for _, l := range ls {
		if !l.Done() {
			return false
		}
	}
	return true
}

// StartPick starts picking an order.
func (e *Engine) StartPick(order string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn("pick")
	if s != nil {
		return *s, nil
	}
	var o master.Order
	var ls []LineState
	err := e.st.View(func(tx *store.Tx) (err error) {
		if o, err = tx.Order(order); err != nil {
			return err
		}
		ls, err = progress(tx, &o)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refused("pick", "no order %s on this device", order), nil
	case err != nil:
		return failed("pick", err)
	case !u.Sees(o.Client):
		return refused("pick", "order %s belongs to a client you are not granted", order), nil
	}
	e.task = &pickTask{order: order}
	st := accepted("pick", "picking order %s for %s: %d lines", o.ID, o.Customer, len(o.Lines))
	st.Progress = ls
	return st, nil
}

// contents describes what a scanned unit or container holds: its unit
// GTIN, lot and expiry when they are one, and how many units.
type contents struct {
	gtin, lot, expiry string
	units             []event.Key
	mixedGTIN         bool
	mixedLot          bool
}

func contentsOf(tx *store.Tx, k event.Key, s unit.State, today time.Time) (contents, error) {
	if !k.IsContainer() {
		return contents{gtin: k.GTIN(), lot: s.Lot, expiry: s.Expiry, units: []event.Key{k}}, nil
	}
	d, err := tx.Descendants(k)
	if err != nil {
		return contents{}, err
	}
	var c contents
	for _, x := range d {
		if x.IsContainer() {
			continue
		}
		u, err := tx.Unit(x)
		if err != nil {
			return c, err
		}
		if len(c.units) == 0 {
			c.gtin, c.lot, c.expiry = x.GTIN(), u.Lot, u.Expiry
		} else {
			c.mixedGTIN = c.mixedGTIN || x.GTIN() != c.gtin
			c.mixedLot = c.mixedLot || u.Lot != c.lot
			if expiresBefore(u.Expiry, c.expiry, today) {
				c.expiry = u.Expiry
			}
		}
		c.units = append(c.units, x)
	}
	return c, nil
}

// expiresBefore reports whether YYMMDD expiry a is before b, as dates (DD
// 00 is the month's last day); malformed dates compare as text.
func expiresBefore(a, b string, today time.Time) bool {
	ta, okA := unit.ExpiryDate(a, today)
	tb, okB := unit.ExpiryDate(b, today)
	if okA && okB {
		return ta.Before(tb)
	}
	return a < b
}

func (e *Engine) pick(orderID string, it Item) (Step, error) {
	var prog []LineState
	st, err := e.write("pick", it.Key, func(w *writer) (string, error) {
		tx := w.tx
		o, err := tx.Order(orderID)
		if err != nil {
			return "", err
		}
		cl, err := tx.Client(o.Client)
		if err != nil {
			return "", err
		}
		s, err := tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		switch {
		case !s.Known():
			return "", refuse("%s is unknown to this site: set it aside", it.Key)
		case s.Client != o.Client:
			return "", refuse("%s belongs to client %s, not to order %s's client %s", it.Key, s.Client, o.ID, o.Client)
		case it.Lot != "" && s.Lot != "" && it.Lot != s.Lot:
			return "", alert("the pack says lot %s but the site's record of %s says %s: do not pick it, take it to quarantine", it.Lot, it.Key, s.Lot)
		case it.Expiry != "" && s.Expiry != "" && it.Expiry != s.Expiry:
			return "", alert("the pack says expiry %s but the site's record of %s says %s: do not pick it, take it to quarantine", it.Expiry, it.Key, s.Expiry)
		}
		c, err := contentsOf(tx, it.Key, s, e.today())
		if err != nil {
			return "", err
		}
		switch {
		case len(c.units) == 0:
			return "", refuse("%s is empty", it.Key)
		case c.mixedGTIN:
			return "", refuse("%s holds more than one product: open it and pick the units", it.Key)
		}
		ls, err := progress(tx, &o)
		if err != nil {
			return "", err
		}
		if s.Status == unit.StatusPicked && s.Order == o.ID {
			return "", &errNothing{fmt.Sprintf("%s is already picked for this order (line %s)", it.Key, s.Line)}
		}
		var line *master.OrderLine
		var why string
		for i := range o.Lines {
			l := &o.Lines[i]
			if l.GTIN != c.gtin {
				continue
			}
			if l.Lot != "" && (c.mixedLot || c.lot != l.Lot) {
				why = fmt.Sprintf("line %s asks for lot %s, this is lot %s", l.ID, l.Lot, c.lot)
				continue
			}
			left := l.Qty - ls[i].Picked - ls[i].Short
			if left < len(c.units) {
				if left <= 0 {
					why = fmt.Sprintf("line %s is complete", l.ID)
				} else {
					why = fmt.Sprintf("line %s needs %d more, %s holds %d", l.ID, left, it.Key, len(c.units))
				}
				continue
			}
			line = l
			break
		}
		if line == nil {
			if why == "" {
				name := c.gtin
				if p, err := tx.Product(c.gtin); err == nil {
					name = p.Name + " (" + c.gtin + ")"
				}
				return "", refuse("wrong product: order %s does not ask for %s", o.ID, name)
			}
			return "", refuse("%s", why)
		}
		if s.Status == unit.StatusInStock {
			inh, err := tx.LotHolds(c.gtin, c.lot)
			if err != nil {
				return "", err
			}
			if held := s.Holds | inh; held == 0 && !e.expired(c.expiry) {
				if err := e.shelfLife(cl.Policy, c.expiry, it.Key); err != nil {
					return "", err
				}
				if cl.Policy.FEFO == master.FEFOWarn || cl.Policy.FEFO == master.FEFOBlock {
					if x, xs, ok, err := e.earlier(tx, cl.Policy, line, c, it.Key); err != nil {
						return "", err
					} else if ok {
						msg := fmt.Sprintf("first expiry first out: %s of lot %s expires %s, before this one (%s); it is at %s", x, xs.Lot, xs.Expiry, c.expiry, xs.Location)
						if cl.Policy.FEFO == master.FEFOBlock {
							return "", refuse("%s: pick that one first", msg)
						}
						w.warnings = append(w.warnings, msg)
					}
				}
			}
		}
		// Picked out of a received case or pallet: it leaves its container
		// in the same transaction, or it could never be shipped loose.
		out := ""
		if s.Parent != "" && s.Status == unit.StatusInStock {
			if _, _, err := w.emit(event.KindUnpack, o.Client, []event.Key{it.Key}, event.Context{Parent: s.Parent}, ""); err != nil {
				return "", err
			}
			out = fmt.Sprintf(" (taken out of %s)", s.Parent)
		}
		if _, _, err := w.emit(event.KindPick, o.Client, []event.Key{it.Key}, event.Context{Order: o.ID, Line: line.ID}, fmt.Sprintf("%s is already picked", it.Key)); err != nil {
			return "", err
		}
		if prog, err = progress(tx, &o); err != nil {
			return "", err
		}
		for _, l := range prog {
			if l.Line == line.ID {
				return fmt.Sprintf("picked %d for line %s (%d of %d)%s", len(c.units), l.Line, l.Picked, l.Qty, out), nil
			}
		}
		return "picked", nil
	})
	st.Progress = prog
	if st.Verdict == Accepted && prog != nil && complete(prog) {
		st.Cue = CueDone
		st.Reason += "; order complete"
	}
	return st, err
}

// shelfLife refuses a unit that expires sooner than the client allows.
func (e *Engine) shelfLife(p master.Policy, expiry string, k event.Key) error {
	if p.MinShelfDays <= 0 || expiry == "" {
		return nil
	}
	t, ok := unit.ExpiryDate(expiry, e.today())
	if !ok {
		return nil
	}
	if left := int(t.Sub(e.today()) / (24 * time.Hour)); left < p.MinShelfDays {
		return refuse("%s expires in %d days; this client ships only stock with at least %d days left", k, left, p.MinShelfDays)
	}
	return nil
}

// earlier finds an available unit of the same product (and lot, if the
// line asks for one) that expires before the scanned one and could be
// picked instead.
func (e *Engine) earlier(tx *store.Tx, p master.Policy, line *master.OrderLine, c contents, scanned event.Key) (event.Key, unit.State, bool, error) {
	from := e.today().AddDate(0, 0, max(p.MinShelfDays, 0)).Format("060102")
	var found event.Key
	var fs unit.State
	var ferr error
	seen := 0
	mine := map[event.Key]bool{scanned: true}
	for _, u := range c.units {
		mine[u] = true
	}
	tx.EarliestAvailable(c.gtin, from, c.expiry, func(k event.Key, _ string) bool {
		seen++
		if seen > 1000 {
			return false
		}
		if mine[k] {
			return true
		}
		s, err := tx.Unit(k)
		if err != nil {
			ferr = err
			return false
		}
		if s.Status != unit.StatusInStock || s.Holds != 0 || (line.Lot != "" && s.Lot != line.Lot) || e.expired(s.Expiry) {
			return true
		}
		inh, err := tx.LotHolds(c.gtin, s.Lot)
		if err != nil {
			ferr = err
			return false
		}
		if inh != 0 {
			return true
		}
		found, fs = k, s
		return false
	})
	return found, fs, found != "", ferr
}

// ShortPick records that a line of the order being picked cannot be
// filled, with a reason: a short_pick event for the site, and the short
// pick kept on the device with the order's progress.
func (e *Engine) ShortPick(line, reason string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("short"); s != nil {
		return *s, nil
	}
	t, ok := e.task.(*pickTask)
	if !ok {
		return refused("short", "start picking an order first"), nil
	}
	if reason == "" {
		return refused("short", "give a reason for the short pick"), nil
	}
	var prog []LineState
	st, err := e.write("short", "", func(w *writer) (string, error) {
		o, err := w.tx.Order(t.order)
		if err != nil {
			return "", err
		}
		ls, err := progress(w.tx, &o)
		if err != nil {
			return "", err
		}
		for _, l := range ls {
			if l.Line != line {
				continue
			}
			left := l.Qty - l.Picked
			if left <= 0 {
				return "", refuse("line %s is complete", line)
			}
			// The short pick travels to the site as a short_pick event.
			if _, _, err := w.emit(event.KindShortPick, o.Client, nil, event.Context{Order: o.ID, Line: line, Qty: uint32(left), Reason: reason}, ""); err != nil {
				return "", err
			}
			if err := w.tx.PutShortPick(store.ShortPick{Order: o.ID, Line: line, Qty: left, Reason: reason, User: e.user.ID, At: e.clock.Now()}); err != nil {
				return "", err
			}
			w.warnings = append(w.warnings, fmt.Sprintf("line %s short by %d: %s", line, left, reason))
			prog, err = progress(w.tx, &o)
			return "short pick recorded", err
		}
		return "", refuse("order %s has no line %s", o.ID, line)
	})
	st.Progress = prog
	return st, err
}
