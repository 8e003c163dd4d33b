package epcis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DecodeJSON reads an EPCIS 2.0 JSON-LD document (EPCISDocument or
// EPCISQueryDocument). Malformed JSON gives an error wrapping ErrSyntax.
// A document that parses but breaks the rules is returned in full
// together with a *ValidationError (wrapping ErrInvalid) whose paths are
// JSON paths.
//
// It decodes within DefaultLimits; Limits.DecodeJSON sets other bounds.
func DecodeJSON(data []byte) (*Document, error) {
	return DefaultLimits().DecodeJSON(context.Background(), data)
}

// DecodeJSON is DecodeJSON within the limits and ctx: over a limit, or
// when ctx ends first, the error wraps ErrTooLarge.
func (l Limits) DecodeJSON(ctx context.Context, data []byte) (*Document, error) {
	l = l.withDefaults()
	if err := l.checkSize(data); err != nil {
		return nil, err
	}
	d := &jdec{s: jscan{b: string(data), ctx: ctx, maxNodes: l.MaxNodes, maxDepth: l.jsonDepth()},
		ps: problems{max: l.MaxProblems}, maxEvents: l.MaxEvents}
	doc := d.document()
	if d.s.stop != nil {
		return nil, d.s.stop
	}
	if d.s.err != "" {
		return nil, fmt.Errorf("%w: JSON at offset %d: %s", ErrSyntax, d.s.at, d.s.err)
	}
	if d.s.peek() != 0 {
		return nil, fmt.Errorf("%w: JSON at offset %d: data after the document", ErrSyntax, d.s.i)
	}
	resolveJSONSpaces(doc)
	d.ps.mark()
	if err := validateDoc(ctx, doc, paths{styleJSON}, &d.ps); err != nil {
		return nil, err
	}
	return doc, d.ps.err()
}

type jdec struct {
	s     jscan
	ps    problems
	zones zoneCache
	slab  slabs
	// events counts the events of every list so far, against maxEvents.
	events, maxEvents int
}

// slabs hand out the small slices and structs of events from shared
// backing arrays, so a document of thousands of events costs a handful
// of allocations instead of several per event. Each slice is capped at
// its length: appending to it reallocates instead of overwriting a
// neighbour.
type slabs struct {
	strs []string
	bts  []BizTransaction
	sds  []SourceDest
	qs   []Quantity
	locs []Location

	// Scratch space for the list being read.
	tmpStrs []string
	tmpBTs  []BizTransaction
	tmpSDs  []SourceDest
	tmpQs   []Quantity
}

const slabSize = 256

// carve copies items into the slab and returns the copy.
func carve[T any](slab *[]T, items []T) []T {
	n := len(items)
	if n == 0 {
		return []T{}
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(slabSize, n))
	}
	start := len(*slab)
	*slab = append(*slab, items...)
	return (*slab)[start:len(*slab):len(*slab)]
}

func (sl *slabs) location() *Location {
	if len(sl.locs) == cap(sl.locs) {
		sl.locs = make([]Location, 0, slabSize)
	}
	sl.locs = sl.locs[:len(sl.locs)+1]
	return &sl.locs[len(sl.locs)-1]
}

// typeProblem records a value of the wrong JSON type and skips it.
func (d *jdec) typeProblem(path, want string) {
	d.ps.add(path, "want "+want)
	d.s.skip()
}

// jp joins a JSON path: base.name, with [idx] when idx >= 0. Paths are
// only built when a problem is reported.
func jp(base, name string, idx int) string {
	p := name
	if base != "" {
		p = base + "." + name
	}
	if idx >= 0 {
		p += "[" + strconv.Itoa(idx) + "]"
	}
	return p
}

// idx renders base[n].
func idx(base string, n int) string { return base + "[" + strconv.Itoa(n) + "]" }

// strLazy reads a string, building the path only for a problem.
func (d *jdec) strLazy(path func() string, name string) string {
	if d.s.peek() != '"' {
		d.typeProblem(path()+"."+name, "a string")
		return ""
	}
	return d.s.str()
}

func (d *jdec) strAt(base, name string) string {
	if d.s.peek() != '"' {
		d.typeProblem(jp(base, name, -1), "a string")
		return ""
	}
	return d.s.str()
}

func (d *jdec) timeAt(base, name string) time.Time {
	if d.s.peek() != '"' {
		d.typeProblem(jp(base, name, -1), "a date-time string")
		return time.Time{}
	}
	raw := d.s.str()
	t, ok := d.zones.parse(raw)
	if !ok {
		d.ps.add(jp(base, name, -1), quote(raw)+" is not an RFC 3339 date-time with a time zone")
	}
	return t
}

func (d *jdec) strList(base, name string) []string {
	if d.s.peek() != '[' {
		d.typeProblem(jp(base, name, -1), "an array of strings")
		return nil
	}
	d.s.i++
	out := d.slab.tmpStrs[:0]
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		if d.s.peek() != '"' {
			d.typeProblem(jp(base, name, n), "a string")
			continue
		}
		out = append(out, d.s.str())
	}
	d.slab.tmpStrs = out
	return carve(&d.slab.strs, out)
}

func (d *jdec) document() *Document {
	doc := &Document{}
	if d.s.peek() != '{' {
		d.s.fail("want a JSON object")
		return doc
	}
	d.s.objStart()
	var typ string
	hasContext := false
	first := true
	for d.s.more(&first, '}') {
		k := d.s.key()
		switch k {
		case "@context":
			hasContext = true
			d.context(doc)
		case "type":
			typ = d.strAt("", "type")
		case "id":
			doc.ID = d.strAt("", "id")
		case "schemaVersion":
			doc.SchemaVersion = d.strAt("", "schemaVersion")
		case "creationDate":
			doc.CreationDate = d.timeAt("", "creationDate")
		case "sender":
			doc.Sender = d.strAt("", "sender")
		case "receiver":
			doc.Receiver = d.strAt("", "receiver")
		case "instanceIdentifier":
			doc.InstanceIdentifier = d.strAt("", "instanceIdentifier")
		case "epcisHeader":
			doc.Header = d.header()
		case "epcisBody":
			d.body(doc)
		default:
			f := splitName(k)
			f.Value = d.s.value(0)
			doc.Extensions = append(doc.Extensions, f)
		}
	}
	if !hasContext {
		// GS1's schema requires it of both document types: without it
		// the terms are not EPCIS terms to a JSON-LD reader.
		d.ps.add("@context", "missing @context: an EPCIS 2.0 JSON-LD document names the EPCIS context")
	}
	switch typ {
	case "EPCISDocument":
		doc.Type = TypeDocument
	case "EPCISQueryDocument":
		doc.Type = TypeQueryDocument
	case "":
		d.ps.add("type", "missing document type")
	default:
		d.ps.add("type", "document type "+quote(typ)+" is not EPCISDocument or EPCISQueryDocument")
	}
	return doc
}

func (d *jdec) context(doc *Document) {
	v := d.s.value(0)
	switch v.Kind {
	case KindArray:
		doc.Context = v.Items
	case KindString, KindObject:
		doc.Context = []Value{v}
	default:
		d.ps.add("@context", "want a string, an object or an array")
		return
	}
	for _, c := range doc.Context {
		if c.Kind != KindObject {
			continue
		}
		for _, f := range c.Fields {
			name := f.Local
			if f.Prefix != "" {
				continue // term definitions such as "rail:vehicle": {...}
			}
			switch f.Value.Kind {
			case KindString:
				doc.Namespaces = append(doc.Namespaces, Namespace{Prefix: name, IRI: f.Value.Text})
			case KindObject:
				if id, ok := f.Value.Lookup("", "id"); ok && id.Attr && id.Value.Kind == KindString {
					doc.Namespaces = append(doc.Namespaces, Namespace{Prefix: name, IRI: id.Value.Text})
				}
			}
		}
	}
}

func (d *jdec) header() *Header {
	h := &Header{}
	if d.s.peek() != '{' {
		d.typeProblem("epcisHeader", "an object")
		return h
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		k := d.s.key()
		if k != "epcisMasterData" {
			f := splitName(k)
			f.Value = d.s.value(0)
			h.Extensions = append(h.Extensions, f)
			continue
		}
		if d.s.peek() != '{' {
			d.typeProblem("epcisHeader.epcisMasterData", "an object")
			continue
		}
		d.s.i++
		f2 := true
		for d.s.more(&f2, '}') {
			if d.s.key() != "vocabularyList" {
				d.s.skip()
				continue
			}
			h.MasterData = append(h.MasterData, d.vocabularyList("epcisHeader.epcisMasterData.vocabularyList")...)
		}
	}
	return h
}

func (d *jdec) vocabularyList(path string) []Vocabulary {
	if d.s.peek() != '[' {
		d.typeProblem(path, "an array")
		return nil
	}
	d.s.i++
	var out []Vocabulary
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		vp := idx(path, n)
		var v Vocabulary
		if d.s.peek() != '{' {
			d.typeProblem(vp, "an object")
			continue
		}
		d.s.i++
		f := true
		for d.s.more(&f, '}') {
			switch d.s.key() {
			case "type":
				v.Type = d.strAt(vp, "type")
			case "vocabularyElementList":
				v.Elements = d.vocabElements(vp + ".vocabularyElementList")
			default:
				d.s.skip()
			}
		}
		out = append(out, v)
	}
	return out
}

func (d *jdec) vocabElements(path string) []VocabularyElement {
	if d.s.peek() != '[' {
		d.typeProblem(path, "an array")
		return nil
	}
	d.s.i++
	var out []VocabularyElement
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		ep := idx(path, n)
		var el VocabularyElement
		if d.s.peek() != '{' {
			d.typeProblem(ep, "an object")
			continue
		}
		d.s.i++
		f := true
		for d.s.more(&f, '}') {
			switch d.s.key() {
			case "id":
				el.ID = d.strAt(ep, "id")
			case "children":
				el.Children = d.strList(ep, "children")
			case "attributes":
				if d.s.peek() != '[' {
					d.typeProblem(ep+".attributes", "an array")
					continue
				}
				d.s.i++
				fa := true
				for m := 0; d.s.more(&fa, ']'); m++ {
					ap := idx(ep+".attributes", m)
					var a MasterAttribute
					if d.s.peek() != '{' {
						d.typeProblem(ap, "an object")
						continue
					}
					d.s.i++
					fb := true
					for d.s.more(&fb, '}') {
						switch d.s.key() {
						case "id":
							a.ID = d.strAt(ap, "id")
						case "attribute":
							a.Value = d.s.value(0)
						default:
							d.s.skip()
						}
					}
					el.Attributes = append(el.Attributes, a)
				}
			default:
				d.s.skip()
			}
		}
		out = append(out, el)
	}
	return out
}

func (d *jdec) body(doc *Document) {
	if d.s.peek() != '{' {
		d.typeProblem("epcisBody", "an object")
		return
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		switch d.s.key() {
		case "eventList":
			doc.Events = d.eventList("epcisBody.eventList")
		case "queryResults":
			d.queryResults(doc)
		default:
			d.s.skip()
		}
	}
}

func (d *jdec) queryResults(doc *Document) {
	const qp = "epcisBody.queryResults"
	if d.s.peek() != '{' {
		d.typeProblem(qp, "an object")
		return
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		switch d.s.key() {
		case "queryName":
			doc.QueryName = d.strAt(qp, "queryName")
		case "subscriptionID":
			doc.SubscriptionID = d.strAt(qp, "subscriptionID")
		case "resultsBody":
			if d.s.peek() != '{' {
				d.typeProblem(qp+".resultsBody", "an object")
				continue
			}
			d.s.i++
			f := true
			for d.s.more(&f, '}') {
				switch d.s.key() {
				case "eventList":
					doc.Events = d.eventList(qp + ".resultsBody.eventList")
				case "vocabularyList":
					if doc.Header == nil {
						doc.Header = &Header{}
					}
					doc.Header.MasterData = append(doc.Header.MasterData, d.vocabularyList(qp+".resultsBody.vocabularyList")...)
				default:
					d.s.skip()
				}
			}
		default:
			d.s.skip()
		}
	}
}

func (d *jdec) eventList(path string) []Event {
	if d.s.peek() != '[' {
		d.typeProblem(path, "an array")
		return nil
	}
	n := countItems(d.s.b, d.s.i)
	if d.maxEvents > 0 && d.events+n > d.maxEvents {
		d.s.over(tooLarge("more than %d events", d.maxEvents))
		return nil
	}
	d.events += n
	out := make([]Event, 0, n)
	d.s.i++
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		out = append(out, Event{})
		d.event(&out[len(out)-1], path+"["+strconv.Itoa(n)+"]")
	}
	return out
}

func (d *jdec) event(e *Event, base string) {
	if d.s.peek() != '{' {
		d.typeProblem(base, "an event object")
		return
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		k := d.s.key()
		switch k {
		case "type":
			t := d.strAt(base, "type")
			e.Type = ParseEventType(t)
			if e.Type == EventUnknown {
				d.ps.add(base+".type", "unsupported event type "+quote(t))
			}
		case "eventTime":
			e.EventTime = d.timeAt(base, "eventTime")
		case "eventTimeZoneOffset":
			e.EventTimeZoneOffset = d.strAt(base, "eventTimeZoneOffset")
		case "recordTime":
			e.RecordTime = d.timeAt(base, "recordTime")
		case "eventID":
			e.EventID = d.strAt(base, "eventID")
		case "certificationInfo":
			if d.s.peek() == '"' {
				e.CertificationInfo = []string{d.s.str()}
			} else {
				e.CertificationInfo = d.strList(base, "certificationInfo")
			}
		case "errorDeclaration":
			e.ErrorDeclaration = d.errorDeclaration(base, "errorDeclaration")
		case "action":
			e.Action = d.strAt(base, "action")
		case "bizStep":
			e.BizStep = canon(cbv.bizStep, d.strAt(base, "bizStep"))
		case "disposition":
			e.Disposition = canon(cbv.disposition, d.strAt(base, "disposition"))
		case "persistentDisposition":
			e.PersistentDisposition = d.persistent(base, "persistentDisposition")
		case "readPoint":
			e.ReadPoint = d.location(base, "readPoint")
		case "bizLocation":
			e.BizLocation = d.location(base, "bizLocation")
		case "bizTransactionList":
			e.BizTransactions = d.bizTransactions(base, "bizTransactionList")
		case "sourceList":
			e.Sources = d.sourceDest(base, "sourceList", "source")
		case "destinationList":
			e.Destinations = d.sourceDest(base, "destinationList", "destination")
		case "sensorElementList":
			v := d.s.value(0)
			if v.Kind != KindArray {
				d.ps.add(base+".sensorElementList", "want an array")
				continue
			}
			for i := range v.Items {
				markSensorAttrs(&v.Items[i])
			}
			e.SensorElements = v.Items
		case "ilmd":
			v := d.s.value(0)
			if v.Kind != KindObject {
				d.ps.add(base+".ilmd", "want an object")
				continue
			}
			e.ILMD = v.Fields
			if e.ILMD == nil {
				e.ILMD = []Field{}
			}
		case "epcList":
			e.EPCList = d.strList(base, "epcList")
		case "quantityList":
			e.QuantityList = d.quantities(base, "quantityList")
		case "parentID":
			e.ParentID = d.strAt(base, "parentID")
		case "childEPCs":
			e.ChildEPCs = d.strList(base, "childEPCs")
		case "childQuantityList":
			e.ChildQuantityList = d.quantities(base, "childQuantityList")
		case "inputEPCList":
			e.InputEPCList = d.strList(base, "inputEPCList")
		case "inputQuantityList":
			e.InputQuantityList = d.quantities(base, "inputQuantityList")
		case "outputEPCList":
			e.OutputEPCList = d.strList(base, "outputEPCList")
		case "outputQuantityList":
			e.OutputQuantityList = d.quantities(base, "outputQuantityList")
		case "transformationID":
			e.TransformationID = d.strAt(base, "transformationID")
		case "@context":
			e.Extensions = append(e.Extensions, Field{Local: "@context", Value: d.s.value(0)})
		default:
			var f Field
			if p, l, ok := strings.Cut(k, ":"); ok && p != "" && l != "" {
				f.Prefix, f.Local = p, l
			} else {
				f.Local = k
			}
			f.Value = d.s.value(0)
			e.Extensions = append(e.Extensions, f)
		}
	}
}

// countItems counts the items of the array starting at b[i] ('['), so
// the event slice is allocated once. It only tracks nesting and strings;
// the parser proper reports any syntax error.
func countItems(b string, i int) int {
	depth, n, empty := 0, 0, true
	for i < len(b) {
		c := b[i]
		switch c {
		case '"':
			// Jump to the closing quote: one not preceded by an odd run of
			// backslashes.
			j := i + 1
			for {
				q := strings.IndexByte(b[j:], '"')
				if q < 0 {
					return n
				}
				j += q
				k := j - 1
				for k > i && b[k] == '\\' {
					k--
				}
				if (j-1-k)%2 == 0 {
					break
				}
				j++
			}
			i = j + 1
			empty = false
			continue
		case '[', '{':
			if depth == 1 {
				empty = false
			}
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if !empty {
					n++
				}
				return n
			}
		case ',':
			if depth == 1 {
				n++
			}
		case ' ', '\t', '\n', '\r':
		default:
			empty = false
		}
		i++
	}
	return n
}

// canon returns the canonical vocabulary value, or s unchanged when it
// is not acceptable (validation reports it).
func canon(v *vocab, s string) string {
	c, _, _ := v.canonical(s)
	return c
}

// markSensorAttrs marks the scalar members of sensorMetadata and each
// sensorReport as attributes, which is how XML carries them.
func markSensorAttrs(se *Value) {
	for i := range se.Fields {
		f := &se.Fields[i]
		if f.Space != "" || f.Prefix != "" {
			continue
		}
		switch f.Local {
		case "sensorMetadata":
			markScalarAttrs(&f.Value)
		case "sensorReport":
			if f.Value.Kind == KindArray {
				for j := range f.Value.Items {
					markScalarAttrs(&f.Value.Items[j])
				}
			}
		}
	}
}

func markScalarAttrs(v *Value) {
	for i := range v.Fields {
		if k := v.Fields[i].Value.Kind; k != KindObject && k != KindArray {
			v.Fields[i].Attr = true
		}
	}
}

func (d *jdec) errorDeclaration(base, name string) *ErrorDeclaration {
	ed := &ErrorDeclaration{}
	if d.s.peek() != '{' {
		d.typeProblem(jp(base, name, -1), "an object")
		return ed
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		k := d.s.key()
		switch k {
		case "declarationTime":
			ed.DeclarationTime = d.timeAt(jp(base, name, -1), "declarationTime")
		case "reason":
			ed.Reason = canon(cbv.errReason, d.strAt(jp(base, name, -1), "reason"))
		case "correctiveEventIDs":
			ed.CorrectiveEventIDs = d.strList(jp(base, name, -1), "correctiveEventIDs")
		default:
			f := splitName(k)
			f.Value = d.s.value(0)
			ed.Extensions = append(ed.Extensions, f)
		}
	}
	return ed
}

func (d *jdec) persistent(base, name string) *PersistentDisposition {
	pd := &PersistentDisposition{}
	if d.s.peek() != '{' {
		d.typeProblem(jp(base, name, -1), "an object")
		return pd
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		switch k := d.s.key(); k {
		case "set":
			pd.Set = d.strList(jp(base, name, -1), "set")
			for i := range pd.Set {
				pd.Set[i] = canon(cbv.disposition, pd.Set[i])
			}
		case "unset":
			pd.Unset = d.strList(jp(base, name, -1), "unset")
			for i := range pd.Unset {
				pd.Unset[i] = canon(cbv.disposition, pd.Unset[i])
			}
		default:
			d.ps.add(jp(base, name, -1)+"."+k, "unknown field")
			d.s.skip()
		}
	}
	return pd
}

func (d *jdec) location(base, name string) *Location {
	l := d.slab.location()
	if d.s.peek() != '{' {
		d.typeProblem(jp(base, name, -1), "an object with an id")
		return l
	}
	d.s.i++
	first := true
	for d.s.more(&first, '}') {
		k := d.s.key()
		if k == "id" {
			l.ID = d.strLazy(func() string { return jp(base, name, -1) }, "id")
			continue
		}
		f := splitName(k)
		f.Value = d.s.value(0)
		l.Extensions = append(l.Extensions, f)
	}
	return l
}

func (d *jdec) bizTransactions(base, name string) []BizTransaction {
	if d.s.peek() != '[' {
		d.typeProblem(jp(base, name, -1), "an array")
		return nil
	}
	d.s.i++
	out := d.slab.tmpBTs[:0]
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		ip := func() string { return idx(jp(base, name, -1), n) }
		var bt BizTransaction
		if d.s.peek() != '{' {
			d.typeProblem(ip(), "an object")
			continue
		}
		d.s.i++
		f := true
		for d.s.more(&f, '}') {
			switch k := d.s.key(); k {
			case "type":
				bt.Type = canon(cbv.btt, d.strLazy(ip, "type"))
			case "bizTransaction":
				bt.Value = d.strLazy(ip, "bizTransaction")
			default:
				d.ps.add(ip()+"."+k, "unknown field")
				d.s.skip()
			}
		}
		out = append(out, bt)
	}
	d.slab.tmpBTs = out
	return carve(&d.slab.bts, out)
}

func (d *jdec) sourceDest(base, list, name string) []SourceDest {
	if d.s.peek() != '[' {
		d.typeProblem(jp(base, list, -1), "an array")
		return nil
	}
	d.s.i++
	out := d.slab.tmpSDs[:0]
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		ip := func() string { return idx(jp(base, list, -1), n) }
		var sd SourceDest
		if d.s.peek() != '{' {
			d.typeProblem(ip(), "an object")
			continue
		}
		d.s.i++
		f := true
		for d.s.more(&f, '}') {
			switch k := d.s.key(); k {
			case "type":
				sd.Type = canon(cbv.sdt, d.strLazy(ip, "type"))
			case name:
				sd.ID = d.strLazy(ip, name)
			default:
				d.ps.add(ip()+"."+k, "unknown field")
				d.s.skip()
			}
		}
		out = append(out, sd)
	}
	d.slab.tmpSDs = out
	return carve(&d.slab.sds, out)
}

func (d *jdec) quantities(base, name string) []Quantity {
	if d.s.peek() != '[' {
		d.typeProblem(jp(base, name, -1), "an array")
		return nil
	}
	d.s.i++
	out := d.slab.tmpQs[:0]
	first := true
	for n := 0; d.s.more(&first, ']'); n++ {
		ip := func() string { return idx(jp(base, name, -1), n) }
		var q Quantity
		if d.s.peek() != '{' {
			d.typeProblem(ip(), "an object")
			continue
		}
		d.s.i++
		f := true
		for d.s.more(&f, '}') {
			switch k := d.s.key(); k {
			case "epcClass":
				q.EPCClass = d.strLazy(ip, "epcClass")
			case "quantity":
				if c := d.s.peek(); c == '-' || c >= '0' && c <= '9' {
					q.Quantity = d.s.number()
				} else {
					d.typeProblem(ip()+".quantity", "a number")
				}
			case "uom":
				q.UOM = d.strLazy(ip, "uom")
			default:
				d.ps.add(ip()+"."+k, "unknown field")
				d.s.skip()
			}
		}
		out = append(out, q)
	}
	d.slab.tmpQs = out
	return carve(&d.slab.qs, out)
}

// builtinPrefixes are the prefixes the standard EPCIS 2.0 context
// defines, so documents may use them without declaring them.
func builtinPrefix(p string) (string, bool) {
	switch p {
	case "cbvmda":
		return "urn:epcglobal:cbv:mda#", true
	case "cbv":
		return "https://ref.gs1.org/cbv/", true
	case "epcis":
		return "https://ref.gs1.org/epcis/", true
	case "gs1":
		return "https://gs1.org/voc/", true
	case "xsd":
		return "http://www.w3.org/2001/XMLSchema#", true
	case "rdf":
		return "http://www.w3.org/1999/02/22-rdf-syntax-ns#", true
	case "rdfs":
		return "http://www.w3.org/2000/01/rdf-schema#", true
	case "owl":
		return "http://www.w3.org/2002/07/owl#", true
	}
	return "", false
}

// spaceOfIRI turns a JSON-LD prefix IRI into the model's namespace: a
// trailing '#' after a letter or digit is dropped, matching the XML
// namespace of the same field.
func spaceOfIRI(iri string) string {
	n := len(iri)
	if n > 1 && iri[n-1] == '#' && isAlnum(iri[n-2]) {
		return iri[:n-1]
	}
	return iri
}

// iriOfSpace is the inverse of spaceOfIRI.
func iriOfSpace(space string) string {
	if n := len(space); n > 0 && isAlnum(space[n-1]) {
		return space + "#"
	}
	return space
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// resolveJSONSpaces fills Field.Space from the document's prefixes once
// the whole document (whose @context may come last) has been read.
func resolveJSONSpaces(doc *Document) {
	var declared map[string]string
	if len(doc.Namespaces) > 0 {
		declared = make(map[string]string, len(doc.Namespaces))
		for _, ns := range doc.Namespaces {
			declared[ns.Prefix] = ns.IRI
		}
	}
	r := func(p string) string {
		if iri, ok := declared[p]; ok {
			return spaceOfIRI(iri)
		}
		if iri, ok := builtinPrefix(p); ok {
			return spaceOfIRI(iri)
		}
		return p + ":" // an undeclared prefix is an IRI scheme in JSON-LD
	}
	walkFields(doc, func(f *Field) {
		if f.Prefix != "" && f.Space == "" {
			f.Space = r(f.Prefix)
		}
	})
}

// walkFields calls fn for every generic field in the document, depth
// first.
func walkFields(doc *Document, fn func(*Field)) {
	var walkV func(v *Value)
	var walkF func(fs []Field)
	walkF = func(fs []Field) {
		for i := range fs {
			fn(&fs[i])
			walkV(&fs[i].Value)
		}
	}
	walkV = func(v *Value) {
		walkF(v.Fields)
		for i := range v.Items {
			walkV(&v.Items[i])
		}
	}
	walkF(doc.Extensions)
	if doc.Header != nil {
		walkF(doc.Header.Extensions)
		for i := range doc.Header.MasterData {
			for j := range doc.Header.MasterData[i].Elements {
				for k := range doc.Header.MasterData[i].Elements[j].Attributes {
					walkV(&doc.Header.MasterData[i].Elements[j].Attributes[k].Value)
				}
			}
		}
	}
	for i := range doc.Events {
		e := &doc.Events[i]
		walkF(e.Extensions)
		walkF(e.ILMD)
		if e.ErrorDeclaration != nil {
			walkF(e.ErrorDeclaration.Extensions)
		}
		if e.ReadPoint != nil {
			walkF(e.ReadPoint.Extensions)
		}
		if e.BizLocation != nil {
			walkF(e.BizLocation.Extensions)
		}
		for j := range e.SensorElements {
			walkV(&e.SensorElements[j])
		}
	}
}
