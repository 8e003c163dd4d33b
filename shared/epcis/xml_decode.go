package epcis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// DecodeXML reads an EPCIS 1.2 XML document (EPCISDocument or
// EPCISQueryDocument), including the extension-wrapped 2.0 event types
// and fields. Extension elements anywhere in events, the header and the
// master data are kept. Malformed XML gives an error wrapping ErrSyntax;
// a document that breaks the rules is returned in full with a
// *ValidationError whose paths are element paths.
//
// It decodes within DefaultLimits; Limits.DecodeXML sets other bounds.
func DecodeXML(data []byte) (*Document, error) {
	return DefaultLimits().DecodeXML(context.Background(), data)
}

// DecodeXML is DecodeXML within the limits and ctx: over a limit, or
// when ctx ends first, the error wraps ErrTooLarge.
func (l Limits) DecodeXML(ctx context.Context, data []byte) (*Document, error) {
	l = l.withDefaults()
	if err := l.checkSize(data); err != nil {
		return nil, err
	}
	root, err := parseXMLTree(ctx, data, l)
	if errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: XML: %v", ErrSyntax, err)
	}
	doc := &Document{}
	ps := problems{max: l.MaxProblems}
	switch {
	case root.local == "EPCISDocument" && (root.space == NSEPCIS || root.space == ""):
		doc.Type = TypeDocument
	case root.local == "EPCISQueryDocument" && (root.space == NSEPCISQuery || root.space == NSEPCIS || root.space == ""):
		doc.Type = TypeQueryDocument
	default:
		return nil, fmt.Errorf("%w: XML root <%s> is not an EPCIS document", ErrSyntax, qname(root.prefix, root.local))
	}
	x := xdec{ps: &ps, p: paths{styleXML}}
	for _, ns := range root.decls {
		doc.Namespaces = append(doc.Namespaces, ns)
	}
	for _, a := range root.attrs {
		switch {
		case a.space == "" && a.local == "schemaVersion":
			doc.SchemaVersion = a.value
		case a.space == "" && a.local == "creationDate":
			doc.CreationDate = x.time(a.value, "@creationDate")
		case a.space == NSXSI:
			// schema location hints are not data
		default:
			doc.Extensions = append(doc.Extensions, Field{Space: a.space, Prefix: a.prefix, Local: a.local, Attr: true, Value: String(a.value)})
		}
	}
	for _, k := range root.kids {
		switch {
		case k.is("EPCISHeader"):
			doc.Header = x.header(doc, k)
		case k.is("EPCISBody"):
			x.body(doc, k)
		default:
			doc.Extensions = append(doc.Extensions, k.toField(0))
		}
	}
	ps.mark()
	if err := validateDoc(ctx, doc, paths{styleXML}, &ps); err != nil {
		return nil, err
	}
	return doc, ps.err()
}

type xdec struct {
	ps     *problems
	p      paths
	counts [6]int // events of each type so far, for element paths
}

// timeAt is time for the child name of the element at base; the path is
// only built for a problem.
func (x *xdec) timeAt(s, base, name string) time.Time {
	t, ok := parseTime(s)
	if !ok {
		x.ps.add(base+"/"+name, quote(s)+" is not an xsd:dateTime with a time zone")
	}
	return t
}

func (x *xdec) time(s, path string) time.Time {
	t, ok := parseTime(s)
	if !ok {
		x.ps.add(path, quote(s)+" is not an xsd:dateTime with a time zone")
	}
	return t
}

func (x *xdec) header(doc *Document, n *xnode) *Header {
	h := &Header{}
	for _, k := range n.kids {
		switch {
		case k.is("extension"):
			for _, kk := range k.kids {
				if kk.is("EPCISMasterData") {
					for _, vl := range kk.kids {
						if vl.is("VocabularyList") {
							h.MasterData = append(h.MasterData, x.vocabularies(vl)...)
						}
					}
					continue
				}
				h.Extensions = append(h.Extensions, kk.toField(0))
			}
		case k.space == NSSBDH && k.local == "StandardBusinessDocumentHeader":
			f := k.toField(0)
			h.Extensions = append(h.Extensions, f)
			doc.Sender = sbdhText(f.Value, "Sender", "Identifier")
			doc.Receiver = sbdhText(f.Value, "Receiver", "Identifier")
			doc.InstanceIdentifier = sbdhText(f.Value, "DocumentIdentification", "InstanceIdentifier")
		default:
			h.Extensions = append(h.Extensions, k.toField(0))
		}
	}
	return h
}

// sbdhText digs a text value out of an SBDH tree (first of repeats).
func sbdhText(v Value, names ...string) string {
	for _, n := range names {
		f, ok := v.Lookup(NSSBDH, n)
		if !ok {
			return ""
		}
		v = f.Value
		if v.Kind == KindArray && len(v.Items) > 0 {
			v = v.Items[0]
		}
	}
	return v.Text
}

func (x *xdec) vocabularies(n *xnode) []Vocabulary {
	var out []Vocabulary
	for _, vn := range n.kids {
		if !vn.is("Vocabulary") {
			continue
		}
		v := Vocabulary{}
		v.Type, _ = vn.attr("type")
		for _, l := range vn.kids {
			if !l.is("VocabularyElementList") {
				continue
			}
			for _, en := range l.kids {
				if !en.is("VocabularyElement") {
					continue
				}
				el := VocabularyElement{}
				el.ID, _ = en.attr("id")
				for _, an := range en.kids {
					switch {
					case an.is("attribute"):
						id, _ := an.attr("id")
						val := String(an.text)
						if len(an.kids) > 0 {
							val = Value{Kind: KindObject, Text: an.text}
							for _, c := range an.kids {
								addGrouped(&val.Fields, c.toField(0))
							}
						}
						el.Attributes = append(el.Attributes, MasterAttribute{ID: id, Value: val})
					case an.is("children"):
						for _, c := range an.kids {
							if c.is("id") {
								el.Children = append(el.Children, c.text)
							}
						}
					}
				}
				v.Elements = append(v.Elements, el)
			}
		}
		out = append(out, v)
	}
	return out
}

func (x *xdec) body(doc *Document, n *xnode) {
	for _, k := range n.kids {
		switch {
		case k.is("EventList"):
			x.eventList(doc, k)
		case k.local == "QueryResults":
			for _, q := range k.kids {
				switch {
				case q.is("queryName"):
					doc.QueryName = q.text
				case q.is("subscriptionID"):
					doc.SubscriptionID = q.text
				case q.is("resultsBody"):
					for _, r := range q.kids {
						if r.is("EventList") {
							x.eventList(doc, r)
						}
					}
				}
			}
		}
	}
}

// eventList collects events, looking through the extension wrappers 1.2
// uses for TransformationEvent and later types.
func (x *xdec) eventList(doc *Document, n *xnode) {
	for _, k := range n.kids {
		if k.is("extension") {
			x.eventList(doc, k)
			continue
		}
		t := ParseEventType(k.local)
		if t == EventUnknown || !(k.space == "" || k.space == NSEPCIS) {
			path := x.p.eventsBase(doc.Type) + "/" + qname(k.prefix, k.local)
			x.ps.add(path, "unsupported event type "+quote(qname(k.prefix, k.local)))
			continue
		}
		doc.Events = append(doc.Events, Event{Type: t})
		x.counts[t]++
		base := x.p.eventsBase(doc.Type) + "/" + t.String() + "[" + strconv.Itoa(x.counts[t]) + "]"
		x.event(&doc.Events[len(doc.Events)-1], k, base)
	}
}

// event fills e from an event element. Children of the no-namespace
// extension and baseExtension wrappers are read as if they stood in the
// event itself.
func (x *xdec) event(e *Event, n *xnode, base string) {
	for _, k := range n.kids {
		if k.space != "" && k.space != NSEPCIS {
			e.Extensions = append(e.Extensions, k.toField(0))
			continue
		}
		switch k.local {
		case "extension", "baseExtension":
			x.event(e, k, base)
		case "eventTime":
			e.EventTime = x.timeAt(k.text, base, k.local)
		case "recordTime":
			e.RecordTime = x.timeAt(k.text, base, k.local)
		case "eventTimeZoneOffset":
			e.EventTimeZoneOffset = k.text
		case "eventID":
			e.EventID = k.text
		case "certificationInfo":
			e.CertificationInfo = append(e.CertificationInfo, k.text)
		case "errorDeclaration":
			ed := &ErrorDeclaration{}
			for _, c := range k.kids {
				switch {
				case c.is("declarationTime"):
					ed.DeclarationTime = x.timeAt(c.text, base, "errorDeclaration/declarationTime")
				case c.is("reason"):
					ed.Reason = canon(cbv.errReason, c.text)
				case c.is("correctiveEventIDs"):
					for _, id := range c.kids {
						if id.is("correctiveEventID") {
							ed.CorrectiveEventIDs = append(ed.CorrectiveEventIDs, id.text)
						}
					}
				case c.is("extension"):
					for _, cc := range c.kids {
						ed.Extensions = append(ed.Extensions, cc.toField(0))
					}
				default:
					ed.Extensions = append(ed.Extensions, c.toField(0))
				}
			}
			e.ErrorDeclaration = ed
		case "epcList":
			e.EPCList = epcs(k)
		case "childEPCs":
			e.ChildEPCs = epcs(k)
		case "inputEPCList":
			e.InputEPCList = epcs(k)
		case "outputEPCList":
			e.OutputEPCList = epcs(k)
		case "quantityList":
			e.QuantityList = quantities(k)
		case "childQuantityList":
			e.ChildQuantityList = quantities(k)
		case "inputQuantityList":
			e.InputQuantityList = quantities(k)
		case "outputQuantityList":
			e.OutputQuantityList = quantities(k)
		case "parentID":
			e.ParentID = k.text
		case "transformationID":
			e.TransformationID = k.text
		case "action":
			e.Action = k.text
		case "bizStep":
			e.BizStep = canon(cbv.bizStep, k.text)
		case "disposition":
			e.Disposition = canon(cbv.disposition, k.text)
		case "persistentDisposition":
			pd := &PersistentDisposition{}
			for _, c := range k.kids {
				switch {
				case c.is("set"):
					pd.Set = append(pd.Set, canon(cbv.disposition, c.text))
				case c.is("unset"):
					pd.Unset = append(pd.Unset, canon(cbv.disposition, c.text))
				}
			}
			e.PersistentDisposition = pd
		case "readPoint":
			e.ReadPoint = location(k)
		case "bizLocation":
			e.BizLocation = location(k)
		case "bizTransactionList":
			for _, c := range k.kids {
				if c.is("bizTransaction") {
					t, _ := c.attr("type")
					if t != "" {
						t = canon(cbv.btt, t)
					}
					e.BizTransactions = append(e.BizTransactions, BizTransaction{Type: t, Value: c.text})
				}
			}
		case "sourceList":
			e.Sources = sourceDest(k, "source")
		case "destinationList":
			e.Destinations = sourceDest(k, "destination")
		case "sensorElementList":
			for _, c := range k.kids {
				if c.is("sensorElement") {
					e.SensorElements = append(e.SensorElements, sensorElement(c))
				}
			}
		case "ilmd":
			e.ILMD = []Field{}
			for _, c := range k.kids {
				if c.is("extension") {
					for _, cc := range c.kids {
						addGrouped(&e.ILMD, cc.toField(0))
					}
					continue
				}
				addGrouped(&e.ILMD, c.toField(0))
			}
		default:
			e.Extensions = append(e.Extensions, k.toField(0))
		}
	}
	for _, a := range n.attrs {
		e.Extensions = append(e.Extensions, Field{Space: a.space, Prefix: a.prefix, Local: a.local, Attr: true, Value: String(a.value)})
	}
}

func epcs(n *xnode) []string {
	var out []string
	for _, c := range n.kids {
		if c.is("epc") {
			out = append(out, c.text)
		}
	}
	return out
}

func quantities(n *xnode) []Quantity {
	var out []Quantity
	for _, c := range n.kids {
		if !c.is("quantityElement") {
			continue
		}
		var q Quantity
		for _, f := range c.kids {
			switch {
			case f.is("epcClass"):
				q.EPCClass = f.text
			case f.is("quantity"):
				q.Quantity = f.text
			case f.is("uom"):
				q.UOM = f.text
			}
		}
		out = append(out, q)
	}
	return out
}

func location(n *xnode) *Location {
	l := &Location{}
	for _, c := range n.kids {
		switch {
		case c.is("id"):
			l.ID = c.text
		case c.is("extension"):
			for _, cc := range c.kids {
				l.Extensions = append(l.Extensions, cc.toField(0))
			}
		default:
			l.Extensions = append(l.Extensions, c.toField(0))
		}
	}
	return l
}

func sourceDest(n *xnode, item string) []SourceDest {
	var out []SourceDest
	for _, c := range n.kids {
		if c.is(item) {
			t, _ := c.attr("type")
			out = append(out, SourceDest{Type: canon(cbv.sdt, t), ID: c.text})
		}
	}
	return out
}

// sensorElement converts a sensorElement; sensorReport is always an
// array, and the numeric and boolean report attributes get their JSON
// kinds.
func sensorElement(n *xnode) Value {
	v := n.toValue(0)
	if v.Kind != KindObject {
		v = Value{Kind: KindObject}
	}
	for i := range v.Fields {
		f := &v.Fields[i]
		if f.Space != "" || f.Local != "sensorReport" {
			continue
		}
		if f.Value.Kind != KindArray {
			f.Value = Value{Kind: KindArray, Items: []Value{f.Value}}
		}
		for j := range f.Value.Items {
			typeSensorAttrs(&f.Value.Items[j])
		}
	}
	return v
}

func typeSensorAttrs(v *Value) {
	for i := range v.Fields {
		f := &v.Fields[i]
		if !f.Attr || f.Space != "" || f.Value.Kind != KindString {
			continue
		}
		switch f.Local {
		case "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue":
			if isDecimal(f.Value.Text) {
				f.Value.Kind = KindNumber
			} else if _, err := strconv.ParseFloat(f.Value.Text, 64); err == nil {
				f.Value.Kind = KindNumber
				f.Value.Text = strconv.FormatFloat(mustFloat(f.Value.Text), 'g', -1, 64)
			}
		case "booleanValue":
			if f.Value.Text == "true" || f.Value.Text == "false" {
				f.Value.Kind = KindBool
			}
		}
	}
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
