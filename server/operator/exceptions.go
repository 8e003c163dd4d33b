package operator

import (
	"net/url"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/unit"
)

// queueLimit bounds the rows of one exception page.
const queueLimit = 500

type queueRow struct {
	unit.Exception
	SiteID, SiteName, Link string
	Up                     bool
	AsOf                   time.Time
}

type exceptionsView struct {
	Site, Client, Rule, Severity, Status string
	Sites                                []siteOption
	Clients, Rules                       []string
	Rows                                 []queueRow
	Total                                int
	Down                                 []string
}

type siteOption struct{ ID, Name string }

// exceptionsPage is one queue of the open and acknowledged exceptions
// of every site the user sees, newest first, from the last reads.
func (o *Operator) exceptionsPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := exceptionsView{Site: x.Query("site"), Client: x.Query("client"), Rule: x.Query("rule"),
		Severity: x.Query("severity"), Status: x.Query("status", "open")}
	clients, rules := map[string]bool{}, map[string]bool{}
	for _, snap := range o.poller.snapshots() {
		c := o.bySite[snap.Site]
		if c == nil || !visible(u, c) {
			continue
		}
		v.Sites = append(v.Sites, siteOption{ID: snap.Site, Name: o.siteName(snap.Site)})
		if v.Site != "" && v.Site != snap.Site {
			continue
		}
		if !snap.Up {
			v.Down = append(v.Down, o.siteName(snap.Site))
		}
		for _, e := range snap.Exceptions {
			if !sees(u, c, e.Client) {
				continue
			}
			clients[e.Client], rules[string(e.Rule)] = true, true
			switch {
			case v.Client != "" && e.Client != v.Client,
				v.Rule != "" && string(e.Rule) != v.Rule,
				v.Severity != "" && e.Severity.String() != v.Severity,
				v.Status != "all" && e.Status.String() != v.Status:
				continue
			}
			v.Rows = append(v.Rows, queueRow{Exception: e, SiteID: snap.Site, SiteName: o.siteName(snap.Site),
				Link: c.consoleURL() + "/exceptions/" + url.PathEscape(e.ID), Up: snap.Up, AsOf: snap.Contact})
		}
	}
	for c := range clients {
		v.Clients = append(v.Clients, c)
	}
	for r := range rules {
		v.Rules = append(v.Rules, r)
	}
	sort.Strings(v.Clients)
	sort.Strings(v.Rules)
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Opened != b.Opened {
			return a.Opened > b.Opened
		}
		return a.SiteID+a.ID < b.SiteID+b.ID
	})
	v.Total = len(v.Rows)
	if len(v.Rows) > queueLimit {
		v.Rows = v.Rows[:queueLimit]
	}
	return o.render(x, "exceptions", "Exceptions", v)
}
