// Package epcismap tells Custody's events in EPCIS: it turns domain
// events into EPCIS 2.0 events and documents, for outbound shipment data
// (DSCSA transaction information) and compliance exports.
//
// Identifiers are stored as GTIN + serial and SSCC; they are rendered
// here, at the edge: as EPC URNs when the company-prefix length is known
// from master data, and as GS1 Digital Link URIs (which need no prefix
// length) when it is not.
package epcismap

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/ident"
)

// ErrRender reports an identifier that cannot be rendered.
var ErrRender = errors.New("epcismap: cannot render identifier")

// Options say how to render identifiers and places.
type Options struct {
	// PrefixLen returns the GS1 company-prefix length of a GTIN or SSCC
	// (6–12), or 0 when unknown. Nil means always unknown.
	PrefixLen func(gtinOrSSCC string) int
	// SiteGLN is the site's GLN, used for readPoint and bizLocation.
	SiteGLN string
	// DigitalLinkBase is the Digital Link domain ("" = https://id.gs1.org).
	DigitalLinkBase string
}

func (o *Options) prefixLen(s string) int {
	if o.PrefixLen == nil {
		return 0
	}
	return o.PrefixLen(s)
}

func (o *Options) base() string {
	if o.DigitalLinkBase == "" {
		return "https://id.gs1.org"
	}
	return o.DigitalLinkBase
}

// ID renders a subject key as an EPC URN or a Digital Link URI.
func (o *Options) ID(k event.Key) (string, error) {
	if err := k.Validate(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrRender, err)
	}
	if k.IsSSCC() {
		s := k.SSCCValue()
		if n := o.prefixLen(s); n != 0 {
			if v, err := ident.SSCCURI(ident.SSCC(s), n); err == nil {
				return v, nil
			}
		}
		return o.base() + "/00/" + s, nil
	}
	g, serial := k.GTIN(), k.Serial()
	if n := o.prefixLen(g); n != 0 {
		if v, err := ident.SGTINURI(ident.GTIN(g), serial, n); err == nil {
			return v, nil
		}
	}
	dl, err := gs1.Data{Elements: []gs1.Element{{AI: "01", Value: g}, {AI: "21", Value: serial}}}.DigitalLink(o.base())
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrRender, k, err)
	}
	return dl, nil
}

func (o *Options) place() *epcis.Location {
	if o.SiteGLN == "" {
		return nil
	}
	return &epcis.Location{ID: o.base() + "/414/" + o.SiteGLN}
}

// Event renders one domain event. ok is false for internal kinds that
// have no EPCIS counterpart (an ASN's announcement).
func Event(ev *event.Event, o Options) (out epcis.Event, ok bool, err error) {
	form := ev.EPCIS()
	if form.Type == "" {
		return epcis.Event{}, false, nil
	}
	ids := make([]string, 0, len(ev.Subjects))
	for _, s := range ev.Subjects {
		id, err := o.ID(s.Key)
		if err != nil {
			return epcis.Event{}, false, err
		}
		ids = append(ids, id)
	}
	out = epcis.Event{
		Type:                epcis.ParseEventType(form.Type),
		EventTime:           ev.HLC.Time(),
		EventTimeZoneOffset: "+00:00",
		EventID:             "urn:uuid:" + ev.ID.String(),
		Action:              form.Action,
		BizStep:             form.BizStep,
		Disposition:         form.Disposition,
		ReadPoint:           o.place(),
		BizLocation:         o.place(),
	}
	bt := func(typ, id string) {
		if id != "" {
			out.BizTransactions = append(out.BizTransactions, epcis.BizTransaction{Type: typ, Value: bizTransactionURI(o.SiteGLN, id)})
		}
	}
	bt("desadv", ev.Ctx.ASN)
	bt("po", ev.Ctx.Order)
	bt("bol", ev.Ctx.Shipment)
	if ev.Kind == event.KindShip && ev.Ctx.Destination != "" {
		dest := ev.Ctx.Destination
		if _, err := ident.ParseGLN(dest); err == nil {
			dest = o.base() + "/414/" + dest
		} else {
			dest = "urn:custody:party:" + url.PathEscape(dest)
		}
		out.Destinations = []epcis.SourceDest{{Type: "owning_party", ID: dest}}
	}
	if out.Type == epcis.AggregationEvent {
		parent := ""
		switch {
		case ev.Ctx.Parent != "":
			if parent, err = o.ID(ev.Ctx.Parent); err != nil {
				return epcis.Event{}, false, err
			}
			out.ChildEPCs = ids
		default:
			// A container observed by its label: it is the parent.
			parent, out.ChildEPCs = ids[0], ids[1:]
		}
		out.ParentID = parent
	} else {
		out.EPCList = ids
	}
	return out, true, nil
}

// Document renders events as an EPCIS 2.0 document, skipping internal
// kinds, and validates it.
func Document(evs []event.Event, o Options, created time.Time) (*epcis.Document, error) {
	doc := &epcis.Document{Type: epcis.TypeDocument, SchemaVersion: "2.0", CreationDate: created.UTC()}
	for i := range evs {
		e, ok, err := Event(&evs[i], o)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", evs[i].ID, err)
		}
		if ok {
			doc.Events = append(doc.Events, e)
		}
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return doc, nil
}

func bizTransactionURI(gln, id string) string {
	if gln == "" {
		return "urn:custody:bt:" + url.PathEscape(id)
	}
	return "urn:epcglobal:cbv:bt:" + gln + ":" + url.PathEscape(id)
}
