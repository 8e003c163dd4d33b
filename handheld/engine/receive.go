package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

type receiveTask struct{ asn string }

func (t *receiveTask) name() string { return "receive " + t.asn }
func (t *receiveTask) policy() bool { return true }
func (t *receiveTask) scan(e *Engine, it Item) (Step, error) {
	return e.receive(t.asn, it)
}

// places returns the site's receiving dock, quarantine and default
// stock locations (the first of each kind by id).
func places(tx *store.Tx) (dock, quarantine, stock string, err error) {
	locs, err := tx.Locations()
	if err != nil {
		return "", "", "", err
	}
	for _, l := range locs {
		switch {
		case l.Dock && dock == "":
			dock = l.ID
		case l.Quarantine && quarantine == "":
			quarantine = l.ID
		case !l.Dock && !l.Quarantine && stock == "":
			stock = l.ID
		}
	}
	return dock, quarantine, stock, nil
}

// StartReceive starts receiving against an ASN.
func (e *Engine) StartReceive(asn string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn("receive")
	if s != nil {
		return *s, nil
	}
	var a store.ASN
	err := e.st.View(func(tx *store.Tx) (err error) { a, err = tx.ASN(asn); return })
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refused("receive", "no ASN %s on this device", asn), nil
	case err != nil:
		return failed("receive", err)
	case !u.Sees(a.Client):
		return refused("receive", "ASN %s belongs to a client you are not granted", asn), nil
	case a.Closed:
		return refused("receive", "ASN %s is closed", asn), nil
	}
	e.task = &receiveTask{asn: asn}
	return accepted("receive", "receiving ASN %s from %s: %d items announced; scan pallets, cases or units", a.ID, a.Supplier, a.Items), nil
}

func (e *Engine) receive(asnID string, it Item) (Step, error) {
	u := e.user
	return e.write("receive", it.Key, func(w *writer) (string, error) {
		tx := w.tx
		a, err := tx.ASN(asnID)
		if err != nil {
			return "", err
		}
		if a.Closed {
			return "", refuse("ASN %s is closed", a.ID)
		}
		if !u.Sees(a.Client) {
			return "", refuse("ASN %s belongs to a client you are not granted", a.ID)
		}
		st, err := tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		dock, quar, _, err := places(tx)
		if err != nil {
			return "", err
		}
		ctx := event.Context{ASN: a.ID, To: dock, Lot: it.Lot, Expiry: it.Expiry}
		var why []string
		hold := event.HoldReason(0)
		gtin := it.Key.GTIN()
		switch {
		case it.Key.IsContainer() && st.Known():
			ctx.Inferred = true
		case it.Key.IsContainer():
			hold = event.HoldInvestigation
			why = append(why, "it is not on this ASN: open it and scan its contents")
		default:
			p, err := tx.Product(gtin)
			switch {
			case errors.Is(err, store.ErrNotFound):
				// unit.Workflow raises UNKNOWN_GTIN, here and at the site.
				hold = event.HoldInvestigation
				ctx.Reason = string(unit.RuleUnknownGTIN)
				why = append(why, "unknown product")
			case err != nil:
				return "", err
			case p.Client != a.Client:
				return "", refuse("%s is a product of client %s, not of %s: set it aside and call a lead", p.Name, p.Client, a.Client)
			case !st.Known() && !slices.Contains(a.GTINs, gtin):
				// unit.Workflow raises PRODUCT_WITHOUT_DATA from the reason.
				hold = event.HoldInvestigation
				ctx.ASN, ctx.Reason = "", unit.ReasonNotAnnounced+a.ID
				why = append(why, "product without shipping data")
			}
		}
		lot, exp := it.Lot, it.Expiry
		if lot == "" {
			lot = st.Lot
		}
		if exp == "" {
			exp = st.Expiry
		}
		inh, err := tx.LotHolds(gtin, lot)
		if err != nil {
			return "", err
		}
		// A container received by its label goes to quarantine whole when
		// anything inside is held, recalled or expired: it is opened there.
		affected := 0
		if ctx.Inferred {
			if affected, err = e.heldInside(tx, it.Key); err != nil {
				return "", err
			}
		}
		flagged := st.Holds != 0 || inh != 0 || e.expired(exp) || affected > 0
		quarantine := hold != 0 || flagged
		w.alert = flagged
		if quarantine {
			ctx.To = quar
		}
		ctx.Hold = hold
		_, res, err := w.emit(event.KindReceive, a.Client, []event.Key{it.Key}, ctx, fmt.Sprintf("%s was already received", it.Key))
		if err != nil {
			return "", err
		}
		if slices.Contains(w.rules, unit.RuleRecalled) || slices.Contains(w.rules, unit.RuleExpired) {
			w.alert = true
		}
		// A serial unlike the manufacturer's: received as scanned (the
		// site's analyzer judges it with everything it knows), flagged now,
		// first among the warnings: the step's reason leads with it. The
		// model is the one the site published to the replica, else the
		// one the engine was given.
		words, ok, err := e.suspectSerial(tx, it.Key)
		if err != nil {
			return "", err
		}
		if ok {
			w.warnings = append([]string{"suspicious serial: " + words}, w.warnings...)
			w.alert = true
		}
		msg := fmt.Sprintf("received %s", it.Key)
		if n := len(res.Subjects); ctx.Inferred && n > 1 {
			msg = fmt.Sprintf("received %s by its label with %d inside (completeness inferred)", it.Key, n-1)
		}
		if quarantine {
			msg += " to quarantine " + quar
		}
		if affected > 0 {
			why = append(why, fmt.Sprintf("%d inside on hold, recalled or expired: open it there", affected))
		}
		if len(why) > 0 {
			msg += ": " + strings.Join(why, "; ")
		}
		return msg, nil
	})
}

// heldInside counts what inside container k carries a hold of its own,
// an inherited lot or product hold, or an expired date.
func (e *Engine) heldInside(tx *store.Tx, k event.Key) (int, error) {
	inside, err := tx.Descendants(k)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range inside {
		s, err := tx.Unit(c)
		if err != nil {
			return 0, err
		}
		held := s.Holds
		if !c.IsContainer() {
			inh, err := tx.LotHolds(c.GTIN(), s.Lot)
			if err != nil {
				return 0, err
			}
			held |= inh
		}
		if held != 0 || !c.IsContainer() && e.expired(s.Expiry) {
			n++
		}
	}
	return n, nil
}

// shortage walks an ASN's items and returns the topmost ones still
// expected with nothing inside received, with how many items each
// stands for. A container whose contents arrived without its own label
// being scanned is not missing; what is missing inside it is.
func shortage(tx *store.Tx, a *store.ASN) ([]event.Key, map[event.Key]int, error) {
	var out []event.Key
	count := map[event.Key]int{}
	// walk returns the missing items under k (k itself when nothing of
	// it arrived), how many items they stand for, and whether anything
	// under k arrived.
	var walk func(k event.Key, depth int) ([]event.Key, int, bool, error)
	walk = func(k event.Key, depth int) ([]event.Key, int, bool, error) {
		s, err := tx.Unit(k)
		if err != nil {
			return nil, 0, false, err
		}
		expected := s.Status == unit.StatusExpected && s.ASN == a.ID
		if !k.IsContainer() || depth > 8 {
			if expected {
				return []event.Key{k}, 0, false, nil
			}
			return nil, 0, true, nil
		}
		kids, err := tx.Children(k)
		if err != nil {
			return nil, 0, false, err
		}
		var miss []event.Key
		inside, arrived := 0, !expected
		for _, c := range kids {
			m, n, got, err := walk(c, depth+1)
			if err != nil {
				return nil, 0, false, err
			}
			miss = append(miss, m...)
			inside += n + 1
			arrived = arrived || got
		}
		if expected && !arrived {
			count[k] = inside
			return []event.Key{k}, inside, false, nil
		}
		return miss, inside, arrived, nil
	}
	for _, r := range a.Roots {
		m, _, _, err := walk(r, 0)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, m...)
	}
	return out, count, nil
}

// closeASN closes the ASN being received with a close_asn event naming
// what it announced and this device has not received (the topmost
// missing items): unit.Workflow raises a SHORTAGE for each, here and
// again at the site when the event arrives, under the same ids. The site
// raises none for an item another device received meanwhile.
func (e *Engine) closeASN(asnID string) (Step, error) {
	var missing []event.Key
	st, err := e.write("close", "", func(w *writer) (string, error) {
		tx := w.tx
		a, err := tx.ASN(asnID)
		if err != nil {
			return "", err
		}
		var count map[event.Key]int
		missing, count, err = shortage(tx, &a)
		if err != nil {
			return "", err
		}
		if err := tx.CloseASN(a); err != nil {
			return "", err
		}
		ctx := event.Context{ASN: a.ID}
		for i := 0; i == 0 || i < len(missing); i += event.MaxSubjects {
			chunk := missing[i:min(i+event.MaxSubjects, len(missing))]
			if _, _, err := w.emit(event.KindCloseASN, a.Client, chunk, ctx, ""); err != nil {
				return "", err
			}
		}
		if len(missing) == 0 {
			return fmt.Sprintf("ASN %s closed: everything announced was received", a.ID), nil
		}
		n := 0
		for _, k := range missing {
			n += 1 + count[k]
		}
		w.warnings = append([]string{fmt.Sprintf("%d items announced on ASN %s were not received", n, a.ID)}, w.warnings...)
		return fmt.Sprintf("ASN %s closed with a shortage", a.ID), nil
	})
	if err == nil && st.Verdict != Refused {
		st.Missing = missing
		e.task = nil
		if st.Verdict == Accepted {
			st.Cue = CueDone
		}
	}
	return st, err
}

type verifyTask struct {
	container event.Key
	expected  []event.Key
	scanned   []event.Key
}

func (t *verifyTask) name() string {
	if t.container == "" {
		return "verify"
	}
	return "verify " + string(t.container)
}
func (t *verifyTask) policy() bool { return false }

func (t *verifyTask) scan(e *Engine, it Item) (Step, error) {
	if t.container == "" {
		var s unit.State
		var kids []event.Key
		err := e.st.View(func(tx *store.Tx) (err error) {
			if s, err = tx.Unit(it.Key); err != nil {
				return err
			}
			kids, err = tx.Children(it.Key)
			return err
		})
		switch {
		case err != nil:
			return failed("verify", err)
		case !it.Key.IsContainer():
			return refused("verify", "scan the case or pallet label first"), nil
		case !s.Known():
			return refused("verify", "%s is unknown to this site", it.Key), nil
		case s.Status == unit.StatusExpected:
			return refused("verify", "%s has not been received: receive it first", it.Key), nil
		case s.Status != unit.StatusInStock && s.Status != unit.StatusPicked && s.Status != unit.StatusPacked:
			return refused("verify", "%s is %s: it cannot be opened here", it.Key, s.Status), nil
		case !e.user.Sees(s.Client):
			return refused("verify", "%s belongs to a client you are not granted", it.Key), nil
		}
		t.container, t.expected = it.Key, kids
		st := accepted("verify", "open %s and scan everything inside (%d expected), then close", it.Key, len(kids))
		st.Subject = it.Key
		return st, nil
	}
	if slices.Contains(t.scanned, it.Key) {
		st := Step{Verdict: Warning, Cue: CueWarn, Action: "verify", Subject: it.Key, Reason: fmt.Sprintf("%s was already scanned", it.Key)}
		return st, nil
	}
	t.scanned = append(t.scanned, it.Key)
	if !slices.Contains(t.expected, it.Key) {
		return Step{Verdict: Warning, Cue: CueWarn, Action: "verify", Subject: it.Key,
			Reason: fmt.Sprintf("%s is not expected in %s: keep it with the case", it.Key, t.container)}, nil
	}
	found := 0
	for _, k := range t.scanned {
		if slices.Contains(t.expected, k) {
			found++
		}
	}
	st := accepted("verify", "%d of %d", found, len(t.expected))
	st.Subject = it.Key
	return st, nil
}

// StartVerify starts opening a container to check its contents: the
// next scan names the container, the following ones what is inside.
func (e *Engine) StartVerify() Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("verify"); s != nil {
		return *s
	}
	e.task = &verifyTask{}
	return accepted("verify", "scan the label of the case or pallet to open")
}

// closeVerify ends a verification: a full match marks the container
// completeness_verified; otherwise the container (and everything in it)
// is held for investigation with an AGGREGATION_MISMATCH exception
// naming what is missing and extra, and extras the site did not know
// here are received to quarantine.
func (e *Engine) closeVerify(t *verifyTask) (Step, error) {
	if t.container == "" {
		e.task = nil
		return accepted("close", "nothing was opened"), nil
	}
	var missing, extra []event.Key
	for _, k := range t.expected {
		if !slices.Contains(t.scanned, k) {
			missing = append(missing, k)
		}
	}
	for _, k := range t.scanned {
		if !slices.Contains(t.expected, k) {
			extra = append(extra, k)
		}
	}
	st, err := e.write("close", t.container, func(w *writer) (string, error) {
		tx := w.tx
		c, err := tx.Unit(t.container)
		if err != nil {
			return "", err
		}
		if len(missing) == 0 && len(extra) == 0 {
			_, _, err := w.emit(event.KindVerify, c.Client, []event.Key{t.container}, event.Context{}, fmt.Sprintf("%s was already verified", t.container))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s verified: all %d inside (completeness verified)", t.container, len(t.expected)), nil
		}
		_, quar, _, err := places(tx)
		if err != nil {
			return "", err
		}
		for _, k := range extra {
			s, err := tx.Unit(k)
			if err != nil {
				return "", err
			}
			if s.Known() && s.Status != unit.StatusExpected {
				continue
			}
			if _, _, err := w.emit(event.KindReceive, c.Client, []event.Key{k}, event.Context{ASN: c.ASN, To: quar, Hold: event.HoldInvestigation,
				Reason: "found in " + string(t.container)}, ""); err != nil {
				var n *errNothing
				if !errors.As(err, &n) {
					return "", err
				}
			}
		}
		// The verification result: unit.Workflow compares what was found
		// with what the replica records inside and raises the
		// AGGREGATION_MISMATCH, here and at the site.
		found := append([]event.Key{t.container}, t.scanned...)
		if _, _, err := w.emit(event.KindVerifyMismatch, c.Client, found, event.Context{}, ""); err != nil {
			return "", err
		}
		detail := unit.MismatchDetail(t.container, len(t.expected), missing, extra)
		_, _, err = w.emit(event.KindHold, c.Client, []event.Key{t.container}, event.Context{Hold: event.HoldInvestigation, Reason: "aggregation mismatch"}, "")
		var n *errNothing
		if errors.As(err, &n) {
			err = nil
		}
		if err != nil {
			return "", err
		}
		if !slices.Contains(w.warnings, detail) {
			w.warnings = append(w.warnings, detail)
		}
		return fmt.Sprintf("%s held for investigation", t.container), nil
	})
	if err == nil && st.Verdict != Refused {
		st.Missing, st.Extra = missing, extra
		e.task = nil
		if st.Verdict == Accepted {
			st.Cue = CueDone
		}
	}
	return st, err
}

// Close ends the current task: closes the ASN being received (raising
// shortages), the container being verified, or the container being
// packed.
func (e *Engine) Close() (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("close"); s != nil {
		return *s, nil
	}
	switch t := e.task.(type) {
	case *receiveTask:
		return e.closeASN(t.asn)
	case *verifyTask:
		return e.closeVerify(t)
	case *packTask:
		e.task = nil
		return accepted("close", "container %s closed", t.container), nil
	case nil:
		return refused("close", "nothing to close"), nil
	default:
		e.task = nil
		return accepted("close", "%s ended", t.name()), nil
	}
}
