package engine

import (
	"errors"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
)

// Item is one scanned thing: its key and what its label said.
type Item struct {
	Key    event.Key `json:"key"`
	Lot    string    `json:"lot,omitempty"`    // as scanned ("" when the label has none)
	Expiry string    `json:"expiry,omitempty"` // YYMMDD as scanned
}

// task is what the user is doing: scans go to it.
type task interface {
	name() string
	// policy reports whether scans must satisfy the client's lot and
	// expiry rules.
	policy() bool
	scan(e *Engine, it Item) (Step, error)
}

// Scan handles raw scanner data (GS as the 0x1D byte) in the current task.
func (e *Engine) Scan(raw []byte) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("scan"); s != nil {
		return *s, nil
	}
	if e.task == nil {
		return refused("scan", "choose a task first (receive, pick, pack, ship, hold, lookup, return ...)"), nil
	}
	it, s, err := e.identify(raw, e.task.policy())
	if s != nil || err != nil {
		return *s, err
	}
	return e.task.scan(e, it)
}

// ScanItem handles an already identified item in the current task: the
// event-level entry point, for callers that read keys some other way.
func (e *Engine) ScanItem(it Item) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("scan"); s != nil {
		return *s, nil
	}
	if e.task == nil {
		return refused("scan", "choose a task first"), nil
	}
	if err := it.Key.Validate(); err != nil {
		return refused("scan", "%v", err), nil
	}
	return e.task.scan(e, it)
}

// identify parses and checks a scan. With policy, a GTIN-identified item
// must carry the lot and expiry its client requires.
func (e *Engine) identify(raw []byte, policy bool) (Item, *Step, error) {
	d, err := gs1.Parse(raw)
	if err != nil {
		s := refused("scan", "%s", gs1Reason(err))
		return Item{}, &s, nil
	}
	pol := gs1.Policy{Today: e.today()}
	pr, err := gs1.Identify(d, gs1.WantAny, pol)
	if err != nil {
		s := refused("scan", "%s", gs1Reason(err))
		return Item{}, &s, nil
	}
	if pr.SSCC != "" {
		return Item{Key: event.SSCC(pr.SSCC)}, nil, nil
	}
	if policy {
		var cp gs1.Policy
		err := e.st.View(func(tx *store.Tx) error {
			p, err := tx.Product(pr.GTIN)
			if err != nil {
				return err
			}
			c, err := tx.Client(p.Client)
			if err != nil {
				return err
			}
			cp = gs1.Policy{RequireLot: c.Policy.RequireLot, RequireExpiry: c.Policy.RequireExpiry, Today: pol.Today}
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			s, err := failed("scan", err)
			return Item{}, &s, err
		default:
			if _, err := gs1.Identify(d, gs1.WantAny, cp); err != nil {
				s := refused("scan", "%s", gs1Reason(err))
				return Item{}, &s, nil
			}
		}
	}
	return Item{Key: event.SGTIN(pr.GTIN, pr.Serial), Lot: pr.Lot, Expiry: pr.ExpiryRaw}, nil, nil
}

func gs1Reason(err error) string {
	var ge *gs1.Error
	if errors.As(err, &ge) {
		return "bad scan: " + ge.Error()
	}
	return "bad scan: " + err.Error()
}
