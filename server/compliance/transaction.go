package compliance

import (
	"fmt"
	"sort"
	"strings"

	"github.com/custodyhq/custody/shared/epcis"
)

// GS1 US DSCSA implementation guideline: the version the documents
// follow and the statement the seller affirms.
const (
	GuidelineVersion = "GS1 US DSCSA R1.3"
	LegalNotice      = "Seller has complied with each applicable subsection of FDCA Sec. 581(27)(A)-(G)."
)

// partyID names a party or place by GLN: an SGLN EPC when the company
// prefix length is known, its Digital Link otherwise.
func partyID(gln string, prefixLen int) string {
	if len(gln) == 13 && prefixLen >= 6 && prefixLen <= 12 {
		return "urn:epc:id:sgln:" + gln[:prefixLen] + "." + gln[prefixLen:12] + ".0"
	}
	return "https://id.gs1.org/414/" + gln
}

// addTransactionInfo makes a shipment's document carry the DSCSA
// transaction information and statement, as the GS1 US guideline puts
// them into EPCIS, for a site that ships on behalf of the owner: the
// owner (seller) sends, the ship-to receives; the shipping event names
// the seller and the site as source (owning party, location) and the
// buyer as destination, the orders and the despatch advice as business
// transactions; the header carries the product master data (NDC, name,
// dosage form, strength), each lot's expiry, and the transaction
// statement. The transaction date is the shipping event's time.
func addTransactionInfo(doc *epcis.Document, in ShipmentInput, ship *epcis.Event) {
	owner := in.Owner
	seller := partyID(owner.GLN, len(owner.CompanyPrefix))
	site := partyID(in.Site.GLN, len(in.Site.SSCCPrefix))
	doc.Sender, doc.InstanceIdentifier = seller, in.Shipment.ID
	if d := in.Shipment.Destination; d != "" {
		doc.Receiver = destinationID(d)
	}
	ship.ReadPoint, ship.BizLocation = &epcis.Location{ID: site}, &epcis.Location{ID: site}
	ship.Sources = []epcis.SourceDest{{Type: "owning_party", ID: seller}, {Type: "location", ID: site}}
	if d := in.Shipment.Destination; d != "" {
		ship.Destinations = []epcis.SourceDest{{Type: "owning_party", ID: destinationID(d)}, {Type: "location", ID: destinationID(d)}}
	}
	orders := append([]string(nil), in.Shipment.Orders...)
	sort.Strings(orders)
	for _, o := range orders {
		ship.BizTransactions = append(ship.BizTransactions, epcis.BizTransaction{Type: "po", Value: "urn:epcglobal:cbv:bt:" + owner.GLN + ":" + o})
	}
	ship.Extensions = append(ship.Extensions, epcis.Field{Space: epcis.NSGS1USHC, Prefix: "gs1ushc", Local: "dropShipment", Value: epcis.String("false")})

	// Master data: one EPCClass per product (as an SGTIN pattern) and one
	// per lot (an LGTIN class) with its expiry.
	mda := func(local, v string) epcis.MasterAttribute {
		return epcis.MasterAttribute{ID: "urn:epcglobal:cbv:mda#" + local, Value: epcis.String(v)}
	}
	type lot struct{ gtin, lot, expiry string }
	gtins, lots := map[string]bool{}, map[lot]bool{}
	for _, u := range in.Units {
		if u.Key.IsSSCC() {
			continue
		}
		g := u.Key.GTIN()
		gtins[g] = true
		if u.Lot != "" {
			lots[lot{g, u.Lot, u.Expiry}] = true
		}
	}
	var classes []epcis.VocabularyElement
	for _, g := range sortedSet(gtins) {
		p := in.Products[g]
		n := p.CompanyPrefixLen
		el := epcis.VocabularyElement{ID: classPattern(g, n)}
		if p.NDC != "" {
			el.Attributes = append(el.Attributes, mda("additionalTradeItemIdentification", p.NDC),
				mda("additionalTradeItemIdentificationTypeCode", "US_FDA_NDC"))
		}
		if p.Name != "" {
			el.Attributes = append(el.Attributes, mda("regulatedProductName", p.Name))
		}
		if p.Form != "" {
			el.Attributes = append(el.Attributes, mda("dosageFormType", p.Form))
		}
		if p.Strength != "" {
			el.Attributes = append(el.Attributes, mda("strengthDescription", p.Strength))
		}
		if p.PackSize > 0 {
			el.Attributes = append(el.Attributes, mda("netContentDescription", fmt.Sprintf("%d units", p.PackSize)))
		}
		if owner.Name != "" {
			el.Attributes = append(el.Attributes, mda("manufacturerOfTradeItemPartyName", owner.Name))
		}
		classes = append(classes, el)
	}
	ls := make([]lot, 0, len(lots))
	for l := range lots {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].gtin != ls[j].gtin {
			return ls[i].gtin < ls[j].gtin
		}
		return ls[i].lot < ls[j].lot
	})
	for _, l := range ls {
		el := epcis.VocabularyElement{ID: lotClass(l.gtin, l.lot, in.Products[l.gtin].CompanyPrefixLen)}
		el.Attributes = append(el.Attributes, mda("lotNumber", l.lot))
		if d := expiryDate(l.expiry); d != "" {
			el.Attributes = append(el.Attributes, mda("itemExpirationDate", d))
		}
		classes = append(classes, el)
	}
	h := &epcis.Header{}
	if len(classes) > 0 {
		h.MasterData = []epcis.Vocabulary{{Type: "urn:epcglobal:epcis:vtype:EPCClass", Elements: classes}}
	}
	gs := func(local string, v epcis.Value) epcis.Field {
		return epcis.Field{Space: epcis.NSGS1USHC, Prefix: "gs1ushc", Local: local, Value: v}
	}
	h.Extensions = []epcis.Field{
		gs("guidelineVersion", epcis.String(GuidelineVersion)),
		gs("dscsaTransactionStatement", epcis.Object(
			gs("affirmTransactionStatement", epcis.String("true")),
			gs("legalNotice", epcis.String(LegalNotice)))),
	}
	doc.Header = h
}

// classPattern is the EPCClass of every instance of a GTIN: an SGTIN
// pattern when the company prefix length is known, the GTIN's Digital
// Link otherwise.
func classPattern(gtin string, n int) string {
	if n >= 6 && n <= 12 && len(gtin) == 14 {
		return "urn:epc:idpat:sgtin:" + gtin[1:1+n] + "." + gtin[0:1] + gtin[1+n:13] + ".*"
	}
	return "https://id.gs1.org/01/" + gtin
}

// lotClass is the EPCClass of one lot of a GTIN.
func lotClass(gtin, lot string, n int) string {
	if n >= 6 && n <= 12 && len(gtin) == 14 {
		return "urn:epc:class:lgtin:" + gtin[1:1+n] + "." + gtin[0:1] + gtin[1+n:13] + "." + escapeSerial(lot)
	}
	return "https://id.gs1.org/01/" + gtin + "/10/" + strings.ReplaceAll(lot, "/", "%2F")
}

// expiryDate turns a pack's YYMMDD expiry into a date (day 00 is the
// month's last day, as GS1 says).
func expiryDate(e string) string {
	if len(e) != 6 || !digits(e) {
		return ""
	}
	y, m, d := "20"+e[0:2], e[2:4], e[4:6]
	if d == "00" {
		days := map[string]string{"01": "31", "02": "28", "03": "31", "04": "30", "05": "31", "06": "30",
			"07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31"}[m]
		if m == "02" {
			var yy int
			fmt.Sscanf(y, "%d", &yy)
			if yy%4 == 0 && (yy%100 != 0 || yy%400 == 0) {
				days = "29"
			}
		}
		d = days
	}
	return y + "-" + m + "-" + d
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
