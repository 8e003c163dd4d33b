package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// NotifyWithin is how long after product is found illegitimate the FDA
// (Form 3911) and the trading partners must be notified.
const NotifyWithin = 24 * time.Hour

// investigationWire is an investigation with its clock: when the
// notifications are due, the time left, and whether they are overdue
// (a high-severity exception for whoever reads it).
type investigationWire struct {
	state.Investigation
	Due      *time.Time `json:"due,omitempty"`
	TimeLeft string     `json:"timeLeft,omitempty"`
	Overdue  bool       `json:"overdue,omitempty"`
	Severity string     `json:"severity,omitempty"`
}

// notifiedFDA reports whether the Form 3911 notification is marked sent.
func notifiedFDA(v *state.Investigation) bool {
	return slices.ContainsFunc(v.Notices, func(n state.Notice) bool { return n.To == command.NoticeFDA })
}

func toInvestigationWire(v state.Investigation, now time.Time) investigationWire {
	w := investigationWire{Investigation: v}
	if v.Illegitimate == 0 {
		return w
	}
	due := v.Illegitimate.Time().Add(NotifyWithin)
	w.Due = &due
	if notifiedFDA(&v) {
		return w
	}
	left := due.Sub(now).Truncate(time.Minute)
	w.TimeLeft = left.String()
	if left < 0 {
		w.Overdue, w.Severity = true, "high"
	}
	return w
}

// openInvestigation opens an investigation ({client, scope, gtin, lot,
// keys, trigger, exception, description}): what it covers is
// quarantined at once.
func (s *Server) openInvestigation(c *fiber.Ctx) error {
	var body struct {
		Client      string      `json:"client"`
		Scope       string      `json:"scope"`
		GTIN        string      `json:"gtin"`
		Lot         string      `json:"lot"`
		Keys        []event.Key `json:"keys"`
		Trigger     string      `json:"trigger"`
		Exception   string      `json:"exception"`
		Description string      `json:"description"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Description == "" {
		return badField("description", "required: what is suspected and why")
	}
	if !sees(c)(body.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, body.Client)
	}
	for i, k := range body.Keys {
		if err := k.Validate(); err != nil {
			return badField(fmt.Sprintf("keys[%d]", i), "%v", err)
		}
	}
	if body.Exception != "" {
		var x unit.Exception
		err := s.node.State().View(func(r *state.Reader) error { var err error; x, err = r.Exception(body.Exception); return err })
		if errors.Is(err, state.ErrNotFound) || err == nil && x.Client != body.Client {
			return badField("exception", "no exception %q of client %q", body.Exception, body.Client)
		}
		if err != nil {
			return err
		}
	}
	id, err := newID()
	if err != nil {
		return err
	}
	hold, err := newID()
	if err != nil {
		return err
	}
	st := command.InvestigationStep{ID: "INV-" + id.String()[:18], Action: command.ActionOpen, By: user(c).ID, At: s.clock.Now(),
		Note: body.Description, Client: body.Client, Scope: body.Scope, GTIN: body.GTIN, Lot: body.Lot, Keys: body.Keys,
		Trigger: body.Trigger, Exception: body.Exception, Event: hold}
	return s.investigationStep(c, st, fiber.StatusCreated)
}

// investigationAction takes a step of an open investigation: clear
// ({note}), illegitimate ({note}), notified ({to, note}), dispose
// ({disposition, note}).
func (s *Server) investigationAction(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var body struct {
			Note        string `json:"note"`
			To          string `json:"to"`
			Disposition string `json:"disposition"`
		}
		if len(c.Body()) > 0 {
			if err := decode(c, &body); err != nil {
				return err
			}
		}
		var v state.Investigation
		err := s.node.State().View(func(r *state.Reader) error { var err error; v, err = r.Investigation(param(c, "id")); return err })
		if err == nil && !sees(c)(v.Client) {
			err = ErrNotFound
		}
		if err != nil {
			return err
		}
		st := command.InvestigationStep{ID: v.ID, Action: action, By: user(c).ID, At: s.clock.Now(), Note: body.Note,
			To: body.To, Disposition: body.Disposition}
		if action == command.ActionClear {
			if st.Event, err = newID(); err != nil {
				return err
			}
		}
		return s.investigationStep(c, st, fiber.StatusOK)
	}
}

func (s *Server) investigationStep(c *fiber.Ctx, st command.InvestigationStep, status int) error {
	raw, err := s.propose(c, command.TypeInvestigation, st)
	if err != nil {
		return err
	}
	var v state.Investigation
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("investigation answer: %w", err)
	}
	return c.Status(status).JSON(toInvestigationWire(v, time.Now()))
}

// listInvestigations lists investigations (?status=), overdue clocks
// first.
func (s *Server) listInvestigations(c *fiber.Ctx) error {
	see, status := sees(c), c.Query("status")
	var out []state.Investigation
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Investigations(func(v *state.Investigation) bool { return see(v.Client) && (status == "" || v.Status == status) })
		return err
	})
	return respond(c, err, func() any {
		now := time.Now()
		w := make([]investigationWire, len(out))
		for i, v := range out {
			w[i] = toInvestigationWire(v, now)
		}
		slices.SortStableFunc(w, func(a, b investigationWire) int {
			switch {
			case a.Overdue && !b.Overdue:
				return -1
			case b.Overdue && !a.Overdue:
				return 1
			}
			return 0
		})
		return items(w)
	})
}

func (s *Server) getInvestigation(c *fiber.Ctx) error {
	var v state.Investigation
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Investigation(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return toInvestigationWire(v, time.Now()) })
}

// form3911 is the draft of FDA Form 3911 (notification of illegitimate
// product) drafted from the site's data, for a person to check and send.
type form3911 struct {
	Investigation   string            `json:"investigation"`
	NotificationFor string            `json:"notificationFor"` // "illegitimate product"
	Status          string            `json:"status"`
	Determined      *time.Time        `json:"determined,omitempty"` // when found illegitimate
	Due             *time.Time        `json:"due,omitempty"`
	TimeLeft        string            `json:"timeLeft,omitempty"`
	Reporter        form3911Reporter  `json:"reporter"`
	Client          string            `json:"client"` // the owner of the product (the site holds it on its behalf)
	Products        []form3911Product `json:"products"`
	Partners        []form3911Partner `json:"partners"`
	Description     string            `json:"description"`
	Notices         []state.Notice    `json:"notices,omitempty"`
}

type form3911Reporter struct {
	Site string `json:"site"`
	Name string `json:"name,omitempty"`
	GLN  string `json:"gln,omitempty"`
}

type form3911Product struct {
	GTIN     string   `json:"gtin"`
	NDC      string   `json:"ndc,omitempty"`
	Name     string   `json:"name,omitempty"`
	Strength string   `json:"strength,omitempty"`
	Form     string   `json:"form,omitempty"`
	Lot      string   `json:"lot,omitempty"`
	Expiry   string   `json:"expiry,omitempty"`
	Quantity int      `json:"quantity"`
	Serials  []string `json:"serials"`
}

type form3911Partner struct {
	Role string `json:"role"` // "supplier" (where it came from) or "customer" (where it went)
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	GLN  string `json:"gln,omitempty"`
}

// maxForm3911Units bounds how many units a draft lists.
const maxForm3911Units = 100000

// buildForm3911 drafts the form from the investigation and the units it
// covers: product, NDC, lot, expiry, serials and quantities, where they
// came from and went, and the dates.
func buildForm3911(r *state.Reader, v state.Investigation, now time.Time) (form3911, error) {
	w := toInvestigationWire(v, now)
	f := form3911{Investigation: v.ID, NotificationFor: "illegitimate product", Status: v.Status, Due: w.Due, TimeLeft: w.TimeLeft,
		Client: v.Client, Description: v.Description, Notices: v.Notices, Products: []form3911Product{}, Partners: []form3911Partner{}}
	if v.Illegitimate != 0 {
		t := v.Illegitimate.Time()
		f.Determined = &t
	}
	site, err := r.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return f, err
	}
	f.Reporter = form3911Reporter{Site: site.ID, Name: site.Name, GLN: site.GLN}
	var units []unit.State
	switch v.Scope {
	case state.ScopeLot, state.ScopeProduct:
		page, err := r.Units(state.UnitFilter{GTIN: v.GTIN, Lot: v.Lot, AnyLot: v.Scope == state.ScopeProduct,
			Client: func(c string) bool { return c == v.Client }, Limit: maxForm3911Units})
		if err != nil {
			return f, err
		}
		units = page.Items
	default:
		var walk func(k event.Key, depth int) error
		walk = func(k event.Key, depth int) error {
			u, err := r.Unit(k)
			if err != nil {
				return err
			}
			if u.Known() && u.Client == v.Client && !k.IsContainer() {
				units = append(units, u)
			}
			if !k.IsContainer() || depth >= 8 {
				return nil
			}
			kids, err := r.Children(k)
			if err != nil {
				return err
			}
			for _, ch := range kids {
				if err := walk(ch, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		for _, k := range v.Keys {
			if err := walk(k, 0); err != nil {
				return f, err
			}
		}
	}
	type pkey struct{ gtin, lot, expiry string }
	byKey := map[pkey]*form3911Product{}
	var order []pkey
	asns, shipments := map[string]bool{}, map[string]bool{}
	for _, u := range units {
		k := pkey{u.Key.GTIN(), u.Lot, u.Expiry}
		p := byKey[k]
		if p == nil {
			p = &form3911Product{GTIN: k.gtin, Lot: k.lot, Expiry: k.expiry, Serials: []string{}}
			if m, err := r.Product(k.gtin); err == nil {
				p.NDC, p.Name, p.Strength, p.Form = m.NDC, m.Name, m.Strength, m.Form
			} else if !errors.Is(err, state.ErrNotFound) {
				return f, err
			}
			byKey[k] = p
			order = append(order, k)
		}
		p.Quantity++
		p.Serials = append(p.Serials, u.Key.Serial())
		if u.ASN != "" {
			asns[u.ASN] = true
		}
		if u.Shipment != "" {
			shipments[u.Shipment] = true
		}
	}
	for _, k := range order {
		f.Products = append(f.Products, *byKey[k])
	}
	partner := func(role, id string) error {
		if id == "" {
			return nil
		}
		p := form3911Partner{Role: role, ID: id}
		if x, err := r.Partner(id); err == nil {
			p.Name, p.GLN = x.Name, x.GLN
		} else if !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if !slices.Contains(f.Partners, p) {
			f.Partners = append(f.Partners, p)
		}
		return nil
	}
	for _, id := range sortedKeys(asns) {
		a, err := r.ASN(id)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return f, err
		}
		if err := partner("supplier", a.Supplier); err != nil {
			return f, err
		}
	}
	for _, id := range sortedKeys(shipments) {
		sh, err := r.Shipment(id)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return f, err
		}
		if err := partner("customer", sh.Destination); err != nil {
			return f, err
		}
	}
	return f, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// getForm3911 answers the Form 3911 draft: ?format=json (default) or pdf.
func (s *Server) getForm3911(c *fiber.Ctx) error {
	format := c.Query("format", "json")
	if format != "json" && format != "pdf" {
		return badField("format", "want json or pdf")
	}
	var f form3911
	err := s.read(c, func(r *state.Reader) error {
		v, err := r.Investigation(param(c, "id"))
		if err != nil {
			return err
		}
		if !sees(c)(v.Client) {
			return ErrNotFound
		}
		f, err = buildForm3911(r, v, time.Now())
		return err
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	if format == "pdf" {
		b, err := f.pdf()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", f.Investigation+"-form3911.pdf"))
		return c.Send(b)
	}
	return c.JSON(f)
}
