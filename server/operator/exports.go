package operator

import (
	"net/url"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
)

type exportRow struct {
	SiteID, SiteName, Client, Shipment, Destination string
	Departed, Up                                    bool
	Containers                                      int
	AsOf                                            time.Time
	JSONLD, XML                                     string // the shipment's EPCIS at its site's console
}

type exportsView struct {
	Client  string
	Clients []string
	Rows    []exportRow
	// Period: the clients the period form offers (those of the
	// shipments and those granted at any site) and a default period,
	// the last 24 hours to the minute (UTC, for datetime-local fields).
	PeriodClients []string
	From, To      string
}

// exportsPage lists the shipments of the user's clients across sites,
// each with its EPCIS document at its site (the site builds it; the
// operator links to it), filtered by client.
func (o *Operator) exportsPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := exportsView{Client: x.Query("client")}
	clients := map[string]bool{}
	for _, snap := range o.poller.snapshots() {
		c := o.bySite[snap.Site]
		if c == nil || !visible(u, c) {
			continue
		}
		for _, sh := range snap.Shipments {
			if !sees(u, c, sh.Client) {
				continue
			}
			clients[sh.Client] = true
			if v.Client != "" && sh.Client != v.Client {
				continue
			}
			base := c.consoleURL() + "/outbound/" + url.PathEscape(sh.ID) + "/epcis"
			v.Rows = append(v.Rows, exportRow{SiteID: snap.Site, SiteName: o.siteName(snap.Site), Client: sh.Client, Shipment: sh.ID,
				Destination: sh.Destination, Departed: sh.Departed, Containers: sh.Containers, Up: snap.Up, AsOf: snap.Contact, JSONLD: base, XML: base + "?format=xml"})
		}
	}
	for c := range clients {
		v.Clients = append(v.Clients, c)
	}
	sort.Strings(v.Clients)
	for _, c := range o.sites {
		for _, cl := range c.site.Clients {
			if cl != "*" && u.Sees(cl) {
				clients[cl] = true
			}
		}
	}
	for c := range clients {
		v.PeriodClients = append(v.PeriodClients, c)
	}
	sort.Strings(v.PeriodClients)
	now := o.cfg.Now().UTC().Truncate(time.Minute)
	v.From, v.To = now.Add(-24*time.Hour).Format("2006-01-02T15:04"), now.Add(time.Minute).Format("2006-01-02T15:04")
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		return a.SiteID+"/"+a.Shipment < b.SiteID+"/"+b.Shipment
	})
	return o.render(x, "exports", "Exports", v)
}
