package compliance

import (
	"fmt"
	"sort"
	"strings"

	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// ASNFromEPCIS turns a supplier's EPCIS document — the shipping event,
// the aggregations (packing) that say what is inside each container, and
// the commissioning events whose ILMD carries lot and expiry — into an
// ASN for client. The ASN id is id when given, else the shipping event's
// despatch advice (desadv) or purchase order business transaction.
func ASNFromEPCIS(doc *epcis.Document, client, id string) (master.ASN, error) {
	type info struct{ lot, expiry string }
	lots := map[event.Key]info{}
	children := map[event.Key][]event.Key{}
	var shipped []event.Key
	var shipping *epcis.Event
	supplier := ""
	for i := range doc.Events {
		e := &doc.Events[i]
		switch {
		case e.Type == epcis.ObjectEvent && len(e.ILMD) > 0:
			var in info
			if f, ok := epcis.LookupField(e.ILMD, epcis.NSCBVMDA, "lotNumber"); ok {
				in.lot = f.Value.Text
			}
			if f, ok := epcis.LookupField(e.ILMD, epcis.NSCBVMDA, "itemExpirationDate"); ok {
				in.expiry = yymmdd(f.Value.Text)
			}
			for _, epc := range e.EPCList {
				k, err := KeyFromEPC(epc)
				if err != nil {
					return master.ASN{}, fmt.Errorf("%w: event %d: %v", ErrDocument, i, err)
				}
				lots[k] = in
			}
		case e.Type == epcis.AggregationEvent && e.Action == epcis.ActionAdd:
			p, err := KeyFromEPC(e.ParentID)
			if err != nil {
				return master.ASN{}, fmt.Errorf("%w: event %d parent: %v", ErrDocument, i, err)
			}
			for _, epc := range e.ChildEPCs {
				k, err := KeyFromEPC(epc)
				if err != nil {
					return master.ASN{}, fmt.Errorf("%w: event %d child: %v", ErrDocument, i, err)
				}
				children[p] = append(children[p], k)
			}
		}
		if e.Type == epcis.ObjectEvent && e.BizStep == "shipping" {
			shipping = e
			for _, epc := range e.EPCList {
				k, err := KeyFromEPC(epc)
				if err != nil {
					return master.ASN{}, fmt.Errorf("%w: shipping event: %v", ErrDocument, err)
				}
				shipped = append(shipped, k)
			}
			for _, s := range e.Sources {
				if supplier == "" || s.Type == "owning_party" {
					supplier = s.ID
				}
			}
		}
	}
	if shipping == nil {
		return master.ASN{}, ErrNoShipment
	}
	if id == "" {
		for _, want := range []string{"desadv", "po", ""} {
			for _, bt := range shipping.BizTransactions {
				if id == "" && (bt.Type == want || want == "") {
					id = lastSegment(bt.Value)
				}
			}
		}
	}
	if id == "" {
		return master.ASN{}, fmt.Errorf("%w: the shipping event names no business transaction: give the ASN an id", ErrDocument)
	}
	a := master.ASN{ID: id, Client: client, Supplier: supplier}
	seen := map[event.Key]bool{}
	var add func(k, parent event.Key, depth int) error
	add = func(k, parent event.Key, depth int) error {
		if seen[k] {
			return nil
		}
		if depth > 8 {
			return fmt.Errorf("%w: containers nested deeper than 8", ErrDocument)
		}
		seen[k] = true
		in := lots[k]
		a.Items = append(a.Items, master.ASNItem{Key: k, Parent: parent, Lot: in.lot, Expiry: in.expiry})
		kids := children[k]
		sort.Slice(kids, func(i, j int) bool { return kids[i] < kids[j] })
		for _, c := range kids {
			if err := add(c, k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range shipped {
		if err := add(k, "", 0); err != nil {
			return master.ASN{}, err
		}
	}
	if len(a.Items) == 0 {
		return master.ASN{}, fmt.Errorf("%w: the shipping event lists no serialised items", ErrDocument)
	}
	return a, a.Validate()
}

// yymmdd turns an ISO date (2028-03-27) into the GS1 form (280327).
func yymmdd(iso string) string {
	if len(iso) == 10 && iso[4] == '-' && iso[7] == '-' {
		return iso[2:4] + iso[5:7] + iso[8:10]
	}
	return ""
}

func lastSegment(v string) string {
	if i := strings.LastIndexByte(v, ':'); i >= 0 && i+1 < len(v) {
		return v[i+1:]
	}
	return v
}
