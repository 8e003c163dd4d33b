package console

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// pageSize is how many rows a list shows at once.
const pageSize = 50

// scanLimit bounds how many records one list page reads while it
// filters (the rest is behind "next").
const scanLimit = 20000

// Rules lists the exception rules for the filter.
var rules = []unit.Rule{unit.RuleDoublePick, unit.RuleDoublePack, unit.RuleHoldOverridesPick, unit.RuleHeldUnitMoved,
	unit.RuleShippedWhileHeld, unit.RuleActionOnInactive, unit.RuleClockSkew, unit.RuleDuplicateSerial, unit.RuleOverage,
	unit.RuleShortage, unit.RuleExpired, unit.RuleRecalled, unit.RuleAggregation, unit.RuleUnknownGTIN, unit.RuleNoData,
	unit.RuleLotMismatch, unit.RuleExpiryMismatch, unit.RuleDamaged, unit.RuleWrongSerial}

type exceptionFilter struct {
	Rule, Severity, Client, Status, Age string
}

type exceptionsView struct {
	Filter  exceptionFilter
	Rules   []unit.Rule
	Clients []string
	Items   []unit.Exception
	Next    string // query string of the next page
	Scanned bool   // the scan limit cut the page short
}

var ages = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

func (c *Console) exceptionsPage(x *fiber.Ctx) error {
	u := currentUser(x)
	f := exceptionFilter{Rule: x.Query("rule"), Severity: x.Query("severity"), Client: x.Query("client"), Status: x.Query("status", "open"), Age: x.Query("age")}
	sf := state.ExceptionFilter{Rule: unit.Rule(f.Rule), After: x.Query("after"), Client: func(cl string) bool {
		return u.Sees(cl) && (f.Client == "" || cl == f.Client)
	}, Limit: pageSize + 1}
	switch f.Status {
	case "", "any":
	default:
		if err := sf.Status.UnmarshalText([]byte(f.Status)); err != nil {
			return fmt.Errorf("%w: status %q: want open, acknowledged or resolved", ErrBadRequest, f.Status)
		}
	}
	var sev unit.Severity
	if f.Severity != "" {
		if err := sev.UnmarshalText([]byte(f.Severity)); err != nil {
			return fmt.Errorf("%w: severity %q: want low, medium or high", ErrBadRequest, f.Severity)
		}
	}
	var since time.Time
	if f.Age != "" {
		d, ok := ages[f.Age]
		if !ok {
			return fmt.Errorf("%w: age %q: want 1h, 24h or 7d", ErrBadRequest, f.Age)
		}
		since = c.cfg.Now().Add(-d)
	}
	if sev != 0 || !since.IsZero() {
		sf.Limit = 500 // filtered here: read more at a time
	}
	v := exceptionsView{Filter: f, Rules: rules}
	var next string
	err := c.node.State().View(func(r *state.Reader) error {
		cls, err := r.Clients(func(cl *master.Client) bool { return u.Sees(cl.ID) })
		if err != nil {
			return err
		}
		for _, cl := range cls {
			v.Clients = append(v.Clients, cl.ID)
		}
		scanned := 0
		for {
			page, err := r.Exceptions(sf)
			if err != nil {
				return err
			}
			for _, e := range page.Items {
				scanned++
				if sev != 0 && e.Severity != sev || !since.IsZero() && e.Opened.Time().Before(since) {
					continue
				}
				v.Items = append(v.Items, e)
				if len(v.Items) == pageSize {
					next = e.ID
					return nil
				}
			}
			if page.Next == "" {
				return nil
			}
			sf.After = page.Next
			if scanned >= scanLimit {
				next, v.Scanned = page.Next, true
				return nil
			}
		}
	})
	if err != nil {
		return err
	}
	if next != "" {
		q := url.Values{"rule": {f.Rule}, "severity": {f.Severity}, "client": {f.Client}, "status": {f.Status}, "age": {f.Age}, "after": {next}}
		v.Next = q.Encode()
	}
	// High severity first, then the newest.
	slices.SortStableFunc(v.Items, func(a, b unit.Exception) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if a.Opened != b.Opened {
			if a.Opened > b.Opened {
				return -1
			}
			return 1
		}
		return 0
	})
	return c.render(x, "exceptions", "Exceptions", v)
}

type eventRow struct {
	Rec     state.Record
	Subject *unit.SubjectResult
	InX     bool // one of the exception's events (the others are the unit's history around them)
}

type exceptionView struct {
	X        unit.Exception
	Unit     unit.State
	Product  string
	Inherit  event.Holds
	Events   []eventRow
	Outcomes []string
	CanLead  bool
}

// exceptionHistory is how much of the unit's history an exception's
// page shows besides the exception's own events.
const exceptionHistory = 20

// Outcomes a lead records when resolving an exception.
var outcomes = []string{"Released", "Kept on hold", "Recalled", "Destroyed", "Re-picked", "Contacted the partner", "No action needed"}

func (c *Console) exceptionPage(x *fiber.Ctx) error {
	u := currentUser(x)
	var v exceptionView
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		if v.X, err = r.Exception(x.Params("id")); err != nil {
			return err
		}
		if !u.Sees(v.X.Client) {
			return ErrNotFound
		}
		if v.Unit, err = r.Unit(v.X.Unit); err != nil {
			return err
		}
		if v.Inherit, err = r.Inherited(v.Unit); err != nil {
			return err
		}
		if p, err := r.Product(v.X.Unit.GTIN()); err == nil && p.Client == v.X.Client {
			v.Product = p.Name
		}
		// The exception's events and the unit's latest history, so both
		// sides of a conflict show (the first device's event did not
		// raise the exception).
		seen := map[event.ID]bool{}
		add := func(rec state.Record, inX bool) {
			if seen[rec.Event.ID] {
				return
			}
			seen[rec.Event.ID] = true
			row := eventRow{Rec: rec, InX: inX}
			if rec.Result != nil {
				for i := range rec.Result.Subjects {
					if rec.Result.Subjects[i].Key == v.X.Unit {
						row.Subject = &rec.Result.Subjects[i]
					}
				}
			}
			v.Events = append(v.Events, row)
		}
		for _, id := range v.X.Events {
			if rec, err := r.Event(id); err == nil {
				add(rec, true)
			}
		}
		hist, err := r.History(v.X.Unit, exceptionHistory)
		if err != nil {
			return err
		}
		for _, rec := range hist {
			add(rec, false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(v.Events, func(a, b eventRow) int {
		if a.Rec.Index != b.Rec.Index {
			if a.Rec.Index < b.Rec.Index {
				return -1
			}
			return 1
		}
		return 0
	})
	v.Outcomes, v.CanLead = outcomes, u.Role.CanRelease()
	return c.render(x, "exception", ruleName(v.X.Rule), v)
}

// exceptionAction acknowledges or resolves an exception, with a comment.
func (c *Console) exceptionAction(x *fiber.Ctx) error {
	u := currentUser(x)
	id := x.Params("id")
	var xc unit.Exception
	if err := c.node.State().View(func(r *state.Reader) error { var err error; xc, err = r.Exception(id); return err }); err != nil {
		return err
	}
	if !u.Sees(xc.Client) {
		return ErrNotFound
	}
	note := strings.TrimSpace(x.FormValue("note"))
	if len(note) > 1000 {
		return fmt.Errorf("%w: a comment has at most 1000 characters", ErrBadRequest)
	}
	upd := command.ExceptionUpdate{ID: id, By: u.ID, At: c.clock.Now()}
	switch x.FormValue("action") {
	case "acknowledge":
		upd.Status, upd.Note = unit.ExceptionAcknowledged, note
	case "resolve":
		if !u.Role.CanRelease() {
			return fmt.Errorf("%w: resolving needs a lead or an admin", ErrForbidden)
		}
		out := x.FormValue("outcome")
		if !slices.Contains(outcomes, out) {
			return fmt.Errorf("%w: choose what was done", ErrBadRequest)
		}
		upd.Status, upd.Note = unit.ExceptionResolved, out
		if note != "" {
			upd.Note += ": " + note
		}
	default:
		return fmt.Errorf("%w: unknown action", ErrBadRequest)
	}
	if err := c.propose(x.UserContext(), command.TypeException, upd); err != nil {
		return err
	}
	return x.Redirect("/exceptions/"+url.PathEscape(id)+"?done="+url.QueryEscape(upd.Status.String()), fiber.StatusSeeOther)
}
