package unit

import (
	"fmt"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Store is what Evaluate needs from a replica: the site's Badger state
// on a cluster node, or the local replica on a handheld. Implementations
// must return children in key order.
type Store interface {
	Unit(k event.Key) (State, error) // the zero State when unknown
	PutUnit(s State) error
	Children(parent event.Key) ([]event.Key, error) // direct children, in key order
	Inherited(s State) (event.Holds, error)         // holds on the unit's lot or product
	ActiveException(k event.Key, r Rule) (Exception, bool, error)
	PutException(x Exception) error
}

// Env is what the evaluator knows beyond the store.
type Env struct {
	Authorized bool          // the event's user may release holds and make corrections
	Received   hlc.Timestamp // the proposer's clock (0 on a handheld)
	MaxSkew    time.Duration
}

// SubjectResult is what an event did to one unit.
type SubjectResult struct {
	Key        event.Key `json:"key"`
	Verdict    Verdict   `json:"verdict"`
	Reason     string    `json:"reason,omitempty"`
	Exceptions []string  `json:"exceptions,omitempty"` // ids opened or joined
	Via        event.Key `json:"via,omitempty"`        // the container the event reached it through
	Version    uint64    `json:"version"`
}

// Result is what an event did, subject by subject.
type Result struct {
	Verdict  Verdict         `json:"verdict"` // the worst of the subjects'
	Reason   string          `json:"reason,omitempty"`
	Subjects []SubjectResult `json:"subjects"`
	Reopen   []OrderLine     `json:"reopen,omitempty"`
}

// Exceptions lists every exception id the event opened or joined.
func (r *Result) Exceptions() []string {
	var out []string
	for _, s := range r.Subjects {
		out = append(out, s.Exceptions...)
	}
	return out
}

// maxDepth bounds container nesting (pallet → case → inner pack → unit).
const maxDepth = 8

// Evaluate applies ev to st: each subject in order, then, for kinds that
// propagate, everything inside each container subject (depth first, key
// order). Findings open exceptions or join the open one for the same unit
// and rule. It is deterministic given the store's contents.
func Evaluate(st Store, ev *event.Event, env Env) (Result, error) {
	var res Result
	if ev.Kind == event.KindPack {
		if err := ensureContainer(st, ev, env); err != nil {
			return res, err
		}
	}
	for _, s := range ev.Subjects {
		if err := evalOne(st, ev, env, s, "", 0, &res); err != nil {
			return res, err
		}
	}
	res.Verdict = VerdictMerged
	for _, s := range res.Subjects {
		if rank(s.Verdict) > rank(res.Verdict) {
			res.Verdict, res.Reason = s.Verdict, s.Reason
		}
	}
	return res, nil
}

func rank(v Verdict) int {
	switch v {
	case VerdictMerged:
		return 0
	case VerdictApplied:
		return 1
	case VerdictConflict:
		return 2
	case VerdictRefused:
		return 3
	}
	return -1
}

func evalOne(st Store, ev *event.Event, env Env, subj event.Subject, via event.Key, depth int, res *Result) error {
	cur, err := st.Unit(subj.Key)
	if err != nil {
		return fmt.Errorf("unit %s: %w", subj.Key, err)
	}
	inh := event.Holds(0)
	if cur.Known() {
		if inh, err = st.Inherited(cur); err != nil {
			return fmt.Errorf("holds of %s: %w", subj.Key, err)
		}
	}
	out := Apply(Input{Current: cur, Inherited: inh, Event: ev, Subject: subj, Authorized: env.Authorized, Received: env.Received, MaxSkew: env.MaxSkew})
	sr := SubjectResult{Key: subj.Key, Verdict: out.Verdict, Reason: out.Reason, Via: via, Version: out.State.Version}
	if out.Changed {
		if err := st.PutUnit(out.State); err != nil {
			return fmt.Errorf("store %s: %w", subj.Key, err)
		}
	}
	display := ev.HLC
	if out.Changed {
		display = out.State.Updated
	} else if env.Received != 0 {
		display = ev.HLC.Clamp(env.Received)
	}
	for _, f := range out.Findings {
		x, ok, err := st.ActiveException(subj.Key, f.Rule)
		if err != nil {
			return fmt.Errorf("exceptions of %s: %w", subj.Key, err)
		}
		if ok {
			if !x.Join(f, ev, display) {
				sr.Exceptions = append(sr.Exceptions, x.ID)
				continue
			}
		} else {
			x = Open(f, subj.Key, ev, display)
		}
		if err := st.PutException(x); err != nil {
			return fmt.Errorf("store exception: %w", err)
		}
		sr.Exceptions = append(sr.Exceptions, x.ID)
	}
	if out.Reopen != nil && out.Reopen.Order != "" {
		res.Reopen = append(res.Reopen, *out.Reopen)
	}
	res.Subjects = append(res.Subjects, sr)
	if !subj.Key.IsContainer() || !Propagates(ev.Kind) || out.Verdict == VerdictRefused || depth >= maxDepth {
		return nil
	}
	if out.Verdict == VerdictConflict && !out.Changed {
		return nil
	}
	kids, err := st.Children(subj.Key)
	if err != nil {
		return fmt.Errorf("children of %s: %w", subj.Key, err)
	}
	for _, k := range kids {
		if err := evalOne(st, ev, env, event.Subject{Key: k}, subj.Key, depth+1, res); err != nil {
			return err
		}
	}
	return nil
}

// ensureContainer creates the container a pack event packs into when the
// site does not know it yet: a new outbound case or pallet.
func ensureContainer(st Store, ev *event.Event, env Env) error {
	c, err := st.Unit(ev.Ctx.Parent)
	if err != nil {
		return fmt.Errorf("container %s: %w", ev.Ctx.Parent, err)
	}
	if c.Known() {
		return nil
	}
	display := ev.HLC
	if env.Received != 0 {
		display = ev.HLC.Clamp(env.Received)
	}
	return st.PutUnit(State{Key: ev.Ctx.Parent, Client: ev.Client, Status: StatusPacked, Order: ev.Ctx.Order,
		Completeness: CompletenessVerified, Version: 1, LastEvent: ev.ID, LastDevice: ev.Device, Updated: display, Since: ev.HLC})
}
