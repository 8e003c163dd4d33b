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
	AsOf                                            time.Time
	JSONLD, XML                                     string // the shipment's EPCIS at its site's console
}

type exportsView struct {
	Client  string
	Clients []string
	Rows    []exportRow
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
				Destination: sh.Destination, Departed: sh.Departed, Up: snap.Up, AsOf: snap.Contact, JSONLD: base, XML: base + "?format=xml"})
		}
	}
	for c := range clients {
		v.Clients = append(v.Clients, c)
	}
	sort.Strings(v.Clients)
	sort.SliceStable(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		return a.SiteID+"/"+a.Shipment < b.SiteID+"/"+b.Shipment
	})
	return o.render(x, "exports", "Exports", v)
}
