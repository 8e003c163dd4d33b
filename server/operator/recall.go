package operator

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// recallPageSize is how many units one read of a lot asks a site for.
const recallPageSize = 20000

// recallSite is one site's part of a network lot recall.
type recallSite struct {
	siteAnswer
	Units    []unit.State
	ShipTo   map[string]string // shipment id → destination
	HeldFor  map[string]bool   // clients with an active lot or product hold on it
	ByStatus []statusCount
	Held     int
	Shipped  []shipToCount
	Clients  []string
}

type statusCount struct {
	Status unit.Status
	N      int
}

type shipToCount struct {
	To string
	N  int
}

type recallView struct {
	GTIN, Lot string
	Sites     []recallSite
	Total     int
	Held      int
	Shipped   int
	Down      []string
	Error     string
	Results   []holdResult
}

type holdResult struct {
	Site, Client, Outcome string
	OK                    bool
}

// readLot reads every unit of GTIN + lot at every site the user sees,
// with the shipments' destinations.
func (o *Operator) readLot(ctx context.Context, u *User, gtin, lot string) []recallSite {
	var mu sync.Mutex // guards ans, written by each site's reader
	ans := make(map[string]*recallSite)
	// A lot can be 100,000 units and their shipments: ten read timeouts.
	base := o.eachSiteWithin(ctx, u, 10*o.cfg.Timeout, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
		r := &recallSite{ShipTo: map[string]string{}, HeldFor: map[string]bool{}}
		var holds struct {
			Items []struct {
				Client string           `json:"client"`
				Scope  master.HoldScope `json:"scope"`
				GTIN   string           `json:"gtin"`
				Lot    string           `json:"lot"`
				Active bool             `json:"active"`
			} `json:"items"`
		}
		if err := c.get(ctx, "/api/v1/holds", url.Values{"gtin": {gtin}}, &holds); err != nil {
			return err
		}
		for _, h := range holds.Items {
			if h.Active && h.GTIN == gtin && (h.Scope == master.ScopeProduct || h.Lot == lot) {
				r.HeldFor[h.Client] = true
			}
		}
		after := ""
		for {
			var page struct {
				Items []unit.State `json:"items"`
				Next  string       `json:"next"`
			}
			q := url.Values{"limit": {fmt.Sprint(recallPageSize)}}
			if after != "" {
				q.Set("after", after)
			}
			if err := c.get(ctx, "/api/v1/lots/"+url.PathEscape(gtin)+"/"+url.PathEscape(lot)+"/units", q, &page); err != nil {
				return err
			}
			for _, s := range page.Items {
				if sees(u, c, s.Client) {
					r.Units = append(r.Units, s)
				}
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		for _, s := range r.Units {
			if s.Shipment == "" {
				continue
			}
			if _, ok := r.ShipTo[s.Shipment]; ok {
				continue
			}
			var sh master.Shipment
			err := c.get(ctx, "/api/v1/shipments/"+url.PathEscape(s.Shipment), nil, &sh)
			switch {
			case notFound(err):
				r.ShipTo[s.Shipment] = ""
			case err != nil:
				return err
			default:
				r.ShipTo[s.Shipment] = sh.Destination
			}
		}
		a.Found = len(r.Units) > 0
		mu.Lock()
		ans[c.site.ID] = r
		mu.Unlock()
		return nil
	})
	out := make([]recallSite, len(base))
	for i, a := range base {
		r := ans[a.SiteID]
		if r == nil || a.Error != "" {
			r = &recallSite{}
		}
		r.siteAnswer = a
		r.tally()
		out[i] = *r
	}
	return out
}

func (r *recallSite) tally() {
	st := map[unit.Status]int{}
	ship := map[string]int{}
	cl := map[string]bool{}
	for _, s := range r.Units {
		st[s.Status]++
		cl[s.Client] = true
		if s.Holds != 0 || r.HeldFor[s.Client] {
			r.Held++
		}
		if s.Status == unit.StatusShipped {
			ship[r.ShipTo[s.Shipment]]++
		}
	}
	for s, n := range st {
		r.ByStatus = append(r.ByStatus, statusCount{s, n})
	}
	sort.Slice(r.ByStatus, func(i, j int) bool { return r.ByStatus[i].Status < r.ByStatus[j].Status })
	for to, n := range ship {
		r.Shipped = append(r.Shipped, shipToCount{to, n})
	}
	sort.Slice(r.Shipped, func(i, j int) bool { return r.Shipped[i].To < r.Shipped[j].To })
	for c := range cl {
		r.Clients = append(r.Clients, c)
	}
	sort.Strings(r.Clients)
}

func lotQuery(x *fiber.Ctx) (gtin, lot string, err error) {
	gtin, lot = strings.TrimSpace(x.Query("gtin", x.FormValue("gtin"))), strings.TrimSpace(x.Query("lot", x.FormValue("lot")))
	if gtin == "" && lot == "" {
		return "", "", nil
	}
	if len(gtin) != 14 || !digits(gtin) {
		return gtin, lot, fmt.Errorf("%w: a GTIN has 14 digits", ErrBadRequest)
	}
	if lot == "" || len(lot) > 20 {
		return gtin, lot, fmt.Errorf("%w: give the lot (1 to 20 characters)", ErrBadRequest)
	}
	return gtin, lot, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (o *Operator) recallPage(x *fiber.Ctx) error {
	gtin, lot, err := lotQuery(x)
	v := recallView{GTIN: gtin, Lot: lot}
	if err != nil {
		v.Error = strings.TrimPrefix(err.Error(), "operator: bad request: ")
		return o.render(x.Status(fiber.StatusBadRequest), "recall", "Recall", v)
	}
	if gtin == "" {
		return o.render(x, "recall", "Recall", v)
	}
	v.Sites = o.readLot(x.UserContext(), currentUser(x), gtin, lot)
	for _, s := range v.Sites {
		v.Total += len(s.Units)
		v.Held += s.Held
		for _, sh := range s.Shipped {
			v.Shipped += sh.N
		}
		if s.Error != "" {
			v.Down = append(v.Down, s.SiteName)
		}
	}
	if r := x.Query("results"); r != "" {
		_ = json.Unmarshal([]byte(r), &v.Results)
	}
	return o.render(x, "recall", "Recall", v)
}

// recallCSV is the network recall as one CSV: every affected unit of
// every site the user sees, with where it is or where it was shipped.
// A site that did not answer is a row saying so, never silently absent.
func (o *Operator) recallCSV(x *fiber.Ctx) error {
	gtin, lot, err := lotQuery(x)
	if err != nil {
		return err
	}
	if gtin == "" {
		return fmt.Errorf("%w: give the GTIN and lot", ErrBadRequest)
	}
	sites := o.readLot(x.UserContext(), currentUser(x), gtin, lot)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"site", "client", "gtin", "serial", "unit", "lot", "expiry", "status", "held", "location", "shipment", "ship_to", "note"})
	for _, s := range sites {
		if s.Error != "" {
			_ = w.Write([]string{s.SiteID, "", gtin, "", "", lot, "", "", "", "", "", "", "site did not answer: " + s.Error})
			continue
		}
		for _, u := range s.Units {
			_ = w.Write([]string{s.SiteID, u.Client, u.Key.GTIN(), u.Key.Serial(), u.Key.String(), u.Lot, u.Expiry,
				u.Status.String(), heldText(u.Holds, s.HeldFor[u.Client]), u.Location, u.Shipment, s.ShipTo[u.Shipment], ""})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	x.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	x.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="recall-%s-%s.csv"`, gtin, safeFile(lot)))
	x.Set(fiber.HeaderCacheControl, "no-store")
	return x.Send(b.Bytes())
}

// heldText is a unit's holds in the CSV: its own, and "lot" when a lot
// or product hold covers it.
func heldText(h event.Holds, lot bool) string {
	var parts []string
	if h != 0 {
		parts = append(parts, strings.ReplaceAll(h.String(), ",", " "))
	}
	if lot {
		parts = append(parts, "lot")
	}
	return strings.Join(parts, " ")
}

func safeFile(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// recallHold places a recall hold on the lot at every site the user
// sees that holds units of it, for each client the units belong to,
// through each site's API (a lead's action; the site decides and keeps
// the hold, the operator only asks).
func (o *Operator) recallHold(x *fiber.Ctx) error {
	u := currentUser(x)
	if u.Role != RoleLead {
		return fmt.Errorf("%w: placing recall holds is for leads", ErrForbidden)
	}
	gtin, lot, err := lotQuery(x)
	if err != nil {
		return err
	}
	if gtin == "" {
		return fmt.Errorf("%w: give the GTIN and lot", ErrBadRequest)
	}
	note := strings.TrimSpace(x.FormValue("note"))
	if len(note) > 500 {
		return fmt.Errorf("%w: the note is over 500 characters", ErrBadRequest)
	}
	if note == "" {
		note = "network recall by " + u.ID + " at the operator"
	}
	var results []holdResult
	for _, s := range o.readLot(x.UserContext(), u, gtin, lot) {
		if s.Error != "" {
			results = append(results, holdResult{Site: s.SiteName, Outcome: "not reached: " + s.Error})
			continue
		}
		c := o.bySite[s.SiteID]
		for _, cl := range s.Clients {
			r := holdResult{Site: s.SiteName, Client: cl}
			id, err := o.holdAt(x.UserContext(), c, cl, gtin, lot, note)
			r.OK, r.Outcome = err == nil, "held ("+id+")"
			if err != nil {
				r.Outcome = err.Error()
				if forbidden(err) {
					r.Outcome = "the site refused: the operator's user there is not a lead (" + err.Error() + ")"
				}
			}
			results = append(results, r)
		}
	}
	o.log.Info("operator: network recall hold", "user", u.ID, "gtin", gtin, "lot", lot, "sites", len(results), "at", o.cfg.Now().UTC().Format(time.RFC3339))
	rj, _ := json.Marshal(results)
	return x.Redirect("/recall?"+url.Values{"gtin": {gtin}, "lot": {lot}, "results": {string(rj)}}.Encode(), fiber.StatusSeeOther)
}

// holdAt opens the lot's recall at one site for one client, which holds
// the lot there (POST /api/v1/recalls); a site without recall records
// gets a lot hold with reason recall instead (POST /api/v1/holds).
func (o *Operator) holdAt(ctx context.Context, c *siteClient, client, gtin, lot, note string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	var res struct {
		ID string `json:"id"`
	}
	body, _ := json.Marshal(map[string]string{"client": client, "gtin": gtin, "lot": lot, "note": note})
	err := c.do(ctx, http.MethodPost, "/api/v1/recalls", bytes.NewReader(body), &res)
	if !notFound(err) {
		return res.ID, err
	}
	body, _ = json.Marshal(map[string]string{"client": client, "scope": "lot", "gtin": gtin, "lot": lot, "reason": "recall", "note": note})
	err = c.do(ctx, http.MethodPost, "/api/v1/holds", bytes.NewReader(body), &res)
	return res.ID, err
}
