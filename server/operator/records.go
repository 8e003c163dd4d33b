package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/scaninput"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/unit"
)

// recordsRequest answers a DSCSA records request for one serial across
// the network: each site that has a record of it answers its history as
// EPCIS (POST /api/v1/records-requests), and the events of all sites go
// out as one document in time order. A site that does not answer makes
// the answer incomplete, so none is given (503, naming the sites).
func (o *Operator) recordsRequest(x *fiber.Ctx) error {
	p, err := scaninput.Parse(x.Query("q"))
	if err != nil || p.Key == "" {
		return fmt.Errorf("%w: give one serial (or SSCC)", ErrBadRequest)
	}
	format, err := formatOf(x)
	if err != nil {
		return err
	}
	var docs siteDocs
	u := currentUser(x)
	answers := o.eachSiteWithin(x.UserContext(), u, 3*o.cfg.Timeout, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
		// The unit's client first: the site answers what its operator
		// user may see, the user may see less.
		var uv struct {
			Unit unit.State `json:"unit"`
		}
		err := c.get(ctx, "/api/v1/units/"+url.PathEscape(string(p.Key)), url.Values{"history": {"1"}}, &uv)
		if notFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !sees(u, c, uv.Unit.Client) {
			return nil
		}
		body, _ := json.Marshal(map[string]any{"serials": []string{string(p.Key)}})
		var raw []byte
		err = c.do(ctx, http.MethodPost, "/api/v1/records-requests?format=jsonld", bytes.NewReader(body), &raw)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return nil // no record of it here (or not of a granted client)
		}
		if err != nil {
			return err
		}
		return docs.add(c.site.ID, a, raw)
	})
	if err := incomplete(answers); err != nil {
		return err
	}
	var out *epcis.Document
	var events []epcis.Event
	for _, a := range answers {
		if d := docs.get(a.SiteID); d != nil {
			if out == nil {
				out = d
			}
			events = append(events, d.Events...)
		}
	}
	if out == nil {
		return fmt.Errorf("%w: no site has a record of %s", ErrNotFound, p.Key)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].EventTime.Before(events[j].EventTime) })
	out.Events = events
	return sendDocument(x, out, format, "records-"+safeFile(string(p.Key)))
}
