package engine

import (
	"errors"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// Info is everything the device knows of one unit, case or pallet.
type Info struct {
	Key          event.Key      `json:"key"`
	Known        bool           `json:"known"`
	Status       unit.Status    `json:"status"`
	Client       string         `json:"client,omitempty"`
	Product      string         `json:"product,omitempty"`
	Lot          string         `json:"lot,omitempty"`
	Expiry       string         `json:"expiry,omitempty"`
	Holds        string         `json:"holds,omitempty"`     // its own
	Inherited    string         `json:"inherited,omitempty"` // from its lot or product
	Location     string         `json:"location,omitempty"`
	Container    event.Key      `json:"container,omitempty"`
	Contents     []event.Key    `json:"contents,omitempty"` // the first 50 direct children
	ContentCount int            `json:"contentCount,omitempty"`
	ASN          string         `json:"asn,omitempty"`
	Order        string         `json:"order,omitempty"`
	Shipment     string         `json:"shipment,omitempty"`
	Completeness string         `json:"completeness,omitempty"`
	Version      uint64         `json:"version"`
	Exceptions   []ExceptionRef `json:"exceptions,omitempty"`
	History      []HistoryItem  `json:"history,omitempty"`
}

// ExceptionRef is an open exception in a look-up.
type ExceptionRef struct {
	ID     string    `json:"id"`
	Rule   unit.Rule `json:"rule"`
	Detail string    `json:"detail"`
}

// HistoryItem is one event in a look-up's history.
type HistoryItem struct {
	At     hlc.Timestamp `json:"at"`
	Kind   event.Kind    `json:"kind"`
	User   string        `json:"user"`
	Device string        `json:"device"`
	Seq    uint64        `json:"seq"`
	Ctx    event.Context `json:"ctx"`
}

type lookupTask struct{}

func (lookupTask) name() string { return "lookup" }
func (lookupTask) policy() bool { return false }
func (lookupTask) scan(e *Engine, it Item) (Step, error) {
	return e.lookup(it.Key)
}

// StartLookup makes scans show what the device knows of what is scanned.
func (e *Engine) StartLookup() Step {
	return e.setTask("lookup", lookupTask{}, "scan anything to look it up")
}

// Lookup shows what the device knows of k.
func (e *Engine) Lookup(k event.Key) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("lookup"); s != nil {
		return *s, nil
	}
	return e.lookup(k)
}

// lookup reads what the device knows of k and, when k is a client's the
// user sees, writes a lookup event to the outbox: who looked at what
// syncs like any other event (a look-up records nothing on the unit;
// unit.Evaluate decides so on both sides).
func (e *Engine) lookup(k event.Key) (Step, error) {
	var in Info
	var w *writer
	err := e.st.Update(func(tx *store.Tx) error {
		s, err := tx.Unit(k)
		if err != nil {
			return err
		}
		in = Info{Key: k, Known: s.Known(), Status: s.Status, Client: s.Client, Lot: s.Lot, Expiry: s.Expiry, Holds: s.Holds.String(),
			Location: s.Location, Container: s.Parent, ASN: s.ASN, Order: s.Order, Shipment: s.Shipment, Version: s.Version}
		switch s.Completeness {
		case unit.CompletenessInferred:
			in.Completeness = "inferred"
		case unit.CompletenessVerified:
			in.Completeness = "verified"
		}
		if g := k.GTIN(); g != "" {
			if p, err := tx.Product(g); err == nil {
				in.Product = p.Name
				if in.Client == "" {
					in.Client = p.Client
				}
			}
			inh, err := tx.LotHolds(g, s.Lot)
			if err != nil {
				return err
			}
			in.Inherited = inh.String()
		}
		kids, err := tx.Children(k)
		if err != nil {
			return err
		}
		in.ContentCount = len(kids)
		in.Contents = kids[:min(len(kids), 50)]
		xs, err := tx.ExceptionsOf(k)
		if err != nil {
			return err
		}
		for _, x := range xs {
			in.Exceptions = append(in.Exceptions, ExceptionRef{ID: x.ID, Rule: x.Rule, Detail: x.Detail})
		}
		hist, err := tx.History(k, 50)
		if err != nil {
			return err
		}
		for _, ev := range hist {
			in.History = append(in.History, HistoryItem{At: ev.HLC, Kind: ev.Kind, User: ev.User, Device: ev.Device, Seq: ev.Seq, Ctx: ev.Ctx})
		}
		if in.Client == "" || !e.user.Sees(in.Client) {
			return nil // no client to record it for, or not the user's to see
		}
		w = &writer{e: e, tx: tx}
		if _, _, err := w.emit(event.KindLookup, in.Client, []event.Key{k}, event.Context{}, ""); err != nil {
			var r *refusal
			if errors.As(err, &r) {
				// The look-up still shows; only its record is not kept.
				e.log.Info("lookup not recorded", "subject", string(k), "reason", r.reason)
				w = nil
				return nil
			}
			return err
		}
		return nil
	})
	if err != nil {
		return failed("lookup", err)
	}
	if in.Client != "" && !e.user.Sees(in.Client) {
		return refused("lookup", "%s belongs to a client you are not granted", k), nil
	}
	st := accepted("lookup", "%s", describeInfo(&in))
	st.Subject, st.Info = k, &in
	if w != nil {
		st.Events, st.Seq = w.events, w.seq
	}
	// Unknown, or held (own or through its lot or product): not a unit
	// to use as it is, so not a green banner either.
	if !in.Known || in.Holds != "" || in.Inherited != "" {
		st.Verdict, st.Cue = Warning, CueWarn
	}
	return st, nil
}

func describeInfo(in *Info) string {
	if !in.Known {
		return string(in.Key) + " is unknown to this device"
	}
	s := in.Status.String()
	if in.Product != "" {
		s = in.Product + ": " + s
	}
	if in.Location != "" {
		s += " at " + in.Location
	}
	if in.Container != "" {
		s += " in " + in.Container.String()
	}
	if in.Holds != "" || in.Inherited != "" {
		s += ", on hold"
	}
	return s
}
