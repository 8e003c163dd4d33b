package epcis

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// StandardContext is the EPCIS 2.0 JSON-LD context URL.
const StandardContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// EncodeJSON writes the document as EPCIS 2.0 JSON-LD. It refuses (with
// ErrInvalid) a document that does not validate, so what it writes is
// always valid.
func EncodeJSON(doc *Document) ([]byte, error) {
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	return AppendJSON(make([]byte, 0, 512+len(doc.Events)*600), doc)
}

// AppendJSON appends the JSON-LD form of doc to dst without validating
// it first. Vocabulary values are written in their bare CBV form.
func AppendJSON(dst []byte, doc *Document) ([]byte, error) {
	e := jenc{b: dst}
	e.prefixes = newPrefixTable(doc, false)
	e.document(doc)
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

type jenc struct {
	b        []byte
	prefixes *prefixTable
	err      error
}

// prefixTable assigns one prefix to each namespace used by the document's
// fields, keeping the fields' own prefixes where they do not clash.
type prefixTable struct {
	bySpace  map[string]string // space -> prefix
	byPrefix map[string]string // prefix -> space
	order    []Namespace       // prefixes to declare, in first-use order
	declared map[string]string // prefix -> IRI already in doc.Context
	xml      bool
}

func newPrefixTable(doc *Document, forXML bool) *prefixTable {
	t := &prefixTable{xml: forXML}
	if !forXML && doc.Context != nil {
		for _, ns := range doc.Namespaces {
			if t.declared == nil {
				t.declared = map[string]string{}
			}
			t.declared[ns.Prefix] = ns.IRI
		}
	}
	walkFields(doc, func(f *Field) { t.use(f) })
	return t
}

func (t *prefixTable) use(f *Field) {
	if f.Space == "" {
		return
	}
	if t.bySpace == nil {
		t.bySpace = map[string]string{}
		t.byPrefix = map[string]string{}
	}
	if _, ok := t.bySpace[f.Space]; ok {
		return
	}
	p := f.Prefix
	if !t.xml && p != "" && f.Space == p+":" {
		// An undeclared JSON-LD prefix: the name is an IRI as it stands.
		t.bySpace[f.Space] = p
		t.byPrefix[p] = f.Space
		return
	}
	if p == "" || !validNCName(p) || p == "xml" || p == "xmlns" {
		p = "ns"
	}
	if s, taken := t.byPrefix[p]; (taken && s != f.Space) || t.clashes(p, f.Space) {
		base := p
		for n := 1; ; n++ {
			p = base + strconv.Itoa(n)
			if _, taken := t.byPrefix[p]; !taken && !t.clashes(p, f.Space) {
				break
			}
		}
	}
	t.bySpace[f.Space] = p
	t.byPrefix[p] = f.Space
	if t.xml {
		t.order = append(t.order, Namespace{Prefix: p, IRI: f.Space})
		return
	}
	iri := iriOfSpace(f.Space)
	if t.declared[p] == iri || spaceOfIRI(t.declared[p]) == f.Space && t.declared[p] != "" {
		return
	}
	if b, ok := builtinPrefix(p); ok && spaceOfIRI(b) == f.Space && t.declared[p] == "" {
		return
	}
	t.order = append(t.order, Namespace{Prefix: p, IRI: iri})
}

// clashes reports whether prefix p is bound, by the kept context or by
// the standard context, to a namespace other than space.
func (t *prefixTable) clashes(p, space string) bool {
	if t.xml {
		return false
	}
	if iri, ok := t.declared[p]; ok {
		return spaceOfIRI(iri) != space
	}
	if b, ok := builtinPrefix(p); ok {
		return spaceOfIRI(b) != space
	}
	return false
}

func (t *prefixTable) prefix(f *Field) string {
	if f.Space == "" {
		return f.Prefix
	}
	return t.bySpace[f.Space]
}

func (e *jenc) str(s string) {
	e.b = appendJSONString(e.b, s)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, "89"[r-'\u2028'])
				i += n
				start = i
				continue
			}
			i += n
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (e *jenc) key(k string) {
	e.b = append(e.b, ',', '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *jenc) strField(k, v string) {
	if v == "" {
		return
	}
	e.key(k)
	e.str(v)
}

func (e *jenc) timeField(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	e.key(k)
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
}

func (e *jenc) strList(k string, l []string) {
	if l == nil {
		return
	}
	e.key(k)
	e.b = append(e.b, '[')
	for i, s := range l {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

func (e *jenc) document(doc *Document) {
	e.b = append(e.b, `{"@context":`...)
	e.context(doc)
	e.key("type")
	e.str(doc.Type.String())
	e.strField("id", doc.ID)
	v := doc.SchemaVersion
	if !validVersion(v) || v[0] != '2' {
		v = "2.0"
	}
	e.key("schemaVersion")
	e.str(v)
	e.timeField("creationDate", doc.CreationDate)
	if doc.Type == TypeDocument {
		e.strField("sender", doc.Sender)
		e.strField("receiver", doc.Receiver)
		e.strField("instanceIdentifier", doc.InstanceIdentifier)
		if h := doc.Header; h != nil && (len(h.MasterData) > 0 || len(h.Extensions) > 0) {
			e.key("epcisHeader")
			e.b = append(e.b, '{')
			n := 0
			if len(h.MasterData) > 0 {
				e.b = append(e.b, `"epcisMasterData":{"vocabularyList":`...)
				e.vocabularies(h.MasterData)
				e.b = append(e.b, '}')
				n++
			}
			e.fields(h.Extensions, n > 0, false)
			e.b = append(e.b, '}')
		}
	}
	e.fields(doc.Extensions, true, false)
	e.key("epcisBody")
	if doc.Type == TypeQueryDocument {
		e.b = append(e.b, `{"queryResults":{"queryName":`...)
		e.str(doc.QueryName)
		e.strField("subscriptionID", doc.SubscriptionID)
		e.b = append(e.b, `,"resultsBody":{"eventList":`...)
		e.events(doc.Events)
		if doc.Header != nil && len(doc.Header.MasterData) > 0 {
			e.key("vocabularyList")
			e.vocabularies(doc.Header.MasterData)
		}
		e.b = append(e.b, "}}}}"...)
		return
	}
	e.b = append(e.b, `{"eventList":`...)
	e.events(doc.Events)
	e.b = append(e.b, "}}"...)
}

// validVersion matches ^\d+(\.\d+)*$.
func validVersion(v string) bool {
	if v == "" || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '.' {
			if v[i-1] == '.' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (e *jenc) context(doc *Document) {
	e.b = append(e.b, '[')
	if doc.Context == nil {
		e.str(StandardContext)
	} else {
		for i := range doc.Context {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.value(&doc.Context[i], false)
		}
	}
	if len(e.prefixes.order) > 0 {
		if len(doc.Context) > 0 || doc.Context == nil {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, '{')
		for i, ns := range e.prefixes.order {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.str(ns.Prefix)
			e.b = append(e.b, ':')
			e.str(ns.IRI)
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

func (e *jenc) vocabularies(vs []Vocabulary) {
	e.b = append(e.b, '[')
	for i, v := range vs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, `{"type":`...)
		e.str(v.Type)
		if v.Elements != nil {
			e.b = append(e.b, `,"vocabularyElementList":[`...)
			for j, el := range v.Elements {
				if j > 0 {
					e.b = append(e.b, ',')
				}
				e.b = append(e.b, `{"id":`...)
				e.str(el.ID)
				if el.Attributes != nil {
					e.b = append(e.b, `,"attributes":[`...)
					for k := range el.Attributes {
						if k > 0 {
							e.b = append(e.b, ',')
						}
						e.b = append(e.b, `{"id":`...)
						e.str(el.Attributes[k].ID)
						e.b = append(e.b, `,"attribute":`...)
						e.value(&el.Attributes[k].Value, false)
						e.b = append(e.b, '}')
					}
					e.b = append(e.b, ']')
				}
				e.strList("children", el.Children)
				e.b = append(e.b, '}')
			}
			e.b = append(e.b, ']')
		}
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

func (e *jenc) events(evs []Event) {
	e.b = append(e.b, '[')
	for i := range evs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.event(&evs[i])
	}
	e.b = append(e.b, ']')
}

func (e *jenc) event(ev *Event) {
	e.b = append(e.b, `{"type":`...)
	e.str(ev.Type.String())
	for _, x := range ev.Extensions {
		if x.Local == "@context" && x.Prefix == "" {
			e.key("@context")
			e.value(&x.Value, false)
		}
	}
	e.timeField("eventTime", ev.EventTime)
	e.strField("eventTimeZoneOffset", ev.EventTimeZoneOffset)
	e.timeField("recordTime", ev.RecordTime)
	e.strField("eventID", ev.EventID)
	switch len(ev.CertificationInfo) {
	case 0:
	case 1:
		e.strField("certificationInfo", ev.CertificationInfo[0])
	default:
		e.strList("certificationInfo", ev.CertificationInfo)
	}
	if ed := ev.ErrorDeclaration; ed != nil {
		e.key("errorDeclaration")
		e.b = append(e.b, '{')
		e.b = append(e.b, `"declarationTime":"`...)
		e.b = ed.DeclarationTime.AppendFormat(e.b, time.RFC3339Nano)
		e.b = append(e.b, '"')
		e.strField("reason", ed.Reason)
		e.strList("correctiveEventIDs", ed.CorrectiveEventIDs)
		e.fields(ed.Extensions, true, false)
		e.b = append(e.b, '}')
	}
	e.strList("epcList", ev.EPCList)
	e.quantities("quantityList", ev.QuantityList)
	e.strField("parentID", ev.ParentID)
	e.strList("childEPCs", ev.ChildEPCs)
	e.quantities("childQuantityList", ev.ChildQuantityList)
	e.strList("inputEPCList", ev.InputEPCList)
	e.quantities("inputQuantityList", ev.InputQuantityList)
	e.strList("outputEPCList", ev.OutputEPCList)
	e.quantities("outputQuantityList", ev.OutputQuantityList)
	e.strField("transformationID", ev.TransformationID)
	e.strField("action", ev.Action)
	e.strField("bizStep", ev.BizStep)
	e.strField("disposition", ev.Disposition)
	if pd := ev.PersistentDisposition; pd != nil {
		e.key("persistentDisposition")
		e.b = append(e.b, '{')
		n := len(e.b)
		e.strList("set", pd.Set)
		e.strList("unset", pd.Unset)
		if len(e.b) > n {
			e.b = append(e.b[:n], e.b[n+1:]...) // drop the leading comma
		}
		e.b = append(e.b, '}')
	}
	e.location("readPoint", ev.ReadPoint)
	e.location("bizLocation", ev.BizLocation)
	if ev.BizTransactions != nil {
		e.key("bizTransactionList")
		e.b = append(e.b, '[')
		for i, bt := range ev.BizTransactions {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, '{')
			if bt.Type != "" {
				e.b = append(e.b, `"type":`...)
				e.str(bt.Type)
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, `"bizTransaction":`...)
			e.str(bt.Value)
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
	}
	e.sourceDest("sourceList", "source", ev.Sources)
	e.sourceDest("destinationList", "destination", ev.Destinations)
	if ev.SensorElements != nil {
		e.key("sensorElementList")
		e.b = append(e.b, '[')
		for i := range ev.SensorElements {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.value(&ev.SensorElements[i], true)
		}
		e.b = append(e.b, ']')
	}
	if ev.ILMD != nil {
		e.key("ilmd")
		e.b = append(e.b, '{')
		e.fields(ev.ILMD, false, false)
		e.b = append(e.b, '}')
	}
	for i := range ev.Extensions {
		x := &ev.Extensions[i]
		if x.Local == "@context" && x.Prefix == "" {
			continue
		}
		e.key(e.name(x, false))
		e.value(&x.Value, false)
	}
	e.b = append(e.b, '}')
}

func (e *jenc) location(k string, l *Location) {
	if l == nil {
		return
	}
	e.key(k)
	e.b = append(e.b, `{"id":`...)
	e.str(l.ID)
	e.fields(l.Extensions, true, false)
	e.b = append(e.b, '}')
}

func (e *jenc) sourceDest(k, item string, l []SourceDest) {
	if l == nil {
		return
	}
	e.key(k)
	e.b = append(e.b, '[')
	for i, sd := range l {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, `{"type":`...)
		e.str(sd.Type)
		e.b = append(e.b, ',', '"')
		e.b = append(e.b, item...)
		e.b = append(e.b, '"', ':')
		e.str(sd.ID)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

func (e *jenc) quantities(k string, l []Quantity) {
	if l == nil {
		return
	}
	e.key(k)
	e.b = append(e.b, '[')
	for i, q := range l {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, `{"epcClass":`...)
		e.str(q.EPCClass)
		if q.Quantity != "" {
			e.b = append(e.b, `,"quantity":`...)
			if isDecimal(q.Quantity) {
				e.b = append(e.b, q.Quantity...)
			} else {
				e.str(q.Quantity)
			}
		}
		e.strField("uom", q.UOM)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, ']')
}

// name renders a field's member name. plainAttrs drops the '@' that
// otherwise marks attributes (sensor metadata and reports use bare names).
func (e *jenc) name(f *Field, plainAttrs bool) string {
	p := e.prefixes.prefix(f)
	n := f.Local
	if p != "" {
		n = p + ":" + n
	}
	if f.Attr && !plainAttrs {
		n = "@" + n
	}
	return n
}

// fields writes object members; comma says whether one must precede the
// first.
func (e *jenc) fields(fs []Field, comma, plainAttrs bool) {
	for i := range fs {
		if comma || i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(e.name(&fs[i], plainAttrs))
		e.b = append(e.b, ':')
		e.value(&fs[i].Value, plainAttrs)
	}
}

func (e *jenc) value(v *Value, sensor bool) {
	switch v.Kind {
	case KindString:
		e.str(v.Text)
	case KindNumber:
		if isDecimal(v.Text) {
			e.b = append(e.b, v.Text...)
		} else {
			e.str(v.Text)
		}
	case KindBool:
		if v.Text == "true" {
			e.b = append(e.b, "true"...)
		} else {
			e.b = append(e.b, "false"...)
		}
	case KindNull:
		e.b = append(e.b, "null"...)
	case KindObject:
		e.b = append(e.b, '{')
		comma := false
		if v.Text != "" {
			e.b = append(e.b, `"@value":`...)
			e.str(v.Text)
			comma = true
		}
		e.fields(v.Fields, comma, sensor)
		e.b = append(e.b, '}')
	case KindArray:
		e.b = append(e.b, '[')
		for i := range v.Items {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.value(&v.Items[i], sensor)
		}
		e.b = append(e.b, ']')
	default:
		if e.err == nil {
			e.err = fmt.Errorf("%w: value of unknown kind %d", ErrUnsupported, v.Kind)
		}
		e.b = append(e.b, "null"...)
	}
}
