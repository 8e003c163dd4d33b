package epcis

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"
)

// EncodeXML writes the document as EPCIS 1.2 XML: CBV values as URNs,
// EPCIS 1.2 fields in their places, later types and fields (Transformation
// and Association events, persistent disposition, sensor data,
// certification info) in the extension elements 1.2 reserves for them,
// extension fields with their namespaces. It refuses (with ErrInvalid) a
// document that does not validate.
func EncodeXML(doc *Document) ([]byte, error) {
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return AppendXML(make([]byte, 0, 1024+len(doc.Events)*1200), doc)
}

// AppendXML appends the 1.2 XML form of doc to dst without validating it.
func AppendXML(dst []byte, doc *Document) ([]byte, error) {
	w := &xenc{b: bytes.NewBuffer(dst)}
	t := &prefixTable{xml: true, bySpace: map[string]string{}, byPrefix: map[string]string{}}
	root := "epcis"
	rootNS := NSEPCIS
	if doc.Type == TypeQueryDocument {
		root, rootNS = "epcisq", NSEPCISQuery
	}
	t.bySpace[rootNS], t.byPrefix[root] = root, rootNS
	t.order = append(t.order, Namespace{Prefix: root, IRI: rootNS})
	sbdh := synthSBDH(doc)
	if sbdh != nil {
		t.use(sbdh)
	}
	walkFields(doc, func(f *Field) { t.use(f) })
	w.t = t

	w.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.raw("<" + root + ":" + doc.Type.String())
	for _, ns := range t.order {
		w.raw(` xmlns:` + ns.Prefix + `="`)
		w.attrText(ns.IRI)
		w.raw(`"`)
	}
	w.raw(` schemaVersion="1.2"`)
	if !doc.CreationDate.IsZero() {
		w.raw(` creationDate="`)
		w.raw(doc.CreationDate.Format(time.RFC3339Nano))
		w.raw(`"`)
	}
	for i := range doc.Extensions {
		if f := &doc.Extensions[i]; f.Attr && f.Value.Kind != KindObject && f.Value.Kind != KindArray {
			w.attribute(f)
		}
	}
	w.raw(">")
	if doc.Type == TypeDocument {
		w.header(doc, sbdh)
	}
	for i := range doc.Extensions {
		if f := &doc.Extensions[i]; !f.Attr || f.Value.Kind == KindObject || f.Value.Kind == KindArray {
			w.field(f, 0)
		}
	}
	w.raw("<EPCISBody>")
	if doc.Type == TypeQueryDocument {
		w.raw("<epcisq:QueryResults>")
		w.text("queryName", doc.QueryName)
		if doc.SubscriptionID != "" {
			w.text("subscriptionID", doc.SubscriptionID)
		}
		w.raw("<resultsBody>")
	}
	w.raw("<EventList>")
	for i := range doc.Events {
		w.event(&doc.Events[i])
	}
	w.raw("</EventList>")
	if doc.Type == TypeQueryDocument {
		w.raw("</resultsBody></epcisq:QueryResults>")
	}
	w.raw("</EPCISBody></" + root + ":" + doc.Type.String() + ">\n")
	if w.err != nil {
		return nil, w.err
	}
	return w.b.Bytes(), nil
}

// synthSBDH returns the SBDH to write: nil when the header already holds
// one or there is nothing to put in it, else one built from the 2.0
// pseudo-SBDH fields.
func synthSBDH(doc *Document) *Field {
	if doc.Header != nil {
		if _, ok := LookupField(doc.Header.Extensions, NSSBDH, "StandardBusinessDocumentHeader"); ok {
			return nil
		}
	}
	if doc.Sender == "" && doc.Receiver == "" && doc.InstanceIdentifier == "" {
		return nil
	}
	sb := func(local string, v Value) Field { return Field{Space: NSSBDH, Prefix: "sbdh", Local: local, Value: v} }
	party := func(local, id string) Field {
		return sb(local, Object(sb("Identifier", Value{Kind: KindObject, Text: id, Fields: []Field{{Local: "Authority", Attr: true, Value: String("GS1")}}})))
	}
	h := Object(sb("HeaderVersion", String("1.0")))
	if doc.Sender != "" {
		h.Fields = append(h.Fields, party("Sender", doc.Sender))
	}
	if doc.Receiver != "" {
		h.Fields = append(h.Fields, party("Receiver", doc.Receiver))
	}
	di := Object(sb("Standard", String("EPCglobal")), sb("TypeVersion", String("1.0")),
		sb("InstanceIdentifier", String(doc.InstanceIdentifier)), sb("Type", String("Events")))
	if !doc.CreationDate.IsZero() {
		di.Fields = append(di.Fields, sb("CreationDateAndTime", String(doc.CreationDate.Format(time.RFC3339Nano))))
	}
	h.Fields = append(h.Fields, sb("DocumentIdentification", di))
	f := sb("StandardBusinessDocumentHeader", h)
	return &f
}

// maxXMLValueDepth bounds the nesting of a generic value written as XML,
// leaving room under maxXMLDepth for the document around it.
const maxXMLValueDepth = maxXMLDepth - 24

type xenc struct {
	b   *bytes.Buffer
	t   *prefixTable
	err error
}

func (w *xenc) raw(s string) { w.b.WriteString(s) }

func (w *xenc) escaped(s string) {
	if err := xml.EscapeText(w.b, []byte(s)); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *xenc) attrText(s string) { w.escaped(s) }

// text writes <name>s</name>.
func (w *xenc) text(name, s string) {
	w.raw("<" + name + ">")
	w.escaped(s)
	w.raw("</" + name + ">")
}

func (w *xenc) list(name, item string, l []string) {
	if l == nil {
		return
	}
	w.raw("<" + name + ">")
	for _, s := range l {
		w.text(item, s)
	}
	w.raw("</" + name + ">")
}

func (w *xenc) timeText(name string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.raw("<" + name + ">" + t.Format(time.RFC3339Nano) + "</" + name + ">")
}

func (w *xenc) header(doc *Document, sbdh *Field) {
	h := doc.Header
	hasMD := h != nil && len(h.MasterData) > 0
	hasExt := h != nil && len(h.Extensions) > 0
	if sbdh == nil && !hasMD && !hasExt {
		return
	}
	w.raw("<EPCISHeader>")
	if sbdh != nil {
		w.field(sbdh, 0)
	}
	if h != nil {
		for i := range h.Extensions {
			if f := &h.Extensions[i]; f.Space == NSSBDH && f.Local == "StandardBusinessDocumentHeader" {
				w.field(f, 0)
			}
		}
	}
	if hasMD {
		w.raw("<extension><EPCISMasterData><VocabularyList>")
		for _, v := range h.MasterData {
			w.raw(`<Vocabulary type="`)
			w.attrText(v.Type)
			w.raw(`"><VocabularyElementList>`)
			for _, el := range v.Elements {
				w.raw(`<VocabularyElement id="`)
				w.attrText(el.ID)
				w.raw(`">`)
				for i := range el.Attributes {
					a := &el.Attributes[i]
					w.raw(`<attribute id="`)
					w.attrText(a.ID)
					w.raw(`">`)
					w.content(&a.Value, 1)
					w.raw(`</attribute>`)
				}
				if el.Children != nil {
					w.list("children", "id", el.Children)
				}
				w.raw(`</VocabularyElement>`)
			}
			w.raw(`</VocabularyElementList></Vocabulary>`)
		}
		w.raw("</VocabularyList></EPCISMasterData></extension>")
	}
	if h != nil {
		for i := range h.Extensions {
			if f := &h.Extensions[i]; !(f.Space == NSSBDH && f.Local == "StandardBusinessDocumentHeader") {
				w.field(f, 0)
			}
		}
	}
	w.raw("</EPCISHeader>")
}

// qname renders a field's element or attribute name.
func (w *xenc) qname(f *Field) string {
	if !validNCName(f.Local) {
		if w.err == nil {
			w.err = fmt.Errorf("%w: %q is not an XML name", ErrUnsupported, f.Local)
		}
		return "invalid"
	}
	if f.Space == "" {
		return f.Local
	}
	return w.t.bySpace[f.Space] + ":" + f.Local
}

func (w *xenc) attribute(f *Field) {
	w.raw(" " + w.qname(f) + `="`)
	w.attrText(f.Value.Text)
	w.raw(`"`)
}

// field writes a generic field as an element; an array becomes repeated
// elements.
func (w *xenc) field(f *Field, depth int) {
	if f.Local == "@context" && f.Space == "" && f.Prefix == "" {
		return // JSON-LD only
	}
	if depth > maxXMLValueDepth {
		if w.err == nil {
			w.err = fmt.Errorf("%w: nesting too deep", ErrUnsupported)
		}
		return
	}
	if f.Value.Kind == KindArray {
		for i := range f.Value.Items {
			g := Field{Space: f.Space, Prefix: f.Prefix, Local: f.Local, Value: f.Value.Items[i]}
			w.field(&g, depth+1)
		}
		return
	}
	name := w.qname(f)
	w.raw("<" + name)
	if f.Value.Kind == KindObject {
		for i := range f.Value.Fields {
			if a := &f.Value.Fields[i]; a.Attr && a.Value.Kind != KindObject && a.Value.Kind != KindArray {
				w.attribute(a)
			}
		}
	}
	w.raw(">")
	w.content(&f.Value, depth+1)
	w.raw("</" + name + ">")
}

// content writes a value's text and child elements.
func (w *xenc) content(v *Value, depth int) {
	switch v.Kind {
	case KindObject:
		w.escaped(v.Text)
		for i := range v.Fields {
			if c := &v.Fields[i]; !c.Attr || c.Value.Kind == KindObject || c.Value.Kind == KindArray {
				w.field(c, depth)
			}
		}
	case KindArray:
		for i := range v.Items {
			w.content(&v.Items[i], depth+1)
		}
	case KindNull:
	default:
		w.escaped(v.Text)
	}
}

func (w *xenc) quantities(name string, l []Quantity) {
	if l == nil {
		return
	}
	w.raw("<" + name + ">")
	for _, q := range l {
		w.raw("<quantityElement>")
		w.text("epcClass", q.EPCClass)
		if q.Quantity != "" {
			w.text("quantity", q.Quantity)
		}
		if q.UOM != "" {
			w.text("uom", q.UOM)
		}
		w.raw("</quantityElement>")
	}
	w.raw("</" + name + ">")
}

func (w *xenc) location(name string, l *Location) {
	if l == nil {
		return
	}
	w.raw("<" + name + ">")
	w.text("id", l.ID)
	for i := range l.Extensions {
		w.field(&l.Extensions[i], 0)
	}
	w.raw("</" + name + ">")
}

func (w *xenc) bizTransactions(l []BizTransaction) {
	if l == nil {
		return
	}
	w.raw("<bizTransactionList>")
	for _, bt := range l {
		if bt.Type != "" {
			w.raw(`<bizTransaction type="`)
			w.attrText(cbv.btt.urnForm(bt.Type))
			w.raw(`">`)
		} else {
			w.raw("<bizTransaction>")
		}
		w.escaped(bt.Value)
		w.raw("</bizTransaction>")
	}
	w.raw("</bizTransactionList>")
}

func (w *xenc) sourceDest(name, item string, l []SourceDest) {
	if l == nil {
		return
	}
	w.raw("<" + name + ">")
	for _, sd := range l {
		w.raw("<" + item + ` type="`)
		w.attrText(cbv.sdt.urnForm(sd.Type))
		w.raw(`">`)
		w.escaped(sd.ID)
		w.raw("</" + item + ">")
	}
	w.raw("</" + name + ">")
}

func (w *xenc) baseExtension(e *Event) {
	if e.EventID == "" && e.ErrorDeclaration == nil {
		return
	}
	w.raw("<baseExtension>")
	if e.EventID != "" {
		w.text("eventID", e.EventID)
	}
	if ed := e.ErrorDeclaration; ed != nil {
		w.raw("<errorDeclaration>")
		w.timeText("declarationTime", ed.DeclarationTime)
		if ed.Reason != "" {
			w.text("reason", cbv.errReason.urnForm(ed.Reason))
		}
		w.list("correctiveEventIDs", "correctiveEventID", ed.CorrectiveEventIDs)
		for i := range ed.Extensions {
			w.field(&ed.Extensions[i], 0)
		}
		w.raw("</errorDeclaration>")
	}
	w.raw("</baseExtension>")
}

func (w *xenc) common(e *Event) {
	if e.Action != "" {
		w.text("action", e.Action)
	}
	if e.BizStep != "" {
		w.text("bizStep", cbv.bizStep.urnForm(e.BizStep))
	}
	if e.Disposition != "" {
		w.text("disposition", cbv.disposition.urnForm(e.Disposition))
	}
	w.location("readPoint", e.ReadPoint)
	w.location("bizLocation", e.BizLocation)
}

// ext2 writes the fields 2.0 added, which 1.2 carries in the innermost
// extension element.
func (w *xenc) ext2(e *Event) {
	if pd := e.PersistentDisposition; pd != nil {
		w.raw("<persistentDisposition>")
		for _, s := range pd.Set {
			w.text("set", cbv.disposition.urnForm(s))
		}
		for _, s := range pd.Unset {
			w.text("unset", cbv.disposition.urnForm(s))
		}
		w.raw("</persistentDisposition>")
	}
	for _, c := range e.CertificationInfo {
		w.text("certificationInfo", c)
	}
	if e.SensorElements != nil {
		w.raw("<sensorElementList>")
		for i := range e.SensorElements {
			f := Field{Local: "sensorElement", Value: e.SensorElements[i]}
			w.field(&f, 0)
		}
		w.raw("</sensorElementList>")
	}
}

func has2(e *Event) bool {
	return e.PersistentDisposition != nil || len(e.CertificationInfo) > 0 || e.SensorElements != nil
}

func (w *xenc) ilmd(e *Event) {
	if e.ILMD == nil {
		return
	}
	w.raw("<ilmd>")
	for i := range e.ILMD {
		w.field(&e.ILMD[i], 0)
	}
	w.raw("</ilmd>")
}

func (w *xenc) userExtensions(e *Event) {
	for i := range e.Extensions {
		if f := &e.Extensions[i]; !f.Attr {
			w.field(f, 0)
		}
	}
}

func (w *xenc) open(name string, e *Event) {
	w.raw("<" + name)
	for i := range e.Extensions {
		if f := &e.Extensions[i]; f.Attr && f.Value.Kind != KindObject && f.Value.Kind != KindArray {
			w.attribute(f)
		}
	}
	w.raw(">")
	w.timeText("eventTime", e.EventTime)
	w.timeText("recordTime", e.RecordTime)
	w.text("eventTimeZoneOffset", e.EventTimeZoneOffset)
	w.baseExtension(e)
}

func (w *xenc) event(e *Event) {
	switch e.Type {
	case ObjectEvent:
		w.open("ObjectEvent", e)
		if e.EPCList == nil {
			w.raw("<epcList/>")
		} else {
			w.list("epcList", "epc", e.EPCList)
		}
		w.common(e)
		w.bizTransactions(e.BizTransactions)
		if e.QuantityList != nil || e.Sources != nil || e.Destinations != nil || e.ILMD != nil || has2(e) {
			w.raw("<extension>")
			w.quantities("quantityList", e.QuantityList)
			w.sourceDest("sourceList", "source", e.Sources)
			w.sourceDest("destinationList", "destination", e.Destinations)
			w.ilmd(e)
			if has2(e) {
				w.raw("<extension>")
				w.ext2(e)
				w.raw("</extension>")
			}
			w.raw("</extension>")
		}
		w.userExtensions(e)
		w.raw("</ObjectEvent>")
	case AggregationEvent:
		w.open("AggregationEvent", e)
		if e.ParentID != "" {
			w.text("parentID", e.ParentID)
		}
		if e.ChildEPCs == nil {
			w.raw("<childEPCs/>")
		} else {
			w.list("childEPCs", "epc", e.ChildEPCs)
		}
		w.common(e)
		w.bizTransactions(e.BizTransactions)
		if e.ChildQuantityList != nil || e.Sources != nil || e.Destinations != nil || has2(e) {
			w.raw("<extension>")
			w.quantities("childQuantityList", e.ChildQuantityList)
			w.sourceDest("sourceList", "source", e.Sources)
			w.sourceDest("destinationList", "destination", e.Destinations)
			if has2(e) {
				w.raw("<extension>")
				w.ext2(e)
				w.raw("</extension>")
			}
			w.raw("</extension>")
		}
		w.userExtensions(e)
		w.raw("</AggregationEvent>")
	case TransactionEvent:
		w.open("TransactionEvent", e)
		w.bizTransactions(e.BizTransactions)
		if e.ParentID != "" {
			w.text("parentID", e.ParentID)
		}
		if e.EPCList == nil {
			w.raw("<epcList/>")
		} else {
			w.list("epcList", "epc", e.EPCList)
		}
		w.common(e)
		if e.QuantityList != nil || e.Sources != nil || e.Destinations != nil || has2(e) {
			w.raw("<extension>")
			w.quantities("quantityList", e.QuantityList)
			w.sourceDest("sourceList", "source", e.Sources)
			w.sourceDest("destinationList", "destination", e.Destinations)
			if has2(e) {
				w.raw("<extension>")
				w.ext2(e)
				w.raw("</extension>")
			}
			w.raw("</extension>")
		}
		w.userExtensions(e)
		w.raw("</TransactionEvent>")
	case TransformationEvent:
		w.raw("<extension>")
		w.open("TransformationEvent", e)
		w.list("inputEPCList", "epc", e.InputEPCList)
		w.quantities("inputQuantityList", e.InputQuantityList)
		w.list("outputEPCList", "epc", e.OutputEPCList)
		w.quantities("outputQuantityList", e.OutputQuantityList)
		if e.TransformationID != "" {
			w.text("transformationID", e.TransformationID)
		}
		w.common(e)
		w.bizTransactions(e.BizTransactions)
		w.sourceDest("sourceList", "source", e.Sources)
		w.sourceDest("destinationList", "destination", e.Destinations)
		w.ilmd(e)
		if has2(e) {
			w.raw("<extension>")
			w.ext2(e)
			w.raw("</extension>")
		}
		w.userExtensions(e)
		w.raw("</TransformationEvent></extension>")
	case AssociationEvent:
		w.raw("<extension><extension>")
		w.open("AssociationEvent", e)
		if e.ParentID != "" {
			w.text("parentID", e.ParentID)
		}
		w.list("childEPCs", "epc", e.ChildEPCs)
		w.quantities("childQuantityList", e.ChildQuantityList)
		w.common(e)
		w.bizTransactions(e.BizTransactions)
		w.sourceDest("sourceList", "source", e.Sources)
		w.sourceDest("destinationList", "destination", e.Destinations)
		w.ext2(e)
		w.userExtensions(e)
		w.raw("</AssociationEvent></extension></extension>")
	default:
		if w.err == nil {
			w.err = fmt.Errorf("%w: event of unknown type", ErrUnsupported)
		}
	}
}
