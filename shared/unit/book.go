package unit

import (
	"fmt"
	"slices"
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
	Owners     Owners        // who owns each GTIN (nil: not checked); a subject of another client's GTIN is refused
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
	var skew time.Duration
	if Notes(ev.Kind) {
		// A look-up records nothing on its units: applied, as a note.
		res.Verdict = VerdictApplied
		return res, nil
	}
	if ev.Kind == event.KindPack {
		why, err := packTarget(st, ev)
		if err != nil {
			return res, err
		}
		if why != "" {
			for _, s := range ev.Subjects {
				res.Subjects = append(res.Subjects, SubjectResult{Key: s.Key, Verdict: VerdictRefused, Reason: why})
			}
			res.Verdict, res.Reason = VerdictRefused, why
			return res, nil
		}
	}
	cat, _ := st.(Catalog)
	raised, err := Workflow(st, cat, ev)
	if err != nil {
		return res, err
	}
	for _, s := range ev.Subjects {
		if Records(ev.Kind) {
			cur, err := st.Unit(s.Key)
			if err != nil {
				return res, fmt.Errorf("unit %s: %w", s.Key, err)
			}
			res.Subjects = append(res.Subjects, SubjectResult{Key: s.Key, Verdict: VerdictMerged, Version: cur.Version})
			continue
		}
		if err := evalOne(st, ev, env, s, "", 0, &res, &skew); err != nil {
			return res, err
		}
	}
	if err := raiseWorkflow(st, ev, env, raised, &res); err != nil {
		return res, err
	}
	if ev.Kind == event.KindPack && res.applied() {
		if err := ensureContainer(st, ev, env); err != nil {
			return res, err
		}
	}
	if skew > 0 && len(res.Subjects) > 0 {
		// Device health: one exception per event, on its first subject.
		f := Finding{Rule: RuleClockSkew, Detail: fmt.Sprintf("device %s's clock is %s ahead of the site's", ev.Device, skew.Round(time.Second))}
		id, err := raise(st, f, res.Subjects[0].Key, ev, EffectiveTime(ev, env.Received))
		if err != nil {
			return res, err
		}
		res.Subjects[0].Exceptions = append(res.Subjects[0].Exceptions, id)
	}
	res.Verdict = VerdictMerged
	for _, s := range res.Subjects {
		if rank(s.Verdict) > rank(res.Verdict) {
			res.Verdict, res.Reason = s.Verdict, s.Reason
		}
	}
	return res, nil
}

// raiseWorkflow opens or joins the exceptions Workflow found and adds
// them to the result of the subject they are about. A workflow record's
// subject with a finding is a conflict: the device learns what was found.
func raiseWorkflow(st Store, ev *event.Event, env Env, raised []Raised, res *Result) error {
	display := EffectiveTime(ev, env.Received)
	for _, r := range raised {
		i := slices.IndexFunc(res.Subjects, func(s SubjectResult) bool { return s.Key == r.Key && s.Via == "" })
		if !Records(ev.Kind) && (i < 0 || res.Subjects[i].Verdict == VerdictRefused || res.Subjects[i].Version == r.version) {
			continue // the event did not change the unit: nothing was found
		}
		if i < 0 {
			res.Subjects = append(res.Subjects, SubjectResult{Key: r.Key, Verdict: VerdictConflict, Reason: r.Detail})
			i = len(res.Subjects) - 1
		}
		id, err := raise(st, r.Finding, r.Key, ev, display)
		if err != nil {
			return err
		}
		sr := &res.Subjects[i]
		if Records(ev.Kind) {
			sr.Verdict, sr.Reason = VerdictConflict, r.Detail
		}
		if !slices.Contains(sr.Exceptions, id) {
			sr.Exceptions = append(sr.Exceptions, id)
		}
	}
	return nil
}

func (r *Result) applied() bool {
	for _, s := range r.Subjects {
		if s.Verdict == VerdictApplied || s.Verdict == VerdictMerged || s.Verdict == VerdictConflict {
			return true
		}
	}
	return false
}

// raise opens an exception for a finding, or joins the open one for the
// same unit and rule, and returns its id.
func raise(st Store, f Finding, k event.Key, ev *event.Event, display hlc.Timestamp) (string, error) {
	x, ok, err := st.ActiveException(k, f.Rule)
	if err != nil {
		return "", fmt.Errorf("exceptions of %s: %w", k, err)
	}
	if ok {
		if !x.Join(f, ev, display) {
			return x.ID, nil
		}
	} else {
		x = Open(f, k, ev, display)
	}
	if err := st.PutException(x); err != nil {
		return "", fmt.Errorf("store exception: %w", err)
	}
	return x.ID, nil
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

func evalOne(st Store, ev *event.Event, env Env, subj event.Subject, via event.Key, depth int, res *Result, skew *time.Duration) error {
	cur, err := st.Unit(subj.Key)
	if err != nil {
		return fmt.Errorf("unit %s: %w", subj.Key, err)
	}
	foreign, err := KeyOwned(env.Owners, subj.Key, ev.Client)
	if err != nil {
		return err
	}
	if foreign != "" || cur.Known() && cur.Client != "" && cur.Client != ev.Client {
		// Each client's stock is its own: an event for client A never
		// touches client B's unit, nor creates one of B's GTINs, whoever
		// sent it. The refusal says nothing of B's unit (not even its
		// version).
		res.Subjects = append(res.Subjects, SubjectResult{Key: subj.Key, Verdict: VerdictRefused, Via: via,
			Reason: NotTheClients(subj.Key, ev.Client)})
		return nil
	}
	inh, err := inherited(st, cur, subj.Key, ev.Ctx.Lot)
	if err != nil {
		return err
	}
	var contents event.Holds
	if subj.Key.IsContainer() && (ev.Kind == event.KindPick || ev.Kind == event.KindPack) {
		if contents, err = contentsHeld(st, subj.Key, 0); err != nil {
			return err
		}
	}
	out := Apply(Input{Current: cur, Inherited: inh, ContentsHeld: contents, Event: ev, Subject: subj,
		Authorized: env.Authorized, Received: env.Received, MaxSkew: env.MaxSkew})
	if out.Skew > *skew {
		*skew = out.Skew
	}
	sr := SubjectResult{Key: subj.Key, Verdict: out.Verdict, Reason: out.Reason, Via: via, Version: out.State.Version}
	if out.Changed {
		if err := st.PutUnit(out.State); err != nil {
			return fmt.Errorf("store %s: %w", subj.Key, err)
		}
	}
	display := EffectiveTime(ev, env.Received)
	for _, f := range out.Findings {
		id, err := raise(st, f, subj.Key, ev, display)
		if err != nil {
			return err
		}
		sr.Exceptions = append(sr.Exceptions, id)
	}
	if r := out.Reopen; r != nil && r.Order != "" && !slices.Contains(res.Reopen, *r) {
		res.Reopen = append(res.Reopen, *r)
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
		if err := evalOne(st, ev, env, event.Subject{Key: k}, subj.Key, depth+1, res, skew); err != nil {
			return err
		}
	}
	return nil
}

// inherited is the lot and product holds that reach a unit: through the
// lot on record and through the lot the event says it carries (which may
// differ, and is the physical fact), also for units the site does not
// know yet.
func inherited(st Store, cur State, k event.Key, scannedLot string) (event.Holds, error) {
	probe := cur
	if !probe.Known() {
		probe = State{Key: k, Lot: scannedLot}
	}
	h, err := st.Inherited(probe)
	if err != nil {
		return 0, fmt.Errorf("holds of %s: %w", k, err)
	}
	if scannedLot != "" && scannedLot != probe.Lot {
		probe.Lot = scannedLot
		more, err := st.Inherited(probe)
		if err != nil {
			return 0, fmt.Errorf("holds of %s: %w", k, err)
		}
		h |= more
	}
	return h, nil
}

// contentsHeld collects the holds of everything inside container k.
func contentsHeld(st Store, k event.Key, depth int) (event.Holds, error) {
	if depth >= maxDepth {
		return 0, nil
	}
	kids, err := st.Children(k)
	if err != nil {
		return 0, fmt.Errorf("children of %s: %w", k, err)
	}
	var h event.Holds
	for _, c := range kids {
		s, err := st.Unit(c)
		if err != nil {
			return 0, fmt.Errorf("unit %s: %w", c, err)
		}
		inh, err := st.Inherited(s)
		if err != nil {
			return 0, fmt.Errorf("holds of %s: %w", c, err)
		}
		h |= s.Holds | inh
		if c.IsContainer() {
			more, err := contentsHeld(st, c, depth+1)
			if err != nil {
				return 0, err
			}
			h |= more
		}
	}
	return h, nil
}

// packTarget says why the container a pack event names cannot take
// anything ("" when it can): it left, it is on hold or out of the supply
// chain, or it belongs to another client or order.
func packTarget(st Store, ev *event.Event) (string, error) {
	c, err := st.Unit(ev.Ctx.Parent)
	if err != nil {
		return "", fmt.Errorf("container %s: %w", ev.Ctx.Parent, err)
	}
	if !c.Known() {
		return "", nil
	}
	// A container cannot go inside itself or inside anything it holds.
	subjects := make(map[event.Key]bool, len(ev.Subjects))
	for _, s := range ev.Subjects {
		subjects[s.Key] = true
	}
	for up, depth := c, 0; up.Known() && depth < maxDepth; depth++ {
		if subjects[up.Key] {
			return fmt.Sprintf("%s is inside %s: a container cannot be packed into its own contents", ev.Ctx.Parent, up.Key), nil
		}
		if up.Parent == "" {
			break
		}
		if up, err = st.Unit(up.Parent); err != nil {
			return "", fmt.Errorf("container %s: %w", up.Parent, err)
		}
	}
	inh, err := st.Inherited(c)
	if err != nil {
		return "", fmt.Errorf("holds of %s: %w", c.Key, err)
	}
	switch {
	case c.Status != StatusPacked && c.Status != StatusPicked:
		return fmt.Sprintf("container %s is %s: pack into another", c.Key, describe(c.Status)), nil
	case c.Holds|inh != 0:
		return fmt.Sprintf("container %s is on hold (%s): pack into another", c.Key, c.Holds|inh), nil
	case c.Client != "" && c.Client != ev.Client:
		return fmt.Sprintf("container %s cannot take client %s's goods: pack into another", c.Key, ev.Client), nil
	case c.Order != "" && ev.Ctx.Order != "" && c.Order != ev.Ctx.Order:
		return fmt.Sprintf("container %s is packed for order %s, not %s: pack into another", c.Key, c.Order, ev.Ctx.Order), nil
	}
	return "", nil
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
	when := EffectiveTime(ev, env.Received)
	return st.PutUnit(State{Key: ev.Ctx.Parent, Client: ev.Client, Status: StatusPacked, Order: ev.Ctx.Order,
		Completeness: CompletenessVerified, Version: 1, LastEvent: ev.ID, LastDevice: ev.Device, Updated: when, Since: when})
}
