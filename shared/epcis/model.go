// Package epcis models EPCIS 2.0 events and documents and reads and writes
// them as EPCIS 2.0 JSON-LD and EPCIS 1.2 XML (including the GS1 US
// healthcare extensions used for DSCSA), with CBV vocabulary
// normalisation and validation that names every problem by path.
//
// The package does no I/O: codecs take and return byte slices.
package epcis

import "time"

// DocumentType tells an EPCISDocument from an EPCISQueryDocument.
type DocumentType uint8

// Document types.
const (
	TypeDocument DocumentType = iota
	TypeQueryDocument
)

func (t DocumentType) String() string {
	if t == TypeQueryDocument {
		return "EPCISQueryDocument"
	}
	return "EPCISDocument"
}

// Document is an EPCIS document: a header and a list of events. One
// model serves both formats; each codec renders it in its own way.
type Document struct {
	Type DocumentType
	// Context is the JSON-LD @context exactly as read (string and object
	// entries), so a JSON-LD document re-encodes with the context it came
	// with. Nil for documents read from XML; the encoder then writes the
	// standard context plus the namespaces the extensions need.
	Context []Value
	// Namespaces are the prefix bindings the document declared (JSON-LD
	// context terms or XML xmlns attributes), in document order.
	Namespaces []Namespace

	ID            string    // JSON-LD document "id"
	SchemaVersion string    // as read; encoders write their own version
	CreationDate  time.Time // zero when absent

	// Sender, Receiver and InstanceIdentifier are the 2.0 pseudo-SBDH
	// fields. The XML decoder fills them from the SBDH when there is one.
	Sender             string
	Receiver           string
	InstanceIdentifier string

	Header *Header

	// QueryName and SubscriptionID belong to query documents.
	QueryName      string
	SubscriptionID string

	Events []Event

	// Extensions are document-level fields outside the standard: JSON-LD
	// keys with a prefix, XML root attributes in another namespace.
	Extensions []Field
}

// Namespace binds a prefix to a namespace IRI.
type Namespace struct {
	Prefix string
	IRI    string
}

// Header is the EPCIS header: master data plus anything else the sender
// put there (the SBDH, GS1 US guideline version and transaction
// statement, ...), kept as extension fields.
type Header struct {
	MasterData []Vocabulary
	Extensions []Field
}

// Vocabulary is one master-data vocabulary (EPCClass, Location, ...).
type Vocabulary struct {
	Type     string
	Elements []VocabularyElement
}

// VocabularyElement describes one identifier (or identifier pattern).
type VocabularyElement struct {
	ID         string
	Attributes []MasterAttribute
	Children   []string
}

// MasterAttribute is one master-data attribute; the value is a string
// or, for structured attributes, an object.
type MasterAttribute struct {
	ID    string
	Value Value
}

// EventType names the five EPCIS event types.
type EventType uint8

// Event types. EventUnknown marks an event whose type could not be read.
const (
	EventUnknown EventType = iota
	ObjectEvent
	AggregationEvent
	TransactionEvent
	TransformationEvent
	AssociationEvent
)

var eventTypeNames = [...]string{"", "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}

func (t EventType) String() string {
	if int(t) < len(eventTypeNames) && t != EventUnknown {
		return eventTypeNames[t]
	}
	return "UnknownEvent"
}

// ParseEventType maps an event type name to its EventType.
func ParseEventType(s string) EventType {
	switch s {
	case "ObjectEvent":
		return ObjectEvent
	case "AggregationEvent":
		return AggregationEvent
	case "TransactionEvent":
		return TransactionEvent
	case "TransformationEvent":
		return TransformationEvent
	case "AssociationEvent":
		return AssociationEvent
	}
	return EventUnknown
}

// Action values.
const (
	ActionAdd     = "ADD"
	ActionObserve = "OBSERVE"
	ActionDelete  = "DELETE"
)

// Event is one EPCIS event. All five types share this struct; Type says
// which fields apply, and validation refuses fields the type does not
// have. Vocabulary values (BizStep, Disposition, business transaction and
// source/destination types, error reasons) hold the canonical form: the
// bare CBV word ("shipping") for standard values, the full URI for
// extension values.
type Event struct {
	Type EventType

	EventTime           time.Time
	EventTimeZoneOffset string // "±hh:mm"
	RecordTime          time.Time
	EventID             string
	CertificationInfo   []string
	ErrorDeclaration    *ErrorDeclaration

	Action                string // ADD, OBSERVE, DELETE; empty for TransformationEvent
	BizStep               string
	Disposition           string
	PersistentDisposition *PersistentDisposition
	ReadPoint             *Location
	BizLocation           *Location
	BizTransactions       []BizTransaction
	Sources               []SourceDest
	Destinations          []SourceDest
	// SensorElements are kept as generic values: each is an object with
	// sensorMetadata and a sensorReport array; scalar members of those are
	// marked Attr because 1.2/2.0 XML writes them as attributes.
	SensorElements []Value
	ILMD           []Field

	// ObjectEvent, TransactionEvent.
	EPCList      []string
	QuantityList []Quantity
	// AggregationEvent, TransactionEvent, AssociationEvent.
	ParentID string
	// AggregationEvent, AssociationEvent.
	ChildEPCs         []string
	ChildQuantityList []Quantity
	// TransformationEvent.
	InputEPCList       []string
	InputQuantityList  []Quantity
	OutputEPCList      []string
	OutputQuantityList []Quantity
	TransformationID   string

	// Extensions are the event's user fields (namespaced keys), in order.
	Extensions []Field
}

// ErrorDeclaration marks an event as erroneous.
type ErrorDeclaration struct {
	DeclarationTime    time.Time
	Reason             string
	CorrectiveEventIDs []string
	Extensions         []Field
}

// PersistentDisposition sets and unsets persistent dispositions.
type PersistentDisposition struct {
	Set   []string
	Unset []string
}

// Location is a readPoint or bizLocation.
type Location struct {
	ID         string
	Extensions []Field
}

// BizTransaction is a business transaction reference.
type BizTransaction struct {
	Type  string // optional
	Value string
}

// SourceDest is a source or destination.
type SourceDest struct {
	Type string
	ID   string
}

// Quantity is a quantity element. Quantity keeps the decimal literal as
// written ("200.5"), empty when absent, so no precision is lost.
type Quantity struct {
	EPCClass string
	Quantity string
	UOM      string
}

// Kind is the kind of a generic Value.
type Kind uint8

// Value kinds.
const (
	KindString Kind = iota
	KindNumber
	KindBool
	KindNull
	KindObject
	KindArray
)

// Value is a generic extension value: JSON-like, with enough extra to
// carry XML (attributes and mixed text). Text holds a string, the literal
// of a number or bool, or the text content of an object read from an XML
// element that has attributes or children as well as text.
type Value struct {
	Kind   Kind
	Text   string
	Fields []Field // KindObject
	Items  []Value // KindArray
}

// Field is a named generic value: an extension field, an ILMD entry, a
// member of an extension object.
type Field struct {
	// Space is the namespace. For JSON-LD it is the prefix's IRI with a
	// trailing '#' removed when the IRI otherwise ends in a letter or
	// digit, which is the XML namespace a 1.2 document uses for the same
	// field ("urn:epcglobal:cbv:mda#" and "urn:epcglobal:cbv:mda" are the
	// same space). Empty for unqualified names.
	Space string
	// Prefix is the preferred prefix for rendering.
	Prefix string
	Local  string
	// Attr marks a field that XML writes as an attribute.
	Attr  bool
	Value Value
}

// String returns a string Value.
func String(s string) Value { return Value{Kind: KindString, Text: s} }

// Object returns an object Value.
func Object(fields ...Field) Value { return Value{Kind: KindObject, Fields: fields} }

// Lookup returns the first member with the given namespace and local name.
func (v Value) Lookup(space, local string) (Field, bool) {
	for _, f := range v.Fields {
		if f.Space == space && f.Local == local {
			return f, true
		}
	}
	return Field{}, false
}

// LookupField returns the first field with the given namespace and local
// name from a field list.
func LookupField(fields []Field, space, local string) (Field, bool) {
	return Object(fields...).Lookup(space, local)
}
