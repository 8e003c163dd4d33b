package api

import (
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Wire forms: what the API sends, converted from the domain types at
// the edge (verdicts as names rather than numbers).

type subjectWire struct {
	Key        event.Key `json:"key"`
	Verdict    string    `json:"verdict"`
	Reason     string    `json:"reason,omitempty"`
	Exceptions []string  `json:"exceptions,omitempty"`
	Via        event.Key `json:"via,omitempty"`
	Version    uint64    `json:"version"`
}

type resultWire struct {
	Verdict  string           `json:"verdict"`
	Reason   string           `json:"reason,omitempty"`
	Subjects []subjectWire    `json:"subjects"`
	Reopen   []unit.OrderLine `json:"reopen,omitempty"`
}

func toResult(r *unit.Result) *resultWire {
	if r == nil {
		return nil
	}
	w := &resultWire{Verdict: r.Verdict.String(), Reason: r.Reason, Reopen: r.Reopen, Subjects: make([]subjectWire, len(r.Subjects))}
	for i, s := range r.Subjects {
		w.Subjects[i] = subjectWire{Key: s.Key, Verdict: s.Verdict.String(), Reason: s.Reason, Exceptions: s.Exceptions, Via: s.Via, Version: s.Version}
	}
	return w
}

type verdictWire struct {
	ID       event.ID       `json:"id"`
	Device   string         `json:"device"`
	Epoch    uint32         `json:"epoch"`
	Seq      uint64         `json:"seq"`
	Status   command.Status `json:"status"`
	Index    uint64         `json:"index,omitempty"`
	Expected uint64         `json:"expected,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Result   *resultWire    `json:"result,omitempty"`
}

func toVerdicts(vs []command.Verdict) []verdictWire {
	out := make([]verdictWire, len(vs))
	for i, v := range vs {
		out[i] = verdictWire{ID: v.ID, Device: v.Device, Epoch: v.Epoch, Seq: v.Seq, Status: v.Status, Index: v.Index,
			Expected: v.Expected, Reason: v.Reason, Result: toResult(v.Result)}
	}
	return out
}

type recordWire struct {
	Event  event.Event `json:"event"`
	Index  uint64      `json:"index"`
	Result *resultWire `json:"result,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

func toRecord(r *state.Record) recordWire {
	return recordWire{Event: r.Event, Index: r.Index, Result: toResult(r.Result), Reason: r.Reason}
}
