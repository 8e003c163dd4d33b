package compliance

import (
	"sort"
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
	At            time.Time
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
	at := in.At.UTC().Truncate(time.Millisecond)
	doc := &epcis.Document{Type: epcis.TypeDocument, CreationDate: at}
	for _, p := range parents {
		cs := kids[p]
		sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
		e := epcis.Event{Type: epcis.AggregationEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionAdd,
			BizStep: "packing", Disposition: "in_progress", ReadPoint: loc, BizLocation: loc, ParentID: epc(p)}
		for _, c := range cs {
			e.ChildEPCs = append(e.ChildEPCs, epc(c))
		}
		doc.Events = append(doc.Events, e)
	}
	ship := epcis.Event{Type: epcis.ObjectEvent, EventTime: at, EventTimeZoneOffset: "+00:00", Action: epcis.ActionObserve,
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
		id := d
		if len(d) == 13 && digits(d) {
			id = "https://id.gs1.org/414/" + d
		}
		ship.Destinations = []epcis.SourceDest{{Type: "owning_party", ID: id}}
	}
	doc.Events = append(doc.Events, ship)
	return doc
}
