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
	"strings"
	"sync"

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
	format := epcis.FormatJSONLD
	if f := x.Query("format"); f != "" {
		if format, err = epcis.ParseFormat(f); err != nil {
			return fmt.Errorf("%w: format: want jsonld or xml", ErrBadRequest)
		}
	}
	var mu sync.Mutex // guards docs, written by each site's reader
	docs := make(map[string]*epcis.Document)
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
		doc, err := epcis.DecodeJSON(raw)
		if err != nil {
			return fmt.Errorf("%w: EPCIS: %v", ErrAnswer, err)
		}
		a.Found = true
		mu.Lock()
		docs[c.site.ID] = doc
		mu.Unlock()
		return nil
	})
	var down []string
	var out *epcis.Document
	var events []epcis.Event
	for _, a := range answers {
		if a.Error != "" {
			down = append(down, a.SiteName+" ("+a.Error+")")
			continue
		}
		if d := docs[a.SiteID]; d != nil {
			if out == nil {
				out = d
			}
			events = append(events, d.Events...)
		}
	}
	if len(down) > 0 {
		return fiber.NewError(fiber.StatusServiceUnavailable, "the answer would be incomplete: not answering: "+strings.Join(down, ", "))
	}
	if out == nil {
		return fmt.Errorf("%w: no site has a record of %s", ErrNotFound, p.Key)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].EventTime.Before(events[j].EventTime) })
	out.Events = events
	b, err := epcis.Encode(out, format)
	if err != nil {
		return err
	}
	ct, ext := "application/ld+json", "jsonld"
	if format == epcis.FormatXML12 {
		ct, ext = "application/xml", "xml"
	}
	x.Set(fiber.HeaderContentType, ct)
	x.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="records-%s.%s"`, safeFile(string(p.Key)), ext))
	x.Set(fiber.HeaderCacheControl, "no-store")
	return x.Send(b)
}
