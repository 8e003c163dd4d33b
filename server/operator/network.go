package operator

import (
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/unit"
)

// bySeverity counts open exceptions.
type bySeverity struct{ High, Medium, Low int }

func (b *bySeverity) add(s unit.Severity) {
	switch s {
	case unit.SeverityHigh:
		b.High++
	case unit.SeverityMedium:
		b.Medium++
	default:
		b.Low++
	}
}

type siteRow struct {
	Snapshot
	Name, Console string
	Open          bySeverity
	Counts        Counts
	Stale         bool // the last good read is older than three polls
	// TodayKnown: the site's figures of today were read today (not from
	// a read of an earlier day, nor from a site without them).
	TodayKnown bool
}

type clientRow struct {
	Client string
	Sites  []string
	Down   []string
	Open   bySeverity
	Counts Counts
	// NotToday are the sites whose figures of today are not known.
	NotToday []string
}

type networkView struct {
	Sites   []siteRow
	Clients []clientRow
	Up      int
	Open    bySeverity
	Polled  time.Duration
	// Today is the operator's day ("Monday 7 December 2026") and Zone
	// its time zone.
	Today, Zone string
}

// visible reports whether user u sees anything of site c: some client
// the site grants the operator and the user is granted.
func visible(u *User, c *siteClient) bool {
	for _, cl := range c.site.Clients {
		if cl == "*" || u.Sees(cl) {
			return true
		}
	}
	return false
}

// sees reports whether user u sees client cl at site c.
func sees(u *User, c *siteClient, cl string) bool { return c.grants(cl) && u.Sees(cl) }

func (o *Operator) networkPage(x *fiber.Ctx) error {
	u := currentUser(x)
	now := o.cfg.Now()
	from, _ := o.day(now)
	today := from.Format(time.DateOnly)
	v := networkView{Polled: o.cfg.Poll, Today: from.Format("Monday 2 January 2006"), Zone: o.cfg.Location.String()}
	clients := map[string]*clientRow{}
	for _, snap := range o.poller.snapshots() {
		c := o.bySite[snap.Site]
		if c == nil || !visible(u, c) {
			continue
		}
		r := siteRow{Snapshot: snap, Name: o.siteName(snap.Site), Console: c.consoleURL(),
			Stale: !snap.Contact.IsZero() && now.Sub(snap.Contact) > 3*o.cfg.Poll+o.cfg.Timeout, TodayKnown: snap.Day == today}
		r.Exceptions = nil
		for cl, n := range snap.Clients {
			if !u.Sees(cl) {
				continue
			}
			r.Counts.ASNs += n.ASNs
			r.Counts.ASNsClosed += n.ASNsClosed
			r.Counts.Shipments += n.Shipments
			r.Counts.Loaded += n.Loaded
			r.Counts.Departed += n.Departed
			if r.TodayKnown {
				r.Counts.Today.add(n.Today)
			}
			row := clients[cl]
			if row == nil {
				row = &clientRow{Client: cl}
				clients[cl] = row
			}
			row.Sites = append(row.Sites, r.Name)
			if !snap.Up {
				row.Down = append(row.Down, r.Name)
			}
			row.Counts.ASNs += n.ASNs
			row.Counts.ASNsClosed += n.ASNsClosed
			row.Counts.Shipments += n.Shipments
			row.Counts.Loaded += n.Loaded
			row.Counts.Departed += n.Departed
			if r.TodayKnown {
				row.Counts.Today.add(n.Today)
			} else {
				row.NotToday = append(row.NotToday, r.Name)
			}
		}
		for _, e := range snap.Exceptions {
			if e.Status != unit.ExceptionOpen || !sees(u, c, e.Client) {
				continue
			}
			r.Open.add(e.Severity)
			v.Open.add(e.Severity)
			if row := clients[e.Client]; row != nil {
				row.Open.add(e.Severity)
			}
		}
		if snap.Up {
			v.Up++
		}
		v.Sites = append(v.Sites, r)
	}
	for _, r := range clients {
		sort.Strings(r.Sites)
		sort.Strings(r.NotToday)
		v.Clients = append(v.Clients, *r)
	}
	sort.Slice(v.Clients, func(i, j int) bool { return v.Clients[i].Client < v.Clients[j].Client })
	return o.render(x, "network", "Network", v)
}

func (o *Operator) refresh(x *fiber.Ctx) error {
	o.Refresh()
	return x.Redirect("/?done=reading+every+site+now", fiber.StatusSeeOther)
}

func (c *siteClient) consoleURL() string {
	if c.site.Console != "" {
		return c.site.Console
	}
	return c.base
}
