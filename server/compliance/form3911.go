package compliance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Clock is an investigation's 24-hour clock: due 24 hours after the
// finding of illegitimate product (zero before), running until the FDA
// notification is marked sent, overdue past due while running.
type Clock struct {
	Due     time.Time
	Left    time.Duration // to the minute
	Running bool
	Overdue bool
}

// ClockOf reads an investigation's clock at now.
func ClockOf(v *state.Investigation, now time.Time) Clock {
	if v.Illegitimate == 0 {
		return Clock{}
	}
	ck := Clock{Due: v.Illegitimate.Time().Add(state.NotifyWithin)}
	if slices.ContainsFunc(v.Notices, func(n state.Notice) bool { return n.To == state.NoticeFDA }) {
		return ck
	}
	ck.Running = true
	ck.Left = ck.Due.Sub(now).Truncate(time.Minute)
	ck.Overdue = ck.Left < 0
	return ck
}

// Form3911 is the draft of FDA Form 3911 (notification of illegitimate
// product) drafted from the site's data, for a person to check and send.
type Form3911 struct {
	Investigation   string            `json:"investigation"`
	NotificationFor string            `json:"notificationFor"` // "illegitimate product"
	Status          string            `json:"status"`
	Determined      *time.Time        `json:"determined,omitempty"` // when found illegitimate
	Due             *time.Time        `json:"due,omitempty"`
	TimeLeft        string            `json:"timeLeft,omitempty"`
	Reporter        Form3911Reporter  `json:"reporter"`
	Client          string            `json:"client"` // the owner of the product (the site holds it on its behalf)
	Products        []Form3911Product `json:"products"`
	Partners        []Form3911Partner `json:"partners"`
	Description     string            `json:"description"`
	Notices         []state.Notice    `json:"notices,omitempty"`
}

type Form3911Reporter struct {
	Site string `json:"site"`
	Name string `json:"name,omitempty"`
	GLN  string `json:"gln,omitempty"`
}

type Form3911Product struct {
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

type Form3911Partner struct {
	Role string `json:"role"` // "supplier" (where it came from) or "customer" (where it went)
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	GLN  string `json:"gln,omitempty"`
}

// MaxForm3911Units bounds how many units a draft lists.
const MaxForm3911Units = 100000

// BuildForm3911 drafts the form from the investigation and the units it
// covers: product, NDC, lot, expiry, serials and quantities, where they
// came from and went, and the dates.
func BuildForm3911(r *state.Reader, v state.Investigation, now time.Time) (Form3911, error) {
	ck := ClockOf(&v, now)
	f := Form3911{Investigation: v.ID, NotificationFor: "illegitimate product", Status: v.Status,
		Client: v.Client, Description: v.Description, Notices: v.Notices, Products: []Form3911Product{}, Partners: []Form3911Partner{}}
	if v.Illegitimate != 0 {
		t := v.Illegitimate.Time()
		f.Determined, f.Due = &t, &ck.Due
		if ck.Running {
			f.TimeLeft = ck.Left.String()
		}
	}
	site, err := r.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return f, err
	}
	f.Reporter = Form3911Reporter{Site: site.ID, Name: site.Name, GLN: site.GLN}
	var units []unit.State
	switch v.Scope {
	case state.ScopeLot, state.ScopeProduct:
		page, err := r.Units(state.UnitFilter{GTIN: v.GTIN, Lot: v.Lot, AnyLot: v.Scope == state.ScopeProduct,
			Client: func(c string) bool { return c == v.Client }, Limit: MaxForm3911Units})
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
	byKey := map[pkey]*Form3911Product{}
	var order []pkey
	asns, shipments := map[string]bool{}, map[string]bool{}
	for _, u := range units {
		k := pkey{u.Key.GTIN(), u.Lot, u.Expiry}
		p := byKey[k]
		if p == nil {
			p = &Form3911Product{GTIN: k.gtin, Lot: k.lot, Expiry: k.expiry, Serials: []string{}}
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
		p := Form3911Partner{Role: role, ID: id}
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
	for _, id := range sortedSet(asns) {
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
	for _, id := range sortedSet(shipments) {
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

// Notice is a drafted notification of illegitimate product: to FDA
// (the Form 3911 draft) or to one trading partner that sold or bought
// the product, with whether and when it was marked sent.
type Notice struct {
	To         string            `json:"to"` // "fda" or the partner id
	Role       string            `json:"role,omitempty"`
	Name       string            `json:"name,omitempty"`
	GLN        string            `json:"gln,omitempty"`
	Subject    string            `json:"subject"`
	Products   []Form3911Product `json:"products"`
	Body       string            `json:"body"`
	Determined *time.Time        `json:"determined,omitempty"`
	Due        *time.Time        `json:"due,omitempty"`
	Sent       *state.Notice     `json:"sent,omitempty"`
}

// Notices drafts the notifications an illegitimate product finding
// calls for: FDA's (Form 3911) and one to each trading partner the
// draft names, each with the product, lots, serials and the finding.
func Notices(f Form3911) []Notice {
	sent := func(to string) *state.Notice {
		for i := range f.Notices {
			if f.Notices[i].To == to {
				return &f.Notices[i]
			}
		}
		return nil
	}
	body := func(to string) string {
		return fmt.Sprintf("%s (%s) notifies %s of illegitimate product found in investigation %s, held on behalf of %s: %s",
			f.Reporter.Name, f.Reporter.GLN, to, f.Investigation, f.Client, f.Description)
	}
	out := []Notice{{To: state.NoticeFDA, Subject: "FDA Form 3911: notification of illegitimate product (" + f.Investigation + ")",
		Products: f.Products, Body: body("FDA"), Determined: f.Determined, Due: f.Due, Sent: sent(state.NoticeFDA)}}
	for _, p := range f.Partners {
		out = append(out, Notice{To: p.ID, Role: p.Role, Name: p.Name, GLN: p.GLN,
			Subject: "Notification of illegitimate product (" + f.Investigation + ")", Products: f.Products,
			Body: body(strings.TrimSpace(p.Name + " (" + p.ID + ")")), Determined: f.Determined, Due: f.Due, Sent: sent(p.ID)})
	}
	return out
}
