package operator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/epcis"
)

// siteNotFound is the whole error text of a site's 404 for a record
// that does not exist or is not the user's (the site's API words them
// alike); any other 404 is a route the site does not have.
const siteNotFound = "not found"

// What a site's error answer to a period's EPCIS means.
const (
	periodFailed  = iota // the site did not answer: the document is not whole
	periodNotHere        // the client is not here, or not granted to the operator's user here
	periodNoRoute        // a site of a version without the route
	periodRefused        // the site refuses the period (too long, too many events)
)

func periodAnswer(ae *apiError) int {
	switch {
	case ae.Status == http.StatusNotFound && ae.Msg != siteNotFound:
		return periodNoRoute
	case ae.Status == http.StatusNotFound, ae.Status == http.StatusForbidden:
		return periodNotHere
	case ae.Status == http.StatusBadRequest, ae.Status == http.StatusRequestEntityTooLarge:
		return periodRefused
	}
	return periodFailed
}

// periodEPCIS answers a client's EPCIS events of a period across the
// network (?client=&from=&to=, times in RFC 3339 or a form's
// datetime-local read as UTC): every site that holds the client answers
// its events of the period (GET /api/v1/epcis/events), and they go out
// as one EPCIS document, in event time order, each event once (by
// eventID). A site that may hold the client and does not answer makes
// the answer incomplete, so none is given (503, naming the sites); a
// site that refuses the period (too long, too many events) is named
// with its reason.
func (o *Operator) periodEPCIS(x *fiber.Ctx) error {
	u := currentUser(x)
	client := strings.TrimSpace(x.Query("client"))
	if client == "" {
		return fmt.Errorf("%w: client: name the client", ErrBadRequest)
	}
	from, err := periodTime(x.Query("from"))
	if err != nil {
		return fmt.Errorf("%w: from: %v", ErrBadRequest, err)
	}
	to, err := periodTime(x.Query("to"))
	if err != nil {
		return fmt.Errorf("%w: to: %v", ErrBadRequest, err)
	}
	if !to.After(from) {
		return fmt.Errorf("%w: to: must be after from", ErrBadRequest)
	}
	format, err := formatOf(x)
	if err != nil {
		return err
	}
	if !u.Sees(client) {
		return fmt.Errorf("%w: client %s", ErrNotFound, client)
	}
	q := url.Values{"client": {client}, "from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}, "format": {"jsonld"}}
	var docs siteDocs
	var mu sync.Mutex // guards refused, written by each site's reader
	var refused []string
	answers := o.eachSiteWithin(x.UserContext(), u, 3*o.cfg.Timeout, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
		if !sees(u, c, client) {
			return nil
		}
		var raw []byte
		err := c.get(ctx, "/api/v1/epcis/events", q, &raw)
		var ae *apiError
		if errors.As(err, &ae) {
			switch periodAnswer(ae) {
			case periodNoRoute:
				// Leaving the site out would pass for a whole document.
				mu.Lock()
				refused = append(refused, o.siteName(c.site.ID)+": it does not answer a period's EPCIS (a version without it)")
				mu.Unlock()
				return nil
			case periodNotHere:
				return nil
			case periodRefused:
				mu.Lock()
				refused = append(refused, o.siteName(c.site.ID)+": "+ae.Msg)
				mu.Unlock()
				return nil
			}
		}
		if err != nil {
			return err
		}
		return docs.add(c.site.ID, a, raw)
	})
	if err := incomplete(answers); err != nil {
		return err
	}
	var held int
	var events []epcis.Event
	seen := map[string]bool{}
	for _, a := range answers {
		d := docs.get(a.SiteID)
		if d == nil {
			continue
		}
		held++
		for _, e := range d.Events {
			if e.EventID != "" && seen[e.EventID] {
				continue
			}
			seen[e.EventID] = true
			events = append(events, e)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		return fmt.Errorf("%w: refused: %s", ErrBadRequest, strings.Join(refused, "; "))
	}
	if held == 0 {
		return fmt.Errorf("%w: no site holds client %s", ErrNotFound, client)
	}
	sort.SliceStable(events, func(i, j int) bool {
		a, b := events[i], events[j]
		if !a.EventTime.Equal(b.EventTime) {
			return a.EventTime.Before(b.EventTime)
		}
		return a.EventID < b.EventID
	})
	out := &epcis.Document{Type: epcis.TypeDocument, SchemaVersion: "2.0", CreationDate: o.cfg.Now().UTC(), Events: events}
	return sendDocument(x, out, format, fmt.Sprintf("epcis-%s-%s-%s", safeFile(client),
		from.UTC().Format("20060102T1504Z"), to.UTC().Format("20060102T1504Z")))
}

// periodTime reads a time of the period form: RFC 3339, or a
// datetime-local field's value (minutes or seconds, no zone), read as UTC.
func periodTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("required")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want 2026-01-31T08:00 in UTC, or RFC 3339)", s)
}
