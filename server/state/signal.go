package state

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/signals"
)

// Signals: i f finding id → SignalRecord (the finding and what people
// said of it); i c cause → SilencedCause (a false alarm: findings with
// this cause are not raised again); i t → the last log index the
// analyzer's findings cover.
const (
	sigFinding byte = 'f'
	sigCause   byte = 'c'
	sigThrough byte = 't'
)

// SignalRecord is a finding as applied.
type SignalRecord struct {
	Finding signals.Finding `json:"finding"`
	// Exception is the exception it opened or joined.
	Exception string `json:"exception"`
	// Quarantined: the finding put the unit on a suspect hold.
	Quarantined bool            `json:"quarantined,omitempty"`
	Verdict     signals.Verdict `json:"verdict,omitempty"`
	By          string          `json:"by,omitempty"`
	Note        string          `json:"note,omitempty"`
	At          hlc.Timestamp   `json:"at,omitempty"`
}

// SilencedCause is a cause a person judged a false alarm.
type SilencedCause struct {
	Cause     string        `json:"cause"`
	Exception string        `json:"exception"`
	By        string        `json:"by"`
	At        hlc.Timestamp `json:"at"`
}

// Signal returns the record of a finding (by its id, the id of the
// exception it opened).
func (r *Reader) Signal(id string) (SignalRecord, error) {
	var v SignalRecord
	err := r.getJSON(key(tSignal, string(sigFinding)+id), &v)
	return v, err
}

// Silenced reports whether a cause was judged a false alarm.
func (r *Reader) Silenced(cause string) (bool, error) {
	return r.has(key(tSignal, string(sigCause)+cause))
}

// SilencedCauses lists the silenced causes, in cause order.
func (r *Reader) SilencedCauses() ([]SilencedCause, error) {
	var out []SilencedCause
	err := r.scan([]byte{tSignal, sigCause}, nil, true, func(k, v []byte) (bool, error) {
		var c SilencedCause
		if err := jsonDecode(k, v, &c); err != nil {
			return false, err
		}
		out = append(out, c)
		return true, nil
	})
	return out, err
}

// SignalsThrough is the last log index the applied findings cover.
func (r *Reader) SignalsThrough() (uint64, error) {
	b, err := r.get([]byte{tSignal, sigThrough})
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: signals cursor", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(b), nil
}

// PutSignal stores a finding's record.
func (t *Tx) PutSignal(rec SignalRecord) error {
	return t.setJSON(key(tSignal, string(sigFinding)+rec.Finding.ID()), rec)
}

// SilenceCause stores a silenced cause.
func (t *Tx) SilenceCause(c SilencedCause) error {
	return t.setJSON(key(tSignal, string(sigCause)+c.Cause), c)
}

// SetSignalsThrough moves the analyzer's cursor forward (never back).
func (t *Tx) SetSignalsThrough(idx uint64) error {
	cur, err := t.SignalsThrough()
	if err != nil || idx <= cur {
		return err
	}
	return t.set([]byte{tSignal, sigThrough}, u64(idx))
}
