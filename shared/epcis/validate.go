package epcis

import (
	"context"
	"strconv"
)

// pathStyle chooses how problem paths are written.
type pathStyle uint8

const (
	styleJSON pathStyle = iota // epcisBody.eventList[2].epcList[0]
	styleXML                   // EPCISBody/EventList/ObjectEvent[3]/epcList/epc[1]
)

// paths renders problem paths in one style.
type paths struct{ style pathStyle }

func (p paths) field(base, name string) string {
	if base == "" {
		return name
	}
	if p.style == styleXML {
		return base + "/" + name
	}
	return base + "." + name
}

// item addresses element i (0-based) of list name; xmlItem is the XML
// element name of one entry.
func (p paths) item(base, name, xmlItem string, i int) string {
	if p.style == styleXML {
		return p.field(base, name) + "/" + xmlItem + "[" + strconv.Itoa(i+1) + "]"
	}
	return p.field(base, name) + "[" + strconv.Itoa(i) + "]"
}

// eventsBase is the path of the event list.
func (p paths) eventsBase(t DocumentType) string {
	switch {
	case p.style == styleXML && t == TypeQueryDocument:
		return "EPCISBody/QueryResults/resultsBody/EventList"
	case p.style == styleXML:
		return "EPCISBody/EventList"
	case t == TypeQueryDocument:
		return "epcisBody.queryResults.resultsBody.eventList"
	}
	return "epcisBody.eventList"
}

// eventPath returns the path of event i. XML counts events of the same
// type (ObjectEvent[3]); JSON indexes the list. Only built for problems.
func (p paths) eventPath(d *Document, ord *ordinals, i int) string {
	base := p.eventsBase(d.Type)
	if p.style != styleXML {
		return base + "[" + strconv.Itoa(i) + "]"
	}
	return base + "/" + d.Events[i].Type.String() + "[" + strconv.Itoa(ord.of(d, i)) + "]"
}

// ordinals numbers each event among the events of its type (1-based),
// for XML paths. It is built once, on the first problem, in one pass:
// counting anew for each problem made a document whose every event had
// a problem quadratic to check.
type ordinals struct{ n []int32 }

func (o *ordinals) of(d *Document, i int) int {
	if o.n == nil {
		o.n = make([]int32, len(d.Events))
		var counts [6]int32
		for j := range d.Events {
			t := d.Events[j].Type
			if int(t) >= 0 && int(t) < len(counts) {
				counts[t]++
				o.n[j] = counts[t]
			}
		}
	}
	return int(o.n[i])
}

// Validate checks the document against the EPCIS and CBV rules and
// returns a *ValidationError (wrapping ErrInvalid) listing the first
// DefaultMaxProblems problems and counting all of them, with JSON-LD
// paths, or nil. Limits.Validate sets other bounds.
func (d *Document) Validate() error {
	return DefaultLimits().Validate(context.Background(), d)
}

// validateDoc adds the document's problems to ps. It fails only when ctx
// ends first.
func validateDoc(ctx context.Context, d *Document, p paths, ps *problems) error {
	if d.Type == TypeDocument && d.CreationDate.IsZero() {
		name := "creationDate"
		if p.style == styleXML {
			name = "@creationDate"
		}
		ps.add(name, "missing creationDate")
	}
	if d.Type == TypeQueryDocument && d.QueryName == "" {
		qp := "epcisBody.queryResults.queryName"
		if p.style == styleXML {
			qp = "EPCISBody/QueryResults/queryName"
		}
		ps.add(qp, "missing queryName")
	}
	if d.ID != "" && !isURI(d.ID) {
		ps.add("id", "document id "+quote(d.ID)+" is not a URI")
	}
	if d.Header != nil {
		validateMasterData(d.Header.MasterData, p, ps)
		hb := "epcisHeader"
		if p.style == styleXML {
			hb = "EPCISHeader"
		}
		checkExtensionNames(d.Header.Extensions, func() string { return hb }, p, ps)
	}
	checkExtensionNames(d.Extensions, func() string { return "" }, p, ps)
	ord := &ordinals{}
	for i := range d.Events {
		if i%timeCheckEvery == 0 && ctx.Err() != nil {
			return outOfTime(ctx)
		}
		validateEvent(&d.Events[i], lazyPath{p: p, d: d, ord: ord, i: i}, p, ps)
	}
	return nil
}

func validateMasterData(vs []Vocabulary, p paths, ps *problems) {
	mb := "epcisHeader.epcisMasterData"
	if p.style == styleXML {
		mb = "EPCISHeader/extension/EPCISMasterData"
	}
	for i, v := range vs {
		vb := func() string { return p.item(mb, "vocabularyList", "Vocabulary", i) }
		if v.Type == "" || !isURI(v.Type) {
			ps.add(p.field(vb(), "type"), "vocabulary type must be a URI")
		}
		for j, el := range v.Elements {
			eb := func() string { return p.item(vb(), "vocabularyElementList", "VocabularyElement", j) }
			if !isURI(el.ID) {
				ps.add(p.field(eb(), "id"), "vocabulary element id "+quote(el.ID)+" is not a URI")
			}
			for k, a := range el.Attributes {
				if !isURI(a.ID) {
					ps.add(p.field(p.item(eb(), "attributes", "attribute", k), "id"), "attribute id "+quote(a.ID)+" is not a URI")
				}
			}
			for k, c := range el.Children {
				if !isURI(c) {
					ps.add(p.item(eb(), "children", "id", k), "child "+quote(c)+" is not a URI")
				}
			}
		}
	}
}

// checkExtensionNames refuses unqualified names among extension fields:
// outside the standard fields, a name needs a namespace.
func checkExtensionNames(fs []Field, base func() string, p paths, ps *problems) {
	for _, x := range fs {
		if x.Space == "" && x.Prefix == "" && !x.Attr && (x.Local == "" || x.Local[0] != '@') {
			ps.add(p.field(base(), x.Local), "unknown field "+quote(x.Local)+" (extension fields need a namespace prefix)")
		}
	}
}

// allowed lists the type-specific fields each event type may carry.
type allowed struct {
	epcList, quantityList, parentID, childEPCs, childQuantityList, inputs, outputs, transformationID, ilmd, action bool
}

func allowedFor(t EventType) allowed {
	switch t {
	case ObjectEvent:
		return allowed{epcList: true, quantityList: true, ilmd: true, action: true}
	case AggregationEvent, AssociationEvent:
		return allowed{parentID: true, childEPCs: true, childQuantityList: true, action: true}
	case TransactionEvent:
		return allowed{epcList: true, quantityList: true, parentID: true, action: true}
	case TransformationEvent:
		return allowed{inputs: true, outputs: true, transformationID: true, ilmd: true}
	}
	return allowed{}
}

// lazyPath names an event and renders its path only when asked.
type lazyPath struct {
	p   paths
	d   *Document
	ord *ordinals
	i   int
}

func (l lazyPath) String() string { return l.p.eventPath(l.d, l.ord, l.i) }

func validateEvent(e *Event, lp lazyPath, p paths, ps *problems) {
	f := func(name string) string { return p.field(lp.String(), name) }
	if e.Type == EventUnknown {
		ps.add(f("type"), "unknown event type")
		return
	}
	if e.EventTime.IsZero() {
		ps.add(f("eventTime"), "missing eventTime")
	}
	switch {
	case e.EventTimeZoneOffset == "":
		ps.add(f("eventTimeZoneOffset"), "missing eventTimeZoneOffset")
	case !validOffset(e.EventTimeZoneOffset):
		ps.add(f("eventTimeZoneOffset"), "eventTimeZoneOffset "+quote(e.EventTimeZoneOffset)+" is not ±hh:mm between -13:59 and +14:00")
	}
	if e.EventID != "" && !isURI(e.EventID) {
		ps.add(f("eventID"), "eventID "+quote(e.EventID)+" is not a URI")
	}
	for i, c := range e.CertificationInfo {
		if !isURI(c) {
			ps.add(p.item(lp.String(), "certificationInfo", "certificationInfo", i), "certificationInfo is not a URI")
		}
	}
	if ed := e.ErrorDeclaration; ed != nil {
		eb := func() string { return f("errorDeclaration") }
		if ed.DeclarationTime.IsZero() {
			ps.add(p.field(eb(), "declarationTime"), "missing declarationTime")
		}
		if ed.Reason != "" {
			if _, why, ok := cbv.errReason.canonical(ed.Reason); !ok {
				ps.add(p.field(eb(), "reason"), why)
			}
		}
		for i, id := range ed.CorrectiveEventIDs {
			if !isURI(id) {
				ps.add(p.item(eb(), "correctiveEventIDs", "correctiveEventID", i), "corrective event ID "+quote(id)+" is not a URI")
			}
		}
	}

	a := allowedFor(e.Type)
	if a.action {
		switch e.Action {
		case ActionAdd, ActionObserve, ActionDelete:
		case "":
			ps.add(f("action"), "missing action")
		default:
			ps.add(f("action"), "action "+quote(e.Action)+" is not ADD, OBSERVE or DELETE")
		}
	} else if e.Action != "" {
		ps.add(f("action"), e.Type.String()+" has no action")
	}
	if e.BizStep != "" {
		if _, why, ok := cbv.bizStep.canonical(e.BizStep); !ok {
			ps.add(f("bizStep"), why)
		}
	}
	if e.Disposition != "" {
		if _, why, ok := cbv.disposition.canonical(e.Disposition); !ok {
			ps.add(f("disposition"), why)
		}
	}
	if pd := e.PersistentDisposition; pd != nil {
		pb := func() string { return f("persistentDisposition") }
		if len(pd.Set) == 0 && len(pd.Unset) == 0 {
			ps.add(pb(), "persistentDisposition needs set or unset")
		} else {
			if pd.Set != nil && len(pd.Set) == 0 {
				ps.add(p.field(pb(), "set"), "empty set list")
			}
			if pd.Unset != nil && len(pd.Unset) == 0 {
				ps.add(p.field(pb(), "unset"), "empty unset list")
			}
		}
		for i, s := range pd.Set {
			if _, why, ok := cbv.disposition.canonical(s); !ok {
				ps.add(p.item(pb(), "set", "set", i)+"", why)
			}
		}
		for i, s := range pd.Unset {
			if _, why, ok := cbv.disposition.canonical(s); !ok {
				ps.add(p.item(pb(), "unset", "unset", i), why)
			}
		}
	}
	checkLocation(e.ReadPoint, f, "readPoint", p, ps)
	checkLocation(e.BizLocation, f, "bizLocation", p, ps)
	for i, bt := range e.BizTransactions {
		ib := func() string { return p.item(lp.String(), "bizTransactionList", "bizTransaction", i) }
		if bt.Type != "" {
			if _, why, ok := cbv.btt.canonical(bt.Type); !ok {
				ps.add(p.field(ib(), "type"), why)
			}
		}
		switch {
		case bt.Value == "":
			ps.add(ib(), "missing business transaction identifier")
		case !isURI(bt.Value):
			ps.add(ib(), "business transaction "+quote(bt.Value)+" is not a URI")
		}
	}
	checkSourceDest(e.Sources, lp, "sourceList", "source", p, ps)
	checkSourceDest(e.Destinations, lp, "destinationList", "destination", p, ps)
	for i, se := range e.SensorElements {
		if se.Kind != KindObject {
			ps.add(p.item(lp.String(), "sensorElementList", "sensorElement", i), "sensor element must be an object")
			continue
		}
		if _, ok := se.Lookup("", "sensorReport"); !ok {
			ps.add(p.item(lp.String(), "sensorElementList", "sensorElement", i), "sensor element without sensorReport")
		}
	}

	// Fields the type does not have.
	notFor := func(present bool, name string) {
		if present {
			ps.add(f(name), e.Type.String()+" has no "+name)
		}
	}
	notFor(!a.epcList && e.EPCList != nil, "epcList")
	notFor(!a.quantityList && e.QuantityList != nil, "quantityList")
	notFor(!a.parentID && e.ParentID != "", "parentID")
	notFor(!a.childEPCs && e.ChildEPCs != nil, "childEPCs")
	notFor(!a.childQuantityList && e.ChildQuantityList != nil, "childQuantityList")
	notFor(!a.inputs && e.InputEPCList != nil, "inputEPCList")
	notFor(!a.inputs && e.InputQuantityList != nil, "inputQuantityList")
	notFor(!a.outputs && e.OutputEPCList != nil, "outputEPCList")
	notFor(!a.outputs && e.OutputQuantityList != nil, "outputQuantityList")
	notFor(!a.transformationID && e.TransformationID != "", "transformationID")
	notFor(!a.ilmd && e.ILMD != nil, "ilmd")

	checkEPCs(e.EPCList, lp, "epcList", p, ps)
	checkEPCs(e.ChildEPCs, lp, "childEPCs", p, ps)
	checkEPCs(e.InputEPCList, lp, "inputEPCList", p, ps)
	checkEPCs(e.OutputEPCList, lp, "outputEPCList", p, ps)
	checkQuantities(e.QuantityList, lp, "quantityList", p, ps)
	checkQuantities(e.ChildQuantityList, lp, "childQuantityList", p, ps)
	checkQuantities(e.InputQuantityList, lp, "inputQuantityList", p, ps)
	checkQuantities(e.OutputQuantityList, lp, "outputQuantityList", p, ps)
	if e.ParentID != "" {
		if why := checkID(e.ParentID, idInstance); why != "" {
			ps.add(f("parentID"), why)
		}
	}
	if e.TransformationID != "" && !isURI(e.TransformationID) {
		ps.add(f("transformationID"), "transformationID is not a URI")
	}

	// What each type requires.
	switch e.Type {
	case ObjectEvent:
		if len(e.EPCList)+len(e.QuantityList) == 0 && !(len(e.SensorElements) > 0 && e.ReadPoint != nil) {
			ps.add(f("epcList"), "ObjectEvent "+actionWord(e.Action)+"needs an epcList or quantityList")
		}
		if e.ILMD != nil && e.Action != ActionAdd && e.Action != "" {
			ps.add(f("ilmd"), "ilmd is only allowed with action ADD")
		}
	case AggregationEvent:
		if e.ParentID == "" && (e.Action == ActionAdd || e.Action == ActionDelete) {
			ps.add(f("parentID"), "AggregationEvent "+e.Action+" needs a parentID")
		}
		if len(e.ChildEPCs)+len(e.ChildQuantityList) == 0 && e.Action != ActionDelete {
			ps.add(f("childEPCs"), "AggregationEvent "+actionWord(e.Action)+"needs childEPCs or childQuantityList")
		}
	case TransactionEvent:
		if len(e.BizTransactions) == 0 {
			ps.add(f("bizTransactionList"), "TransactionEvent needs at least one bizTransaction")
		}
		if len(e.EPCList)+len(e.QuantityList) == 0 && e.Action != ActionDelete {
			ps.add(f("epcList"), "TransactionEvent "+actionWord(e.Action)+"needs an epcList or quantityList")
		}
	case TransformationEvent:
		in := len(e.InputEPCList)+len(e.InputQuantityList) > 0
		out := len(e.OutputEPCList)+len(e.OutputQuantityList) > 0
		if !(in && out) && !(e.TransformationID != "" && (in || out)) {
			ps.add(f("inputEPCList"), "TransformationEvent needs inputs and outputs (or a transformationID with either)")
		}
	case AssociationEvent:
		if e.ParentID == "" {
			ps.add(f("parentID"), "AssociationEvent needs a parentID")
		}
		if len(e.ChildEPCs)+len(e.ChildQuantityList) == 0 && e.Action != ActionDelete {
			ps.add(f("childEPCs"), "AssociationEvent "+actionWord(e.Action)+"needs childEPCs or childQuantityList")
		}
	}

	checkExtensionNames(e.Extensions, lp.String, p, ps)
	if e.ErrorDeclaration != nil {
		checkExtensionNames(e.ErrorDeclaration.Extensions, func() string { return f("errorDeclaration") }, p, ps)
	}
	if e.ReadPoint != nil {
		checkExtensionNames(e.ReadPoint.Extensions, func() string { return f("readPoint") }, p, ps)
	}
	if e.BizLocation != nil {
		checkExtensionNames(e.BizLocation.Extensions, func() string { return f("bizLocation") }, p, ps)
	}
	for _, x := range e.ILMD {
		if x.Space == "" && x.Prefix == "" {
			ps.add(p.field(f("ilmd"), x.Local), "ILMD field "+quote(x.Local)+" needs a namespace prefix")
		}
	}
}

func actionWord(a string) string {
	switch a {
	case ActionAdd, ActionObserve, ActionDelete:
		return a + " "
	}
	return ""
}

func checkLocation(l *Location, f func(string) string, name string, p paths, ps *problems) {
	if l == nil {
		return
	}
	if l.ID == "" {
		ps.add(p.field(f(name), "id"), "missing id")
		return
	}
	if why := checkID(l.ID, idAny); why != "" {
		ps.add(p.field(f(name), "id"), why)
	}
}

func checkSourceDest(list []SourceDest, lp lazyPath, name, item string, p paths, ps *problems) {
	for i, sd := range list {
		ib := func() string { return p.item(lp.String(), name, item, i) }
		if sd.Type == "" {
			ps.add(p.field(ib(), "type"), "missing "+item+" type")
		} else if _, why, ok := cbv.sdt.canonical(sd.Type); !ok {
			ps.add(p.field(ib(), "type"), why)
		}
		if sd.ID == "" {
			ps.add(ib(), "missing "+item+" identifier")
		} else if why := checkID(sd.ID, idAny); why != "" {
			ps.add(ib(), why)
		}
	}
}

func checkEPCs(list []string, lp lazyPath, name string, p paths, ps *problems) {
	if len(list) == 0 {
		return
	}
	var seen map[string]struct{}
	if len(list) > 16 {
		seen = make(map[string]struct{}, len(list))
	}
	for i, id := range list {
		if why := checkID(id, idInstance); why != "" {
			ps.add(p.item(lp.String(), name, "epc", i), why)
		}
		dup := false
		if seen != nil {
			_, dup = seen[id]
			seen[id] = struct{}{}
		} else {
			for _, o := range list[:i] {
				if o == id {
					dup = true
					break
				}
			}
		}
		if dup {
			ps.add(p.item(lp.String(), name, "epc", i), "duplicate EPC "+quote(id))
		}
	}
}

func checkQuantities(list []Quantity, lp lazyPath, name string, p paths, ps *problems) {
	for i, q := range list {
		ib := func() string { return p.item(lp.String(), name, "quantityElement", i) }
		if q.EPCClass == "" {
			ps.add(p.field(ib(), "epcClass"), "missing epcClass")
		} else if why := checkID(q.EPCClass, idClass); why != "" {
			ps.add(p.field(ib(), "epcClass"), why)
		}
		if q.Quantity != "" && !isDecimal(q.Quantity) {
			ps.add(p.field(ib(), "quantity"), "quantity "+quote(q.Quantity)+" is not a number")
		}
		if q.UOM != "" && !validUOM(q.UOM) {
			ps.add(p.field(ib(), "uom"), "uom "+quote(q.UOM)+" is not a 2–3 character UN/CEFACT code")
		}
		if q.UOM != "" && q.Quantity == "" {
			ps.add(p.field(ib(), "quantity"), "uom given without quantity")
		}
	}
}

// validOffset checks ±hh:mm, -13:59..+14:00 as the JSON schema has it.
func validOffset(s string) bool {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	for _, i := range [...]int{1, 2, 4, 5} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	h := int(s[1]-'0')*10 + int(s[2]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	if m > 59 {
		return false
	}
	return h < 14 || (h == 14 && m == 0)
}

func validUOM(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is a JSON number literal.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return false
	}
	if i-start > 1 && s[start] == '0' {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == fs {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == es {
			return false
		}
	}
	return i == len(s)
}
