package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// How much of a node an EPCIS document may take (importASNFromEPCIS):
// the body limit's bytes, at most epcisMaxEvents events, one XML element
// or JSON value per epcisBytesPerNode bytes of the body limit (a real
// DSCSA document has one per 50 or more; the decoder holds each in
// memory), and epcisDecodeTime to decode and validate it all.
const (
	epcisMaxEvents    = 100_000
	epcisBytesPerNode = 16
	epcisDecodeTime   = 4 * time.Second
)

// epcisLimits are the decoder's bounds for a document sent to this node.
func (s *Server) epcisLimits() epcis.Limits {
	return epcis.Limits{
		MaxBytes:    s.cfg.BodyLimit,
		MaxEvents:   epcisMaxEvents,
		MaxNodes:    max(s.cfg.BodyLimit/epcisBytesPerNode, 1024),
		MaxProblems: epcis.DefaultMaxProblems,
	}
}

// importASNFromEPCIS reads a supplier's EPCIS document (2.0 JSON-LD or
// 1.2 XML, told apart by content) into an ASN: ?client= names the client
// (required), ?id= the ASN id (default: the shipping event's despatch
// advice or purchase order).
//
// The client grant is checked before the document is looked at, and
// the decoder works within epcisLimits: a document over them is
// refused with 413 as soon as the decoder meets the bound, one that
// breaks the rules with 400 and its first problems (documentError).
func (s *Server) importASNFromEPCIS(c *fiber.Ctx) error {
	client := c.Query("client")
	if client == "" {
		return badField("client", "required: the client the shipment is for")
	}
	if !sees(c)(client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, client)
	}
	body := c.Body()
	if len(body) == 0 {
		return badField("body", "empty: want an EPCIS document")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), epcisDecodeTime)
	defer cancel()
	doc, _, err := s.epcisLimits().Decode(ctx, body)
	var ve *epcis.ValidationError
	switch {
	case errors.Is(err, epcis.ErrTooLarge):
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "body: "+err.Error())
	case errors.As(err, &ve):
		return &documentError{ve}
	case err != nil:
		return badField("body", "%v", err)
	}
	a, err := compliance.ASNFromEPCIS(doc, client, c.Query("id"))
	if err != nil {
		return badField("body", "%v", err)
	}
	return s.proposeASN(c, a)
}

// documentError is an EPCIS document that breaks the rules. The
// response names the count and lists the first problems (at most
// epcis.DefaultMaxProblems), so its size is bounded whatever the
// document.
type documentError struct{ ve *epcis.ValidationError }

func (e *documentError) Error() string {
	return fmt.Sprintf("body: the EPCIS document breaks the rules in %d places (the first %d in problems)",
		e.ve.Total, len(e.ve.Problems))
}

func (e *documentError) Unwrap() error { return ErrBadInput }

// problemWire is one problem of a document in an error response.
type problemWire struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// shipmentEPCIS answers the outbound EPCIS document of a shipment:
// ?format=jsonld (default, EPCIS 2.0) or xml (EPCIS 1.2).
func (s *Server) shipmentEPCIS(c *fiber.Ctx) error {
	format := epcis.FormatJSONLD
	if f := c.Query("format"); f != "" {
		var err error
		if format, err = epcis.ParseFormat(f); err != nil {
			return badField("format", "want jsonld or xml")
		}
	}
	var in compliance.ShipmentInput
	err := s.read(c, func(r *state.Reader) error {
		sh, err := r.Shipment(param(c, "id"))
		if err != nil {
			return err
		}
		if !sees(c)(sh.Client) {
			return ErrNotFound
		}
		site, err := r.Site()
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		in = compliance.ShipmentInput{Shipment: sh, Site: site, At: time.Now(), SSCCPrefixLen: len(site.SSCCPrefix),
			Packed: map[event.Key]time.Time{}}
		if in.Owner, err = r.Client(sh.Client); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		in.Products = map[string]master.Product{}
		prefix := map[string]int{}
		in.PrefixLen = func(g string) int { return prefix[g] }
		dest, err := destinationID(r, sh.Destination)
		if err != nil {
			return err
		}
		in.Shipment.Destination = dest
		// Only the shipment's client's units go into its document,
		// whatever the record or the aggregation says.
		var walk func(k event.Key, depth int) (bool, error)
		walk = func(k event.Key, depth int) (bool, error) {
			u, err := r.Unit(k)
			if err != nil {
				return false, err
			}
			if !u.Known() {
				return false, nil
			}
			if u.Client != sh.Client {
				// One document speaks for one owner (the seller).
				return false, badField("containers", "shipment %s mixes owners: %s is not a unit of client %q", sh.ID, k, sh.Client)
			}
			in.Units = append(in.Units, u)
			if g := k.GTIN(); g != "" {
				if _, ok := prefix[g]; !ok {
					p, err := r.Product(g)
					if err == nil {
						prefix[g], in.Products[g] = p.CompanyPrefixLen, p
					} else if !errors.Is(err, state.ErrNotFound) {
						return false, err
					}
				}
			}
			if depth >= 8 {
				return true, nil
			}
			kids, err := r.Children(k)
			if err != nil {
				return false, err
			}
			if len(kids) > 0 || depth == 0 {
				if err := eventTimes(r, k, sh.ID, depth == 0, &in); err != nil {
					return false, err
				}
			}
			for _, ch := range kids {
				if _, err := walk(ch, depth+1); err != nil {
					return false, err
				}
			}
			return true, nil
		}
		in.Shipment.Containers = nil
		for _, k := range sh.Containers {
			ok, err := walk(k, 0)
			if err != nil {
				return err
			}
			if ok {
				in.Shipment.Containers = append(in.Shipment.Containers, k)
			}
		}
		return nil
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	if len(in.Shipment.Containers) == 0 {
		return badField("containers", "shipment %s has no containers yet", in.Shipment.ID)
	}
	b, err := epcis.Encode(compliance.ShipmentDocument(in), format)
	if err != nil {
		return fmt.Errorf("encode EPCIS: %w", err)
	}
	ct := "application/ld+json"
	if format == epcis.FormatXML12 {
		ct = "application/xml"
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(b)
}

// eventTimes reads from k's history when it was last packed and, for a
// container of shipment id, when it last left on it.
func eventTimes(r *state.Reader, k event.Key, id string, shipped bool, in *compliance.ShipmentInput) error {
	hist, err := r.History(k, 0)
	if err != nil {
		return err
	}
	for i := range hist {
		ev := &hist[i].Event
		if res := hist[i].Result; res == nil || slices.ContainsFunc(res.Subjects, func(s unit.SubjectResult) bool {
			return s.Key == k && s.Verdict == unit.VerdictRefused
		}) {
			continue // it did not happen to k
		}
		at := ev.HLC.Time()
		switch {
		case ev.Kind == event.KindPack && ev.Ctx.Parent == k:
			in.Packed[k] = at
		case shipped && ev.Kind == event.KindShip && ev.Ctx.Shipment == id && at.After(in.Shipped):
			in.Shipped = at
		}
	}
	return nil
}

// destinationID is how the outbound document names a shipment's
// destination: a GLN or URI as given, a partner id as the partner's GLN.
// Anything else is the caller's input to fix, not a server failure.
func destinationID(r *state.Reader, d string) (string, error) {
	if compliance.CheckDestination(d) == nil {
		return d, nil
	}
	p, err := r.Partner(d)
	if errors.Is(err, state.ErrNotFound) {
		return "", badField("destination", "%q is neither a 13-digit GLN, an absolute URI nor a partner id", d)
	}
	if err != nil {
		return "", err
	}
	if p.GLN == "" || compliance.CheckDestination(p.GLN) != nil {
		return "", badField("destination", "partner %s has no GLN to name it in an EPCIS document", d)
	}
	return p.GLN, nil
}
