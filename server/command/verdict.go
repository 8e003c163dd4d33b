package command

import (
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Status is what the site did with one submitted event.
type Status string

// Statuses.
const (
	// StatusApplied: evaluated in log order; Result says what it did.
	StatusApplied Status = "applied"
	// StatusDuplicate: the device sent this place in its sequence before;
	// Result is the original verdict when it is still kept.
	StatusDuplicate Status = "duplicate"
	// StatusGap: an earlier sequence number is missing; nothing was done.
	// Expected is the number the site waits for (NACK_GAP).
	StatusGap Status = "gap"
	// StatusRejected: the event is malformed; it took its place in the
	// device's sequence but changed nothing. Reason says why.
	StatusRejected Status = "rejected"
)

// Verdict is the answer for one submitted event, sent only after the
// raft commit and apply.
type Verdict struct {
	ID       event.ID     `json:"id"`
	Device   string       `json:"device"`
	Epoch    uint32       `json:"epoch"`
	Seq      uint64       `json:"seq"`
	Status   Status       `json:"status"`
	Index    uint64       `json:"index,omitempty"`    // the log index that decided it
	Expected uint64       `json:"expected,omitempty"` // for a gap: the next sequence number wanted
	Reason   string       `json:"reason,omitempty"`
	Result   *unit.Result `json:"result,omitempty"`
}

// ASNResult is what importing an ASN did: one verdict per item.
type ASNResult struct {
	Verdicts []Verdict `json:"verdicts"`
}
