package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Entry is one log entry: its index and its bytes.
type Entry struct {
	Index uint64
	Data  []byte
}

// Processor applies entries to the state, in order, deterministically.
// It is not safe for concurrent use: the log has one writer.
type Processor struct {
	st      *state.Store
	applied uint64
	maxSkew time.Duration
	// malformed counts entries refused because their payload did not
	// decode; read by metrics from other goroutines.
	malformed atomic.Uint64
	log       *slog.Logger
}

// SetLogger sends what the processor logs (refused entries, split
// transactions) to l instead of slog's default logger. Call it before
// the first Apply.
func (p *Processor) SetLogger(l *slog.Logger) { p.log = l }

// Malformed is how many entries this processor refused because their
// payload did not decode for their type (ErrPayload).
func (p *Processor) Malformed() uint64 { return p.malformed.Load() }

// New returns a processor over st, resuming after the applied index the
// state records.
func New(st *state.Store, maxSkew time.Duration) (*Processor, error) {
	idx, err := st.Applied()
	if err != nil {
		return nil, fmt.Errorf("processor: %w", err)
	}
	return &Processor{st: st, applied: idx, maxSkew: maxSkew, log: slog.Default()}, nil
}

// Applied is the last index applied.
func (p *Processor) Applied() uint64 { return p.applied }

// Reset re-reads the applied index, after the state was restored.
func (p *Processor) Reset() error {
	idx, err := p.st.Applied()
	if err != nil {
		return fmt.Errorf("processor: %w", err)
	}
	p.applied = idx
	return nil
}

// Apply applies entries in one state transaction, together with the last
// index, and returns one result per entry: []Verdict for events,
// ASNResult for an ASN, an error for a rejected command, nil otherwise.
// Entries at or below the applied index (replayed after a restart) are
// skipped with a nil result. An entry whose payload does not decode for
// its type changes nothing and is answered with an error wrapping
// ErrPayload: every replica decodes the same bytes alike, so all refuse
// it. What only a stopped replica can meet safely still panics: an
// envelope version or command type from a newer binary (ErrUnknownType)
// and a storage failure.
func (p *Processor) Apply(entries []Entry) []any {
	out := make([]any, len(entries))
	b := batch{tx: p.st.Begin(), p: p, auth: map[string]bool{}}
	defer func() { b.tx.Discard() }()
	last := p.applied
	for i, e := range entries {
		if e.Index <= last {
			continue
		}
		must(b.tx.FeedAt(e.Index), "change feed")
		out[i] = b.apply(e)
		last = e.Index
		// Keep transactions well inside Badger's size limit: commit at an
		// entry boundary, with the index, and go on in a new one.
		if b.tx.Writes() >= commitEvery && i < len(entries)-1 {
			p.commit(b.tx, last)
			b.tx = p.st.Begin()
		}
	}
	if last != p.applied {
		p.commit(b.tx, last)
	}
	return out
}

// commitEvery is how many key writes a transaction may gather before the
// processor commits at the next entry boundary.
const commitEvery = 50000

func (p *Processor) commit(tx *state.Tx, last uint64) {
	if err := tx.SetApplied(last); err != nil {
		panic(fmt.Sprintf("processor: record applied index: %v", err))
	}
	if err := tx.Commit(); err != nil {
		panic(fmt.Sprintf("processor: commit: %v", err))
	}
	p.applied = last
}

// batch is the work of one Apply call.
type batch struct {
	tx   *state.Tx
	p    *Processor
	auth map[string]bool // user → may release and correct; filled as users are met
	// owners caches who owns each GTIN met (owners.go).
	owners map[string]productOwner
}

func must(err error, what string) {
	if err != nil {
		panic(fmt.Sprintf("processor: %s: %v", what, err))
	}
}

func (b *batch) apply(e Entry) any {
	t, payload, err := Decode(e.Data)
	if errors.Is(err, ErrUnknownType) {
		// A newer binary wrote it: this one cannot tell what it would
		// change, so it must stop rather than diverge (DESIGN.md).
		panic(fmt.Sprintf("processor: entry %d: %v", e.Index, err))
	}
	if err != nil {
		return b.refuse(e.Index, fmt.Errorf("%w: entry %d: %v", ErrPayload, e.Index, err))
	}
	// Every payload is decoded here, before anything is written.
	val, err := decodePayload(t, payload)
	if err != nil {
		return b.refuse(e.Index, fmt.Errorf("%w: entry %d type %d: %v", ErrPayload, e.Index, t, err))
	}
	switch t {
	case TypeEvents:
		return b.events(e.Index, val.(*Events))
	case TypeSite:
		return putMaster(val.(*master.Site), (*master.Site).Validate, b.tx.PutSite, "site")
	case TypeClient:
		return putMaster(val.(*master.Client), (*master.Client).Validate, b.tx.PutClient, "client")
	case TypeProduct:
		return putMaster(val.(*master.Product), b.checkProduct, b.putProduct, "product")
	case TypeLocation:
		return putMaster(val.(*master.Location), (*master.Location).Validate, b.tx.PutLocation, "location")
	case TypePartner:
		return putMaster(val.(*master.Partner), (*master.Partner).Validate, b.tx.PutPartner, "partner")
	case TypeUser:
		v := *val.(*master.User)
		if v.ID == "" {
			return fmt.Errorf("%w: user without id", ErrRejected)
		}
		if err := checkFields(append([]string{v.ID, v.Name}, v.Clients...)...); err != nil {
			return fmt.Errorf("%w: user %.40s: %v", ErrRejected, v.ID, err)
		}
		switch v.Role {
		case master.RoleOperator, master.RoleLead, master.RoleAdmin:
		default:
			return fmt.Errorf("%w: user %s: role %q (want operator, lead or admin)", ErrRejected, v.ID, v.Role)
		}
		must(b.tx.PutUser(v), "user")
		delete(b.auth, v.ID)
	case TypeASN:
		return b.asn(e.Index, val.(*ASN))
	case TypeOrder:
		v := *val.(*master.Order)
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		old, err := b.tx.Order(v.ID)
		if err := sameOwner("order", v.ID, v.Client, old.Client, err); err != nil {
			return err
		}
		if err := b.orderOwned(&v); err != nil {
			return err
		}
		must(b.tx.PutOrder(v), "order")
	case TypeShipment:
		v := *val.(*master.Shipment)
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		if err := v.CheckDestination(b.partnerExists); err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		old, err := b.tx.Shipment(v.ID)
		if err := sameOwner("shipment", v.ID, v.Client, old.Client, err); err != nil {
			return err
		}
		if err := b.shipmentOwned(&v); err != nil {
			return err
		}
		for _, k := range v.Containers {
			u, err := b.tx.Unit(k)
			must(err, "unit")
			if !u.Known() || u.Client != v.Client {
				return fmt.Errorf("%w: shipment %s: container %s is not a unit of client %q", ErrRejected, v.ID, k, v.Client)
			}
		}
		must(b.tx.PutShipment(v), "shipment")
	case TypeHold:
		v := *val.(*master.Hold)
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		old, err := b.tx.Hold(v.ID)
		if err := sameOwner("hold", v.ID, v.Client, old.Client, err); err != nil {
			return err
		}
		if v.Active {
			// A hold covers its own client's product only.
			p, err := b.tx.Product(v.GTIN)
			if err != nil && !errors.Is(err, state.ErrNotFound) {
				must(err, "product")
			}
			if err != nil || p.Client != v.Client {
				return fmt.Errorf("%w: hold %s: %s is not a product of client %q", ErrRejected, v.ID, v.GTIN, v.Client)
			}
		}
		must(b.tx.PutHold(v), "hold")
	case TypeException:
		return b.exception(val.(*ExceptionUpdate))
	case TypeNode:
		v := *val.(*state.Node)
		if v.ID == "" || v.Raft == "" {
			return fmt.Errorf("%w: node needs an id and a raft address", ErrRejected)
		}
		if err := checkFields(v.ID, v.Raft, v.HTTP); err != nil {
			return fmt.Errorf("%w: node %.40s: %v", ErrRejected, v.ID, err)
		}
		must(b.tx.PutNode(v), "node")
	case TypeRemoveNode:
		v := *val.(*RemoveNode)
		if err := checkFields(v.ID); err != nil {
			return fmt.Errorf("%w: node %.40s: %v", ErrRejected, v.ID, err)
		}
		must(b.tx.DeleteNode(v.ID), "remove node")
	case TypeEnrollToken, TypeUseToken, TypeRevokeDevice, TypePurgeTokens:
		return b.enroll(val)
	case TypeASNChunk:
		return b.asnChunk(e.Index, val.(*ASNChunk))
	case TypeIncarnation:
		return b.incarnation(val.(*Incarnation))
	case TypeRevokeUserCerts:
		return b.revokeUserCerts(*val.(*RevokeUserCerts))
	case TypeFeedLimit:
		v := *val.(*FeedLimit)
		if v.Refs < MinFeedRefs || v.Refs > MaxFeedRefs {
			return fmt.Errorf("%w: a feed limit is %d to %d references, not %d", ErrRejected, MinFeedRefs, MaxFeedRefs, v.Refs)
		}
		must(b.tx.SetFeedLimit(v.Refs), "feed limit")
	case TypeConsoleKey, TypePassword, TypeAccount, TypeSignIn:
		return b.console(val)
	case TypeSignals, TypeSignalVerdict:
		return b.signals(val)
	case TypeSerialModels:
		return b.serialModels(val.(*SerialModels))
	case TypeRecall:
		return b.recall(*val.(*state.Recall))
	case TypeInvestigation:
		return b.investigation(e.Index, val.(*InvestigationStep))
	case TypeNetworkDuplicate:
		return b.networkDuplicate(val.(*NetworkDuplicate))
	default:
		panic(fmt.Sprintf("processor: entry %d: type %d decoded but not applied", e.Index, t)) // decodePayload knows every type
	}
	return nil
}

// putMaster refuses a decoded master record when check does and stores
// it with put otherwise.
func putMaster[T any](v *T, check func(*T) error, put func(T) error, what string) any {
	if err := check(v); err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	must(put(*v), what)
	return nil
}

// refuse answers an entry whose payload does not decode: nothing
// written, the same error on every replica, counted and logged once
// (replays after a restart skip applied entries).
func (b *batch) refuse(index uint64, err error) error {
	b.p.malformed.Add(1)
	b.p.log.Error("raft entry refused: its payload does not decode", "index", index, "err", err)
	return err
}

// checkProduct is Product.Validate and, in log order, a client that
// exists: a product of no client would be nobody's to see or ship.
func (b *batch) checkProduct(p *master.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if _, err := b.tx.Client(p.Client); err != nil {
		if !errors.Is(err, state.ErrNotFound) {
			must(err, "client")
		}
		return fmt.Errorf("product %s: client %q does not exist", p.GTIN, p.Client)
	}
	return nil
}

// partnerExists reports whether the state holds partner id.
func (b *batch) partnerExists(id string) bool {
	_, err := b.tx.Partner(id)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "partner")
	}
	return err == nil
}

// sameOwner refuses to put a record under an id that another client's
// record holds. err is the error of reading the stored record, whose
// client is stored.
func sameOwner(kind, id, client, stored string, err error) error {
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	must(err, kind)
	if stored != client {
		return fmt.Errorf("%w: %s %s belongs to another client", ErrRejected, kind, id)
	}
	return nil
}

func (b *batch) authorized(user string) bool {
	if v, ok := b.auth[user]; ok {
		return v
	}
	u, err := b.tx.User(user)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "user")
	}
	v := err == nil && u.Role.CanRelease()
	b.auth[user] = v
	return v
}

func (b *batch) events(index uint64, evs *Events) []Verdict {
	out := make([]Verdict, len(evs.Events))
	env := unit.Env{Received: evs.Received, MaxSkew: b.p.maxSkew, Owners: b.owner}
	for i := range evs.Events {
		ev := &evs.Events[i]
		v := &out[i]
		*v = Verdict{ID: ev.ID, Device: ev.Device, Epoch: ev.Epoch, Seq: ev.Seq, Index: index}
		mark, err := b.tx.Mark(ev.Device, ev.Epoch)
		must(err, "device mark")
		switch {
		case ev.Device == "" || ev.Seq == 0:
			v.Status, v.Reason = StatusRejected, "an event needs a device and a sequence number from 1"
			continue
		case ev.Seq <= mark:
			b.duplicate(v, ev)
			continue
		case ev.Seq > mark+1:
			v.Status, v.Expected = StatusGap, mark+1
			v.Reason = fmt.Sprintf("device %s epoch %d: expected sequence %d, got %d", ev.Device, ev.Epoch, mark+1, ev.Seq)
			continue
		}
		// A stored id is looked up before anything is written: the
		// stored record is never replaced. The same event under another
		// place in a sequence (a device that lost its outbox position)
		// takes the place and keeps the original verdict; another event
		// under a taken id takes the place as rejected.
		if prev, err := b.tx.Event(ev.ID); err == nil {
			if sameEvent(&prev.Event, ev) {
				v.Status, v.Result, v.Reason, v.Index = StatusDuplicate, prev.Result, prev.Reason, prev.Index
			} else {
				v.Status, v.Reason = StatusRejected, idTaken(ev.ID)
			}
			b.tx.Advance(ev.Device, ev.Epoch, ev.Seq)
			continue
		} else if !errors.Is(err, state.ErrNotFound) {
			must(err, "event")
		}
		if err := ev.Validate(); err != nil {
			v.Status, v.Reason = StatusRejected, err.Error()
			must(b.tx.PutEvent(&state.Record{Event: *ev, Index: index, Reason: v.Reason}, uint32(i)), "event")
			b.tx.Advance(ev.Device, ev.Epoch, ev.Seq)
			continue
		}
		env.Authorized = b.authorized(ev.User)
		res, err := unit.Evaluate(b.tx, ev, env)
		must(err, "evaluate")
		b.recordWorkflow(ev)
		v.Status, v.Result = StatusApplied, &res
		rec := &state.Record{Event: *ev, Index: index, Result: &res}
		must(b.tx.PutEvent(rec, uint32(i)), "event")
		b.historyOfContainers(rec, uint32(i))
		b.recallReturns(ev, &res)
		b.tx.Advance(ev.Device, ev.Epoch, ev.Seq)
	}
	return out
}

// duplicate answers a place in the device's sequence that was decided
// before: a resend of the same event is a duplicate with the original
// verdict. Another event at that place is rejected, never "duplicate":
// a device takes a duplicate for its own event acknowledged, and a
// rejection at least reaches the person holding it. An id stored for
// another event is rejected too, without that event's verdict.
func (b *batch) duplicate(v *Verdict, ev *event.Event) {
	rec, err := b.tx.Event(ev.ID)
	if errors.Is(err, state.ErrNotFound) {
		v.Status = StatusRejected
		v.Reason = fmt.Sprintf("device %s epoch %d sequence %d is already used by another event; this event was not applied",
			ev.Device, ev.Epoch, ev.Seq)
		return
	}
	must(err, "event")
	if !sameEvent(&rec.Event, ev) {
		v.Status, v.Reason = StatusRejected, idTaken(ev.ID)
		return
	}
	v.Status = StatusDuplicate
	v.Result, v.Index, v.Reason = rec.Result, rec.Index, rec.Reason
}

func sameJSON(a, b any) bool {
	x, err := json.Marshal(a)
	must(err, "encode")
	y, err := json.Marshal(b)
	must(err, "encode")
	return bytes.Equal(x, y)
}

func idTaken(id event.ID) string {
	return fmt.Sprintf("event id %s is already used by another event; this event was not applied", id)
}

// sameEvent reports whether b is a resend of the stored event a: the
// same bytes but for its place in a device sequence (epoch and seq).
func sameEvent(a, b *event.Event) bool {
	x, y := *a, *b
	x.Epoch, x.Seq, y.Epoch, y.Seq = 0, 0, 0, 0
	return bytes.Equal(x.AppendBinary(nil), y.AppendBinary(nil))
}

func (b *batch) exception(c *ExceptionUpdate) any {
	x, err := b.tx.Exception(c.ID)
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("%w: exception %s", ErrNotFound, c.ID)
	}
	must(err, "exception")
	switch {
	case c.Status != unit.ExceptionAcknowledged && c.Status != unit.ExceptionResolved:
		return fmt.Errorf("%w: exception %s: status must be acknowledged or resolved", ErrRejected, c.ID)
	case x.Status == unit.ExceptionResolved:
		return fmt.Errorf("%w: exception %s is already resolved", ErrRejected, c.ID)
	case x.Status == c.Status:
		return nil
	}
	x.Status, x.By, x.Note = c.Status, c.By, c.Note
	if c.At > x.Updated {
		x.Updated = c.At
	}
	must(b.tx.PutException(x), "exception")
	return nil
}
