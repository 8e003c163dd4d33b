package state

import (
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Investigations: M W id → Investigation (JSON). Kept for good (DSCSA
// asks six years): nothing deletes or trims one, and every step stays.
const mInvestigation byte = 'W'

// Investigation statuses.
const (
	InvestigationOpen         = "open"
	InvestigationCleared      = "cleared"
	InvestigationIllegitimate = "illegitimate"
	InvestigationClosed       = "closed" // illegitimate product disposed of
)

// Investigation scopes: what it covers.
const (
	ScopeUnits     = "units"
	ScopeContainer = "container"
	ScopeLot       = "lot"
	ScopeProduct   = "product"
)

// Investigation is a suspect product investigation: what it covers, why
// it was opened, its status, and every step with who and when.
type Investigation struct {
	ID          string      `json:"id"`
	Client      string      `json:"client"`
	Scope       string      `json:"scope"`
	GTIN        string      `json:"gtin,omitempty"`
	Lot         string      `json:"lot,omitempty"`
	Keys        []event.Key `json:"keys,omitempty"` // the units or the container
	Trigger     string      `json:"trigger"`
	Exception   string      `json:"exception,omitempty"` // the exception that triggered it
	Description string      `json:"description"`
	Status      string      `json:"status"`
	// Illegitimate is when the product was declared illegitimate: the
	// 24-hour notification clock starts there.
	Illegitimate hlc.Timestamp `json:"illegitimate,omitempty"`
	Notices      []Notice      `json:"notices,omitempty"`
	// OverdueAt is when the site found the 24 hours passed without the
	// FDA notification marked sent; Overdue the high-severity exception
	// it raised then (none when the site knows no unit of the product).
	OverdueAt   hlc.Timestamp `json:"overdueAt,omitempty"`
	Overdue     string        `json:"overdueException,omitempty"`
	Disposition string        `json:"disposition,omitempty"`
	Steps       []Step        `json:"steps"`
}

// NotifyWithin is how long after product is found illegitimate the FDA
// (Form 3911) and the trading partners must be notified.
const NotifyWithin = 24 * time.Hour

// NoticeFDA is whom the Form 3911 notification goes to (a Notice's To).
const NoticeFDA = "fda"

// Notice is a notification marked sent: to FDA (Form 3911) or to a
// trading partner.
type Notice struct {
	To string        `json:"to"` // "fda" or a partner id
	By string        `json:"by"`
	At hlc.Timestamp `json:"at"`
}

// Step is one thing done in an investigation.
type Step struct {
	Action string        `json:"action"`
	By     string        `json:"by"`
	At     hlc.Timestamp `json:"at"`
	Note   string        `json:"note,omitempty"`
}

// PutInvestigation stores an investigation.
func (t *Tx) PutInvestigation(v Investigation) error { return t.putMaster(mInvestigation, v.ID, v) }

// Investigation returns one investigation.
func (r *Reader) Investigation(id string) (Investigation, error) {
	return getMaster[Investigation](r, mInvestigation, id)
}

// Investigations lists the investigations keep accepts, by id.
func (r *Reader) Investigations(keep func(*Investigation) bool) ([]Investigation, error) {
	return listMaster(r, mInvestigation, keep)
}
