// Package protocol is the sync protocol as its two endpoints see it: the
// down-feed cursor, the change sets and verdicts that cross the wire, the
// limits both sides agree on, and the errors the site returns to steer a
// session (busy, gap, cursor too old). Package wire encodes these values;
// package session (site side) and package client (device side) speak them.
//
// These are the endpoints' types, not the wire's: they are converted to
// and from wire messages at the edge, so either can change shape without
// dragging the other along.
package protocol

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Version is the protocol version this code speaks, sent in HELLO.
const Version = 1

// Errors shared by the endpoints.
var (
	// ErrBusy reports a site too loaded to take the request now. Return
	// it (or a *BusyError carrying a retry-after) from Site.Submit; the
	// session answers BUSY and the device retries later.
	ErrBusy = errors.New("sync: site busy")
	// ErrGap reports a push that does not continue the device's sequence.
	// Return a *GapError (which matches ErrGap) naming the expected seq.
	ErrGap = errors.New("sync: gap in device sequence")
	// ErrCursorTooOld reports a down-feed cursor the site can no longer
	// serve incrementally: the device must resync from a snapshot.
	ErrCursorTooOld = errors.New("sync: cursor too old")
	// ErrForbidden reports a device the site will not serve (unknown,
	// revoked or retired epoch). The session closes the connection.
	ErrForbidden = errors.New("sync: device not allowed")
	// ErrCursor reports a cursor string that does not parse.
	ErrCursor = errors.New("sync: malformed cursor")
)

// BusyError is ErrBusy with a hint of when to come back.
type BusyError struct {
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v: retry after %s", ErrBusy, e.RetryAfter)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// GapError is ErrGap with the sequence number the site expects next.
type GapError struct {
	Expected uint64
}

func (e *GapError) Error() string {
	return fmt.Sprintf("%v: expected seq %d", ErrGap, e.Expected)
}

// Is makes errors.Is(err, ErrGap) true.
func (e *GapError) Is(target error) bool { return target == ErrGap }

// Cursor is a position in a site's down-feed. Cluster names the cluster
// (a restored or different cluster has another id); Epoch changes when
// the site's feed numbering restarts; Index is the position within the
// epoch (typically the raft index the feed reflects). The zero Cursor is
// "nothing yet": it always leads to a resync.
type Cursor struct {
	Cluster string
	Epoch   uint64
	Index   uint64
}

// IsZero reports whether c is the zero cursor.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String renders "cluster/epoch/index", the form master.Snapshot.Cursor
// and device stores keep.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return c.Cluster + "/" + strconv.FormatUint(c.Epoch, 10) + "/" + strconv.FormatUint(c.Index, 10)
}

// ParseCursor reads what String writes ("" is the zero cursor).
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return Cursor{}, fmt.Errorf("%w: %q", ErrCursor, s)
	}
	j := strings.LastIndexByte(s[:i], '/')
	if j <= 0 {
		return Cursor{}, fmt.Errorf("%w: %q", ErrCursor, s)
	}
	ep, err1 := strconv.ParseUint(s[j+1:i], 10, 64)
	ix, err2 := strconv.ParseUint(s[i+1:], 10, 64)
	if err1 != nil || err2 != nil {
		return Cursor{}, fmt.Errorf("%w: %q", ErrCursor, s)
	}
	return Cursor{Cluster: s[:j], Epoch: ep, Index: ix}, nil
}

// Kind names a kind of record in the down-feed.
type Kind uint8

// Record kinds. The numbers are sent: append only.
const (
	KindUnknown Kind = iota
	KindSite
	KindClient
	KindProduct
	KindLocation
	KindPartner
	KindUser
	KindASN
	KindOrder
	KindShipment
	KindHold
	KindUnit
	KindException
	KindSerialModel
	kindEnd
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k > KindUnknown && k < kindEnd }

var kindNames = [...]string{"unknown", "site", "client", "product", "location", "partner", "user", "asn", "order", "shipment", "hold", "unit", "exception", "serialmodel"}

// String is the kind's name.
func (k Kind) String() string {
	if k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Removal names a record the device must drop: deleted at the site, or
// no longer visible to the device (a client grant revoked, an order
// closed). ID is the record's key: a GTIN for products, a subject key
// for units, the id field for the rest.
type Removal struct {
	Kind Kind
	ID   string
}

// ChangeSet is one step of the down-feed: records added or changed since
// the cursor the device sent, and records to drop. Applying it and
// storing To must be one atomic step on the device; applying the same set
// twice is harmless (upserts and removals are idempotent).
type ChangeSet struct {
	To Cursor
	// Put holds the records added or changed. Put.Site is set only when
	// the site record changed (Site.ID != ""); Put.Cursor is unused.
	Put     master.Snapshot
	Removed []Removal
	// More reports that the site already has further changes after To.
	More bool
}

// Len is the number of records in the set.
func (c *ChangeSet) Len() int {
	n := len(c.Removed)
	if c.Put.Site.ID != "" {
		n++
	}
	p := &c.Put
	return n + len(p.Clients) + len(p.Products) + len(p.Locations) + len(p.Partners) + len(p.Users) +
		len(p.ASNs) + len(p.Orders) + len(p.Shipments) + len(p.Holds) + len(p.Units) + len(p.Open) + len(p.SerialModels)
}

// Outcome is what became of one pushed event.
type Outcome uint8

// Outcomes. The numbers are sent: append only.
const (
	OutcomeUnknown Outcome = iota
	// OutcomeApplied: committed and applied (including a merge with the
	// same effect already there).
	OutcomeApplied
	// OutcomeDuplicate: the site had this event already; Verdict.Original
	// is what became of it the first time (OutcomeUnknown when the site
	// no longer remembers).
	OutcomeDuplicate
	// OutcomeConflict: committed, but it met something committed before
	// it; Exceptions and Message say what and what to do.
	OutcomeConflict
	// OutcomeRejected: committed to the log but refused by the rules or
	// the envelope checks; Message says why.
	OutcomeRejected
	outcomeEnd
)

// Valid reports whether o is a known outcome (OutcomeUnknown included).
func (o Outcome) Valid() bool { return o < outcomeEnd }

// String is the outcome's name.
func (o Outcome) String() string {
	switch o {
	case OutcomeUnknown:
		return "unknown"
	case OutcomeApplied:
		return "applied"
	case OutcomeDuplicate:
		return "duplicate"
	case OutcomeConflict:
		return "conflict"
	case OutcomeRejected:
		return "rejected"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Verdict is the site's answer for one pushed event.
type Verdict struct {
	Seq      uint64
	Outcome  Outcome
	Original Outcome // for OutcomeDuplicate
	// Exceptions are the ids of exceptions the event opened or joined.
	Exceptions []string
	// Message is for the person holding the device: what the conflict
	// means and what to do, or why the event was refused.
	Message string
}

// Final is the outcome that counts: Original for a duplicate the site
// remembers, Outcome otherwise.
func (v *Verdict) Final() Outcome {
	if v.Outcome == OutcomeDuplicate && v.Original != OutcomeUnknown {
		return v.Original
	}
	return v.Outcome
}

// VerdictFromResult maps the rules' result for an event to a verdict:
// applied and merged are applied, a conflict keeps its exceptions and
// reason, a refusal is rejected with its reason.
func VerdictFromResult(seq uint64, r unit.Result) Verdict {
	v := Verdict{Seq: seq, Exceptions: r.Exceptions(), Message: r.Reason}
	switch r.Verdict {
	case unit.VerdictApplied, unit.VerdictMerged:
		v.Outcome = OutcomeApplied
	case unit.VerdictConflict:
		v.Outcome = OutcomeConflict
	default:
		v.Outcome = OutcomeRejected
	}
	return v
}

// Limits are what the site allows a device; WELCOME carries them.
type Limits struct {
	MaxFrame    int // bytes in one websocket message, both directions
	MaxPush     int // events in one PUSH
	MaxInFlight int // PUSHes sent and not yet answered
}

// DefaultLimits are the protocol defaults: 1 MiB frames, 1000 events a
// push, 2 pushes in flight.
func DefaultLimits() Limits {
	return Limits{MaxFrame: 1 << 20, MaxPush: 1000, MaxInFlight: 2}
}

// Hard bounds no peer may exceed whatever it announces. A push is one
// submission to the site: HardMaxPush stays within event.MaxBatch.
const (
	HardMaxFrame    = 1 << 20
	HardMaxPush     = 2000
	HardMaxInFlight = 8
)

// Clamp returns l with every field within (0, hard bound], zero fields
// taking the default.
func (l Limits) Clamp() Limits {
	d := DefaultLimits()
	fix := func(v, def, hard int) int {
		if v <= 0 {
			return def
		}
		return min(v, hard)
	}
	return Limits{
		MaxFrame:    fix(l.MaxFrame, d.MaxFrame, HardMaxFrame),
		MaxPush:     fix(l.MaxPush, d.MaxPush, HardMaxPush),
		MaxInFlight: fix(l.MaxInFlight, d.MaxInFlight, HardMaxInFlight),
	}
}

// CheckPush verifies that evs is a contiguous run of one device's epoch,
// starting at first: what every PUSH must be.
func CheckPush(device string, epoch uint32, first uint64, evs []event.Event) error {
	for i := range evs {
		e := &evs[i]
		switch {
		case e.Device != device:
			return fmt.Errorf("%w: event %d is from device %q, not %q", ErrForbidden, e.Seq, e.Device, device)
		case e.Epoch != epoch:
			return fmt.Errorf("%w: event %d has epoch %d, the session %d", ErrForbidden, e.Seq, e.Epoch, epoch)
		case e.Seq != first+uint64(i):
			return fmt.Errorf("%w: event %d of the push has seq %d, want %d", ErrGap, i, e.Seq, first+uint64(i))
		}
	}
	return nil
}
