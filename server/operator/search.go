package operator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/scaninput"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// historyLimit bounds the history read per site for one unit.
const historyLimit = 100

// record is one entry of a unit's history as the site's API sends it.
type record struct {
	Event event.Event `json:"event"`
	Index uint64      `json:"index"`
}

// siteAnswer is one site's answer to a search.
type siteAnswer struct {
	SiteID, SiteName, Link string
	EPCIS                  string // the unit's history as EPCIS at the site's console
	Found                  bool
	Unit                   unit.State
	Inherited              string
	History                []record
	Units                  []unit.State // a product search
	More                   bool
	Error                  string // unreachable, or the site refused
}

type searchView struct {
	Query   string
	Error   string
	Key     event.Key
	GTIN    string
	Answers []siteAnswer
	Found   int
}

// eachSite runs f for every site the user sees, at once, each bounded
// by the read timeout; the answers keep the configuration's order.
func (o *Operator) eachSite(ctx context.Context, u *User, f func(ctx context.Context, c *siteClient, a *siteAnswer) error) []siteAnswer {
	return o.eachSiteWithin(ctx, u, o.cfg.Timeout, f)
}

// eachSiteWithin is eachSite with a bound of its own per site.
func (o *Operator) eachSiteWithin(ctx context.Context, u *User, within time.Duration, f func(ctx context.Context, c *siteClient, a *siteAnswer) error) []siteAnswer {
	var cs []*siteClient
	for _, c := range o.sites {
		if visible(u, c) {
			cs = append(cs, c)
		}
	}
	out := make([]siteAnswer, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		out[i] = siteAnswer{SiteID: c.site.ID, SiteName: o.siteName(c.site.ID), Link: c.consoleURL()}
		wg.Add(1)
		go func(c *siteClient, a *siteAnswer) {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, within)
			defer cancel()
			if err := f(rctx, c, a); err != nil {
				a.Found = false
				a.Error = siteError(err, rctx)
			}
		}(c, &out[i])
	}
	wg.Wait()
	return out
}

// siteError says for people why a site gave no answer.
func siteError(err error, ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "no answer in time (site down or slow)"
	}
	return readError(err)
}

func (o *Operator) searchPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := searchView{Query: x.Query("q")}
	if strings.TrimSpace(v.Query) == "" {
		return o.render(x, "search", "Search", v)
	}
	p, err := scaninput.Parse(v.Query)
	if err != nil {
		v.Error = strings.TrimPrefix(err.Error(), "scaninput: ")
		return o.render(x.Status(fiber.StatusBadRequest), "search", "Search", v)
	}
	if p.Key == "" && p.Lot != "" {
		return x.Redirect("/recall?"+url.Values{"gtin": {p.GTIN}, "lot": {p.Lot}}.Encode(), fiber.StatusSeeOther)
	}
	if p.Key != "" {
		v.Key = p.Key
		v.Answers = o.eachSite(x.UserContext(), u, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
			var uv struct {
				Unit      unit.State `json:"unit"`
				Inherited string     `json:"inheritedHolds"`
				History   []record   `json:"history"`
			}
			err := c.get(ctx, "/api/v1/units/"+url.PathEscape(string(p.Key)), url.Values{"history": {fmt.Sprint(historyLimit)}}, &uv)
			if notFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if !sees(u, c, uv.Unit.Client) {
				return nil // another client's: as if not there
			}
			a.Found, a.Unit, a.Inherited, a.History = true, uv.Unit, uv.Inherited, uv.History
			a.Link = c.consoleURL() + "/trace?q=" + url.QueryEscape(string(p.Key))
			a.EPCIS = c.consoleURL() + "/trace/epcis?q=" + url.QueryEscape(string(p.Key))
			return nil
		})
	} else {
		v.GTIN = p.GTIN
		v.Answers = o.eachSite(x.UserContext(), u, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
			var page struct {
				Items []unit.State `json:"items"`
				Next  string       `json:"next"`
			}
			if err := c.get(ctx, "/api/v1/units", url.Values{"gtin": {p.GTIN}, "limit": {"200"}}, &page); err != nil {
				return err
			}
			for _, s := range page.Items {
				if sees(u, c, s.Client) {
					a.Units = append(a.Units, s)
				}
			}
			a.Found, a.More = len(a.Units) > 0, page.Next != ""
			return nil
		})
	}
	for _, a := range v.Answers {
		if a.Found {
			v.Found++
		}
	}
	return o.render(x, "search", "Search", v)
}
