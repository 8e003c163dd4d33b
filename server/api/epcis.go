package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
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
		in, err = compliance.GatherShipment(r, sh, time.Now())
		if errors.Is(err, compliance.ErrShipment) {
			return badField("shipment", "%s", strings.TrimPrefix(err.Error(), "compliance: "))
		}
		return err
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	return sendEPCIS(c, compliance.ShipmentDocument(in), format)
}

// sendEPCIS answers an EPCIS document in the format asked for (JSON-LD
// or 1.2 XML).
func sendEPCIS(c *fiber.Ctx, doc *epcis.Document, format epcis.Format) error {
	b, err := epcis.Encode(doc, format)
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
