package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/epcismap"
	"github.com/custodyhq/custody/shared/event"
)

// The bounds of a period's EPCIS (epcisEvents).
const (
	// periodMaxWindow is the longest period one request covers.
	periodMaxWindow = 31 * 24 * time.Hour
	// periodMaxEvents is how many events of the client one answer holds
	// (?limit= lowers it).
	periodMaxEvents = 20_000
)

// epcisEvents answers a client's EPCIS events of a period:
// ?client=C&from=T&to=T (RFC 3339; from included, to not; at most
// periodMaxWindow apart), as one EPCIS document (?format=jsonld, the
// default, or xml), in event time order. The period is matched on each
// event's time (its HLC, the eventTime of its EPCIS form); events the
// site rejected and kinds without an EPCIS form are left out.
//
// The events come from the state's index of each client's events by
// time (state.Reader.ClientEvents): the period's own events, of this
// client only, whatever else the site holds. An answer over
// periodMaxEvents events (or ?limit=, for a caller that takes fewer) is
// refused with 413 naming the field to narrow. There is no paging: a
// device back from an offline shift adds events of past times, so pages
// of one period read at different times could miss some; one request
// answers one view of the site.
func (s *Server) epcisEvents(c *fiber.Ctx) error {
	format := epcis.FormatJSONLD
	if f := c.Query("format"); f != "" {
		var err error
		if format, err = epcis.ParseFormat(f); err != nil {
			return badField("format", "want jsonld or xml")
		}
	}
	client := c.Query("client")
	if client == "" {
		return badField("client", "required: the client whose events to answer")
	}
	from, err := periodTime(c, "from")
	if err != nil {
		return err
	}
	to, err := periodTime(c, "to")
	if err != nil {
		return err
	}
	switch {
	case !to.After(from):
		return badField("to", "must be after from")
	case to.Sub(from) > periodMaxWindow:
		return badField("to", "at most %d days after from", periodMaxWindow/(24*time.Hour))
	}
	limit := periodMaxEvents
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > periodMaxEvents {
			return badField("limit", "want 1 to %d events", periodMaxEvents)
		}
		limit = n
	}
	if !sees(c)(client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, client)
	}
	ctx := c.UserContext()
	var doc *epcis.Document
	err = s.read(c, func(r *state.Reader) error {
		if _, err := r.Client(client); err != nil {
			return err
		}
		var recs []state.Record
		scanned := 0
		err := r.ClientEvents(client, from, to, func(rec state.Record) (bool, error) {
			if scanned++; scanned%4096 == 0 && ctx.Err() != nil {
				return false, ctx.Err()
			}
			if rec.Result == nil || rec.Event.EPCIS().Type == "" {
				return true, nil // rejected, or no EPCIS form: not in the document, not counted
			}
			if len(recs) == limit {
				return false, tooLarge("to", "client %s has more than %d events in this period: ask for a shorter one", client, limit)
			}
			recs = append(recs, rec)
			return true, nil
		})
		if err != nil {
			return err
		}
		doc, err = periodDocument(r, recs)
		return err
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	return sendEPCIS(c, doc, format)
}

// periodTime reads an RFC 3339 time from the query.
func periodTime(c *fiber.Ctx, field string) (time.Time, error) {
	v := c.Query(field)
	if v == "" {
		return time.Time{}, badField(field, "required: an RFC 3339 time, e.g. 2026-01-31T00:00:00Z")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badField(field, "not an RFC 3339 time (e.g. 2026-01-31T00:00:00Z): %q", v)
	}
	return t, nil
}

// tooLarge is a request whose answer would pass a bound: 413, naming
// the field to narrow.
func tooLarge(field, format string, a ...any) error {
	return fmt.Errorf("%w%w", fiber.NewError(fiber.StatusRequestEntityTooLarge, ""), badField(field, format, a...))
}

// periodDocument renders a period's events as one EPCIS document, in
// event time order (then id), created at the latest event's time (now
// when there is none).
func periodDocument(r *state.Reader, recs []state.Record) (*epcis.Document, error) {
	slices.SortFunc(recs, func(a, b state.Record) int {
		if a.Event.HLC != b.Event.HLC {
			return cmpU64(uint64(a.Event.HLC), uint64(b.Event.HLC))
		}
		return strings.Compare(a.Event.ID.String(), b.Event.ID.String())
	})
	o, err := mapOptions(r)
	if err != nil {
		return nil, err
	}
	evs := make([]event.Event, len(recs))
	var created time.Time
	for i := range recs {
		evs[i] = recs[i].Event
		created = evs[i].HLC.Time()
	}
	if created.IsZero() {
		created = time.Now()
	}
	return epcismap.Document(evs, o, created)
}
