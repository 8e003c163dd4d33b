package command

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Version is the envelope version this build writes and reads.
const Version = 1

// Type is a command's number in the log. Append only: never renumber or
// reuse a number.
type Type uint64

// Command types.
const (
	TypeEvents     Type = 1  // Events: a batch of device events
	TypeSite       Type = 2  // master.Site
	TypeClient     Type = 3  // master.Client
	TypeProduct    Type = 4  // master.Product
	TypeLocation   Type = 5  // master.Location
	TypePartner    Type = 6  // master.Partner
	TypeUser       Type = 7  // master.User
	TypeASN        Type = 8  // ASN: an ASN and the expect events it implies
	TypeOrder      Type = 9  // master.Order
	TypeShipment   Type = 10 // master.Shipment
	TypeHold       Type = 11 // master.Hold on a lot or product
	TypeException  Type = 12 // ExceptionUpdate
	TypeNode       Type = 13 // state.Node: register a cluster member
	TypeRemoveNode Type = 14 // RemoveNode
	// Device admission (enroll.go).
	TypeEnrollToken  Type = 15 // EnrollToken: keep a new enrollment token's hash
	TypeUseToken     Type = 16 // UseToken: a device spends an enrollment token
	TypeRevokeDevice Type = 17 // RevokeDevice: stop admitting a device
	TypePurgeTokens  Type = 18 // PurgeTokens: forget tokens expired before a time
	// Bounded ASN imports and the feed's incarnation (asn.go, incarnation.go).
	TypeASNChunk    Type = 19 // ASNChunk: part of an ASN import, at most MaxASNChunk items
	TypeIncarnation Type = 20 // Incarnation: name this cluster's change feed, once
	// User certificate revocation (usercerts.go).
	TypeRevokeUserCerts Type = 21 // RevokeUserCerts: refuse a user's certificates issued until a time
	// The change feed's bound (state/feedlimit.go).
	TypeFeedLimit Type = 22 // FeedLimit: keep the feed to a number of references
	// The console's sign-in (console.go).
	TypeConsoleKey Type = 40 // ConsoleKey: the key console sessions are signed with, once
	TypePassword   Type = 41 // SetPassword: a user's console password verifier
	TypeAccount    Type = 42 // AccountChange: disable, enable or sign out a console user
	TypeSignIn     Type = 43 // SignIn: a sign-in's outcome, counted towards the lock

	// Counterfeit and diversion signals (signals.go).
	TypeSignals       Type = 50 // Signals: the analyzer's findings
	TypeSignalVerdict Type = 51 // SignalVerdict: a person's verdict on a finding
	TypeSerialModels  Type = 52 // SerialModels: serial models published for handhelds

	// DSCSA duties at the site (recall.go, investigation.go).
	TypeRecall        Type = 60 // state.Recall: open a lot recall and hold the lot
	TypeInvestigation Type = 61 // InvestigationStep: a step of a suspect product investigation

	// The operator's network (network.go).
	TypeNetworkDuplicate Type = 70 // NetworkDuplicate: a unit also received at another site

	// typeEnd is one past the last type. It must name the last type: a
	// bare typeEnd would repeat the line above and equal the last type,
	// which Decode would then refuse.
	typeEnd = TypeNetworkDuplicate + 1
)

// Types lists every command type, in number order.
func Types() []Type {
	out := make([]Type, 0, typeEnd-1)
	for t := TypeEvents; t < typeEnd; t++ {
		if unassigned(t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// unassigned reports a number below typeEnd that no type has (yet): the
// numbers between the feed limit and the console's range, between the
// console's and the signals' range, between the signals' and the DSCSA
// range, and between the DSCSA range and the network's.
func unassigned(t Type) bool {
	return t > TypeFeedLimit && t < TypeConsoleKey || t > TypeSignIn && t < TypeSignals || t > TypeSerialModels && t < TypeRecall ||
		t > TypeInvestigation && t < TypeNetworkDuplicate
}

// Encode wraps a payload in the envelope.
func Encode(t Type, payload []byte) []byte {
	b := make([]byte, 0, len(payload)+4)
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(t))
	return append(b, payload...)
}

// Decode opens an envelope. An envelope version or a type this build
// does not know is ErrUnknownType (a newer binary wrote it); other bytes
// that are not an envelope are ErrEnvelope.
func Decode(b []byte) (Type, []byte, error) {
	if len(b) >= 2 && b[0] > Version {
		return 0, nil, fmt.Errorf("%w: envelope version %d", ErrUnknownType, b[0])
	}
	if len(b) < 2 || b[0] != Version {
		return 0, nil, fmt.Errorf("%w: version", ErrEnvelope)
	}
	t, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: type", ErrEnvelope)
	}
	if t == 0 || Type(t) >= typeEnd || unassigned(Type(t)) {
		return 0, nil, fmt.Errorf("%w: %d", ErrUnknownType, t)
	}
	return Type(t), b[1+n:], nil
}

// Events is a batch of device events, stamped with the proposer's clock.
type Events struct {
	Received hlc.Timestamp
	Events   []event.Event
}

// MarshalBinary encodes the batch: the clock, a count, the events.
func (e *Events) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil), nil }

// AppendBinary appends the encoding to b.
func (e *Events) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(e.Received))
	b = binary.AppendUvarint(b, uint64(len(e.Events)))
	for i := range e.Events {
		b = e.Events[i].AppendBinary(b)
	}
	return b
}

// UnmarshalBinary decodes a batch.
func (e *Events) UnmarshalBinary(b []byte) error {
	if len(b) < 9 {
		return fmt.Errorf("%w: events header", ErrPayload)
	}
	e.Received = hlc.Timestamp(binary.BigEndian.Uint64(b))
	n, w := binary.Uvarint(b[8:])
	if w <= 0 || n > uint64(len(b)) {
		return fmt.Errorf("%w: event count", ErrPayload)
	}
	b = b[8+w:]
	e.Events = make([]event.Event, n)
	for i := range e.Events {
		var err error
		if b, err = e.Events[i].DecodeBinary(b); err != nil {
			return fmt.Errorf("%w: event %d: %v", ErrPayload, i, err)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrPayload, len(b))
	}
	return nil
}

// EncodeEvents is the entry for a batch of events.
func EncodeEvents(e *Events) []byte {
	return e.AppendBinary(Encode(TypeEvents, nil))
}

// EncodeJSON is the entry for a command with a JSON payload.
func EncodeJSON(t Type, v any) ([]byte, error) {
	p, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	return Encode(t, p), nil
}

// ASN imports an advance ship notice in one entry. The proposer stamps
// the time and one event id per item; the processor turns each item into
// an expect event. No longer proposed (a large ASN made one entry too
// big to apply in one transaction): imports are ASNChunk entries. Kept
// so logs that hold it still replay.
type ASN struct {
	ASN  master.ASN    `json:"asn"`
	User string        `json:"user"`
	At   hlc.Timestamp `json:"at"`
	IDs  []event.ID    `json:"ids"`
}

// ASNChunk is one raft entry of an ASN import: the ASN's header (id,
// client, supplier, closed) with the items at positions [Start,
// Start+len(ASN.Items)) of an ASN of Total items whose ASNDigest is
// Digest. SplitASN cuts an import into chunks of at most MaxASNChunk
// items. The processor derives each item's expect event id from its
// position and content (ASNEventIDs), so every chunk is idempotent on
// its own, and stores the ASN record once the chunks of that digest
// cover it (asn.go; DESIGN.md).
type ASNChunk struct {
	ASN    master.ASN    `json:"asn"`
	Start  int           `json:"start"`
	Total  int           `json:"total"`
	Digest string        `json:"digest"`
	User   string        `json:"user"`
	At     hlc.Timestamp `json:"at"`
}

// Incarnation names the cluster's incarnation: the id devices see in
// the change feed's cluster id. The processor keeps the first one the
// log carries; a restored cluster is given a new one before it starts.
type Incarnation struct {
	ID string `json:"id"`
}

// FeedLimit keeps the change feed to the newest records holding at most
// Refs references (changed records), between MinFeedRefs and
// MaxFeedRefs. A cluster without one keeps the last state.FeedWindow
// entries.
type FeedLimit struct {
	Refs uint64 `json:"refs"`
}

// Bounds of a feed limit: below the minimum one large entry (a lot hold
// touching every unit of a lot) could fill the feed; above the maximum
// the records would take tens of GB.
const (
	MinFeedRefs = 1 << 16
	MaxFeedRefs = 1 << 30
)

// ASNEventIDs derives the ids of an ASN's expect events from the ASN's
// client and id and each item's position and content, so proposing the
// same ASN again (a retried request) names the same events and expects
// nothing twice, while a changed item gets an id of its own. The ids are
// RFC 9562 version 8 UUIDs (SHA-256 based).
func ASNEventIDs(a *master.ASN) []event.ID {
	out := make([]event.ID, len(a.Items))
	for i, it := range a.Items {
		out[i] = asnEventID(a.Client, a.ID, i, &it)
	}
	return out
}

// asnEventID is the id of the expect event of item it at position pos.
func asnEventID(client, asn string, pos int, it *master.ASNItem) event.ID {
	h := sha256.New()
	for _, f := range []string{"custody/asn-expect/v1", client, asn, strconv.Itoa(pos), string(it.Key), string(it.Parent), it.Lot, it.Expiry} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	var id event.ID
	copy(id[:], h.Sum(nil))
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}

// ExceptionUpdate acknowledges or resolves an exception.
type ExceptionUpdate struct {
	ID     string               `json:"id"`
	Status unit.ExceptionStatus `json:"status"`
	By     string               `json:"by"`
	Note   string               `json:"note,omitempty"`
	At     hlc.Timestamp        `json:"at"`
}

// RemoveNode forgets a cluster member.
type RemoveNode struct {
	ID string `json:"id"`
}

// Node registers a cluster member (state.Node).
type Node = state.Node
