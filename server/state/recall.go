package state

import (
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// Recalls: M Q id → Recall (JSON). A recall is kept for good: nothing
// deletes or trims it.
const mRecall byte = 'Q'

// Recall is a lot recall at the site: the lot is held (a lot hold under
// the recall's id) and the recall counts what comes back.
type Recall struct {
	ID     string        `json:"id"`
	Client string        `json:"client"`
	GTIN   string        `json:"gtin"`
	Lot    string        `json:"lot"`
	Note   string        `json:"note,omitempty"`
	By     string        `json:"by"`
	At     hlc.Timestamp `json:"at"`
	// Returned lists the units of the lot received back as returns
	// since the recall opened, in log order.
	Returned []event.Key `json:"returned,omitempty"`
}

// RecallID is the id of the recall of gtin and lot: one per lot.
func RecallID(gtin, lot string) string { return "RC-" + gtin + "-" + lot }

// PutRecall stores a recall.
func (t *Tx) PutRecall(r Recall) error { return t.putMaster(mRecall, r.ID, r) }

// Recall returns one recall.
func (r *Reader) Recall(id string) (Recall, error) { return getMaster[Recall](r, mRecall, id) }

// Recalls lists the recalls keep accepts, by id.
func (r *Reader) Recalls(keep func(*Recall) bool) ([]Recall, error) {
	return listMaster(r, mRecall, keep)
}
