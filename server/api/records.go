package api

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/epcismap"
	"github.com/custodyhq/custody/shared/event"
)

// maxRecordsRequest bounds the serials one records request names.
const maxRecordsRequest = 10000

// recordsRequest answers a regulator's or partner's request about
// serials ({"serials": [keys]}): the whole history of each, and of the
// containers they were in, as one EPCIS document (?format=jsonld, the
// default, or xml), every event once, in the order the site applied
// them. Serials the site has no record of (or of a client not granted)
// are refused by name: an answer covers every serial asked about.
func (s *Server) recordsRequest(c *fiber.Ctx) error {
	format := epcis.FormatJSONLD
	if f := c.Query("format"); f != "" {
		var err error
		if format, err = epcis.ParseFormat(f); err != nil {
			return badField("format", "want jsonld or xml")
		}
	}
	var body struct {
		Serials []event.Key `json:"serials"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if len(body.Serials) == 0 || len(body.Serials) > maxRecordsRequest {
		return badField("serials", "want 1 to %d keys", maxRecordsRequest)
	}
	for i, k := range body.Serials {
		if err := k.Validate(); err != nil {
			return badField(fmt.Sprintf("serials[%d]", i), "%v", err)
		}
	}
	see := sees(c)
	var doc *epcis.Document
	err := s.read(c, func(r *state.Reader) error {
		var err error
		doc, err = recordsDocument(r, body.Serials, see)
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

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// recordsDocument is the answer to a records request: the histories of
// serials (every one a unit see grants) as one EPCIS document, every
// event once, in log order.
func recordsDocument(r *state.Reader, serials []event.Key, see func(string) bool) (*epcis.Document, error) {
	var unknown []string
	seen := map[event.ID]bool{}
	var recs []state.Record
	for _, k := range serials {
		u, err := r.Unit(k)
		if err != nil {
			return nil, err
		}
		if !u.Known() || !see(u.Client) {
			unknown = append(unknown, string(k))
			continue
		}
		hist, err := r.History(k, 0)
		if err != nil {
			return nil, err
		}
		for _, rec := range hist {
			if !seen[rec.Event.ID] && rec.Result != nil {
				seen[rec.Event.ID] = true
				recs = append(recs, rec)
			}
		}
	}
	if len(unknown) > 0 {
		return nil, badField("serials", "no record of %d of them: %s", len(unknown), strings.Join(unknown[:min(len(unknown), 10)], ", "))
	}
	slices.SortStableFunc(recs, func(a, b state.Record) int {
		switch {
		case a.Index != b.Index:
			return cmpU64(a.Index, b.Index)
		case a.Event.HLC != b.Event.HLC:
			return cmpU64(uint64(a.Event.HLC), uint64(b.Event.HLC))
		}
		return strings.Compare(a.Event.ID.String(), b.Event.ID.String())
	})
	o, err := mapOptions(r)
	if err != nil {
		return nil, err
	}
	evs := make([]event.Event, len(recs))
	created := time.Time{}
	for i := range recs {
		evs[i] = recs[i].Event
		if t := evs[i].HLC.Time(); t.After(created) {
			created = t
		}
	}
	return epcismap.Document(evs, o, created)
}

// mapOptions are how this site renders its events in EPCIS: its GLN,
// and each GTIN's company-prefix length from the product's record (the
// site's SSCC prefix for an SSCC), read once per GTIN.
func mapOptions(r *state.Reader) (epcismap.Options, error) {
	site, err := r.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return epcismap.Options{}, err
	}
	prefix := map[string]int{}
	return epcismap.Options{SiteGLN: site.GLN, PrefixLen: func(g string) int {
		if len(g) == 18 { // an SSCC
			return len(site.SSCCPrefix)
		}
		if n, ok := prefix[g]; ok {
			return n
		}
		p, err := r.Product(g)
		if err == nil {
			prefix[g] = p.CompanyPrefixLen
		}
		return prefix[g]
	}}, nil
}
