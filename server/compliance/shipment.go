package compliance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// ShipmentInput is what the outbound document of a shipment is made of.
type ShipmentInput struct {
	Shipment master.Shipment
	Site     master.Site
	// Units are the shipment's containers and everything inside them.
	Units []unit.State
	// PrefixLen gives a GTIN's company prefix length (0: unknown).
	PrefixLen func(gtin string) int
	// SSCCPrefixLen is the company prefix length of the site's SSCCs.
	SSCCPrefixLen int
	// Packed is when each container was packed (its last pack event),
	// Shipped when the shipment's containers left (its last ship event):
	// the document's events carry these times. At stands in for a time
	// not known, and is the document's creation date when no event time
	// is known; otherwise the creation date is the latest event time, so
	// the same shipment always answers the same document.
	Packed  map[event.Key]time.Time
	Shipped time.Time
	At      time.Time
	// Owner is the client whose stock the shipment is; with its SendsTI
	// the document carries the DSCSA transaction information and
	// statement on its behalf, with the master data of Products (by GTIN).
	Owner    master.Client
	Products map[string]master.Product
}

// ShipmentDocument is the outbound EPCIS document of a shipment: one
// packing aggregation per container with contents, then the shipping
// event for the containers, with the shipment as a despatch advice.
func ShipmentDocument(in ShipmentInput) *epcis.Document {
	epc := func(k event.Key) string {
		if k.IsSSCC() {
			return EPC(k, in.SSCCPrefixLen)
		}
		n := 0
		if in.PrefixLen != nil {
			n = in.PrefixLen(k.GTIN())
		}
		return EPC(k, n)
	}
	var loc *epcis.Location
	if in.Site.GLN != "" {
		loc = &epcis.Location{ID: "https://id.gs1.org/414/" + in.Site.GLN}
	}
	kids := map[event.Key][]event.Key{}
	for _, u := range in.Units {
		if u.Parent != "" {
			kids[u.Parent] = append(kids[u.Parent], u.Key)
		}
	}
	parents := make([]event.Key, 0, len(kids))
	for p := range kids {
		parents = append(parents, p)
	}
	sort.Slice(parents, func(i, j int) bool { return parents[i] < parents[j] })
	ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
	at, shipped := ms(in.At), ms(in.Shipped)
	if in.Shipped.IsZero() {
		shipped = at
	}
	created := time.Time{}
	if !in.Shipped.IsZero() {
		created = shipped
	}
	doc := &epcis.Document{Type: epcis.TypeDocument}
	for _, p := range parents {
		cs := kids[p]
		sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
		packed := shipped
		if t, ok := in.Packed[p]; ok && !t.IsZero() {
			packed = ms(t)
			if packed.After(created) {
				created = packed
			}
		}
		e := epcis.Event{Type: epcis.AggregationEvent, EventTime: packed, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd,
			BizStep: "packing", Disposition: "in_progress", ReadPoint: loc, BizLocation: loc, ParentID: epc(p)}
		for _, c := range cs {
			e.ChildEPCs = append(e.ChildEPCs, epc(c))
		}
		doc.Events = append(doc.Events, e)
	}
	if created.IsZero() {
		created = at
	}
	doc.CreationDate = created
	ship := epcis.Event{Type: epcis.ObjectEvent, EventTime: shipped, EventTimeZoneOffset: "+00:00", Action: epcis.ActionObserve,
		BizStep: "shipping", Disposition: "in_transit", ReadPoint: loc, BizLocation: loc,
		BizTransactions: []epcis.BizTransaction{{Type: "desadv", Value: "urn:epcglobal:cbv:bt:" + in.Site.GLN + ":" + in.Shipment.ID}}}
	containers := append([]event.Key(nil), in.Shipment.Containers...)
	sort.Slice(containers, func(i, j int) bool { return containers[i] < containers[j] })
	for _, c := range containers {
		ship.EPCList = append(ship.EPCList, epc(c))
	}
	if in.Site.GLN != "" {
		ship.Sources = []epcis.SourceDest{{Type: "owning_party", ID: "https://id.gs1.org/414/" + in.Site.GLN}}
	}
	if d := in.Shipment.Destination; d != "" {
		ship.Destinations = []epcis.SourceDest{{Type: "owning_party", ID: destinationID(d)}}
	}
	if in.Owner.SendsTI {
		addTransactionInfo(doc, in, &ship)
	}
	doc.Events = append(doc.Events, ship)
	return doc
}

// destinationID is the EPCIS id of a shipment destination: a GLN as its
// GS1 Digital Link, anything else as given.
func destinationID(d string) string {
	if len(d) == 13 && digits(d) {
		return "https://id.gs1.org/414/" + d
	}
	return d
}

// CheckDestination reports whether d can name a shipment's destination
// in the outbound document: a 13-digit GLN or an absolute URI (a scheme,
// a colon, and no spaces, controls or characters URIs exclude). An empty
// destination is allowed (the document then names none).
func CheckDestination(d string) error {
	if d == "" || (len(d) == 13 && digits(d)) {
		return nil
	}
	i := strings.IndexByte(d, ':')
	if i < 1 || i == len(d)-1 || !letter(d[0]) {
		return fmt.Errorf("%w: %q", ErrDestination, d)
	}
	for j := 1; j < i; j++ {
		if c := d[j]; !letter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("%w: %q", ErrDestination, d)
		}
	}
	for j := i + 1; j < len(d); j++ {
		if c := d[j]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			return fmt.Errorf("%w: %q", ErrDestination, d)
		}
	}
	return nil
}

func letter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
