package console

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/epcismap"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/unit"
)

// parsed is what a pasted or scanned text names.
type parsed struct {
	Key       event.Key // a unit, case or logistic unit
	GTIN, Lot string    // a lot (or a product, without Lot) when no serial
}

// parseAnything reads what is printed on a pack in any form people
// paste: a GS1 element string (bracketed, or scanner data with GS, also
// written as <GS> or \x1d), a GS1 Digital Link, an EPC URI, an SSCC or
// a stored key.
func parseAnything(q string) (parsed, error) {
	q = strings.TrimSpace(q)
	for _, gs := range []string{"<GS>", "<gs>", `\x1d`, `\x1D`, "{GS}", "␝"} {
		q = strings.ReplaceAll(q, gs, "\x1d")
	}
	if q == "" {
		return parsed{}, fmt.Errorf("%w: paste or scan something", ErrBadRequest)
	}
	if strings.HasPrefix(strings.ToLower(q), "urn:epc:") {
		k, err := compliance.KeyFromEPC(q)
		if err != nil {
			return parsed{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		return parsed{Key: k}, nil
	}
	if len(q) == 18 && digitsOnly(q) {
		return parsed{Key: event.SSCC(q)}, nil
	}
	if len(q) == 14 && digitsOnly(q) {
		return parsed{GTIN: q}, nil
	}
	d, err := gs1.Parse([]byte(q))
	if err != nil {
		return parsed{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if s, ok := d.Value("00"); ok {
		return parsed{Key: event.SSCC(s)}, nil
	}
	g, ok := d.Value("01")
	if !ok {
		return parsed{}, fmt.Errorf("%w: no GTIN (01) or SSCC (00) in it", ErrBadRequest)
	}
	if s, ok := d.Value("21"); ok {
		return parsed{Key: event.SGTIN(g, s)}, nil
	}
	lot, _ := d.Value("10")
	return parsed{GTIN: g, Lot: lot}, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

type treeNode struct {
	Unit     unit.State
	Children []treeNode
	More     int // children not shown
}

type traceView struct {
	Query    string
	Error    string
	Key      event.Key
	Unit     unit.State
	Product  string
	Inherit  event.Holds
	Parents  []unit.State // nearest first
	Tree     []treeNode
	History  []state.Record
	LotLink  string
	NotFound bool
	Own      []string // the unit's own hold reasons, to release
	CanLead  bool
}

const (
	traceHistory  = 500
	traceChildren = 100
)

func (c *Console) tracePage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := traceView{Query: x.Query("q")}
	if v.Query == "" {
		return c.render(x, "trace", "Trace", v)
	}
	p, err := parseAnything(v.Query)
	if err != nil {
		v.Error = strings.TrimPrefix(err.Error(), "console: bad request: ")
		return c.render(x.Status(fiber.StatusBadRequest), "trace", "Trace", v)
	}
	if p.Key == "" {
		q := url.Values{"gtin": {p.GTIN}, "lot": {p.Lot}}
		return x.Redirect("/recall?"+q.Encode(), fiber.StatusSeeOther)
	}
	v.Key = p.Key
	err = c.node.State().View(func(r *state.Reader) error {
		var err error
		if v.Unit, err = r.Unit(p.Key); err != nil {
			return err
		}
		if !v.Unit.Known() || !u.Sees(v.Unit.Client) {
			v.NotFound = true
			return nil
		}
		if pr, err := r.Product(p.Key.GTIN()); err == nil && pr.Client == v.Unit.Client {
			v.Product = pr.Name
		}
		if v.Inherit, err = r.Inherited(v.Unit); err != nil {
			return err
		}
		for k, n := v.Unit.Parent, 0; k != "" && n < 8; n++ {
			pu, err := r.Unit(k)
			if err != nil {
				return err
			}
			if !pu.Known() || !u.Sees(pu.Client) {
				break
			}
			v.Parents = append(v.Parents, pu)
			k = pu.Parent
		}
		if p.Key.IsContainer() {
			if v.Tree, err = tree(r, p.Key, 3, u.Sees); err != nil {
				return err
			}
		}
		if v.History, err = r.History(p.Key, traceHistory); err != nil {
			return err
		}
		for _, h := range holdReasons {
			if v.Unit.Holds.Has(h) {
				v.Own = append(v.Own, h.String())
			}
		}
		v.CanLead = u.Role.CanRelease()
		if v.Unit.Lot != "" {
			v.LotLink = "/recall?" + url.Values{"gtin": {p.Key.GTIN()}, "lot": {v.Unit.Lot}}.Encode()
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Newest first.
	for i, j := 0, len(v.History)-1; i < j; i, j = i+1, j-1 {
		v.History[i], v.History[j] = v.History[j], v.History[i]
	}
	status := fiber.StatusOK
	if v.NotFound {
		status = fiber.StatusNotFound
	}
	return c.render(x.Status(status), "trace", "Trace", v)
}

// tree lists a container's contents, depth levels down, the contents a
// user may see only.
func tree(r *state.Reader, k event.Key, depth int, sees func(string) bool) ([]treeNode, error) {
	kids, err := r.Children(k)
	if err != nil {
		return nil, err
	}
	var out []treeNode
	for i, ch := range kids {
		if i == traceChildren {
			out = append(out, treeNode{More: len(kids) - i})
			break
		}
		u, err := r.Unit(ch)
		if err != nil {
			return nil, err
		}
		if !u.Known() || !sees(u.Client) {
			continue
		}
		n := treeNode{Unit: u}
		if depth > 1 && ch.IsContainer() {
			if n.Children, err = tree(r, ch, depth-1, sees); err != nil {
				return nil, err
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// traceEPCIS answers a unit's history as an EPCIS 2.0 document
// (?format=xml: 1.2).
func (c *Console) traceEPCIS(x *fiber.Ctx) error {
	u := currentUser(x)
	p, err := parseAnything(x.Query("q"))
	if err != nil {
		return err
	}
	if p.Key == "" {
		return fmt.Errorf("%w: name a unit or a container", ErrBadRequest)
	}
	format := epcis.FormatJSONLD
	if f := x.Query("format"); f != "" {
		if format, err = epcis.ParseFormat(f); err != nil {
			return fmt.Errorf("%w: format: want jsonld or xml", ErrBadRequest)
		}
	}
	var evs []event.Event
	var opts epcismap.Options
	err = c.node.State().View(func(r *state.Reader) error {
		un, err := r.Unit(p.Key)
		if err != nil {
			return err
		}
		if !un.Known() || !u.Sees(un.Client) {
			return ErrNotFound
		}
		hist, err := r.History(p.Key, traceHistory)
		if err != nil {
			return err
		}
		for _, rec := range hist {
			if rec.Result != nil && rec.Event.Client == un.Client {
				evs = append(evs, rec.Event)
			}
		}
		site, err := r.Site()
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		opts.SiteGLN = site.GLN
		prefix := map[string]int{}
		for _, e := range evs {
			for _, s := range e.Subjects {
				if g := s.Key.GTIN(); g != "" {
					if _, ok := prefix[g]; !ok {
						if pr, err := r.Product(g); err == nil {
							prefix[g] = pr.CompanyPrefixLen
						}
					}
				}
			}
		}
		opts.PrefixLen = func(s string) int { return prefix[s] }
		return nil
	})
	if err != nil {
		return err
	}
	doc, err := epcismap.Document(evs, opts, c.cfg.Now())
	if err != nil {
		return fmt.Errorf("%w: the history does not make a valid EPCIS document: %v", ErrBadRequest, err)
	}
	b, err := epcis.Encode(doc, format)
	if err != nil {
		return err
	}
	return sendDownload(x, b, format, "history-"+safeName(string(p.Key)))
}

func sendDownload(x *fiber.Ctx, b []byte, format epcis.Format, base string) error {
	ct, ext := "application/ld+json", ".jsonld"
	if format == epcis.FormatXML12 {
		ct, ext = "application/xml", ".xml"
	}
	x.Set(fiber.HeaderContentType, ct)
	x.Set(fiber.HeaderContentDisposition, `attachment; filename="`+base+ext+`"`)
	return x.Send(b)
}

// safeName keeps letters, digits, dots and dashes of s for a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
