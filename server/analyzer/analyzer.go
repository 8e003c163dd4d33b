// Package analyzer runs the counterfeit and diversion signals beside the
// FSM, off the apply path. Every node follows its own committed log in
// order and keeps the signals' derived state (shared/signals.Analyzer);
// the leader proposes the findings as TypeSignals commands, so every
// replica holds the same findings and exceptions.
//
// A leader change neither loses nor repeats a finding: followers compute
// the same findings from the same log and keep them pending until a
// Signals entry covers their log position (Signals.Through); a new
// leader proposes what is still pending. A finding's id is derived from
// its rule, unit and event, and applying one already applied changes
// nothing, so a finding proposed twice (an old leader's entry committed
// after all) opens one exception.
//
// The leader also publishes the products' serial models for handhelds
// (publish.go) as SerialModels commands, when a model has moved far
// enough from the one the log last published.
package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
)

// Node is what the analyzer needs from a cluster node.
type Node interface {
	LogEntry(index uint64, l *raft.Log) error
	FirstLogIndex() (uint64, error)
	Applied() uint64
	IsLeader() bool
	State() *state.Store
	Propose(ctx context.Context, data []byte, forwarded bool) (json.RawMessage, error)
}

// Config sets up an analyzer.
type Config struct {
	Node    Node
	Logger  *slog.Logger
	Poll    time.Duration // how often it looks for new entries (default 50 ms)
	Signals signals.Config
	// MaxEntries bounds the entries read in one step (default 256).
	MaxEntries int
}

// Analyzer follows the log and proposes findings.
type Analyzer struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards sig (read by SerialModel)
	sig     *signals.Analyzer
	next    uint64 // next log index to read (0: not started)
	pending []pending
	// published is, per product, how many serials the serial model
	// published last had learned (from the log's SerialModels entries);
	// checked is the log position of the last look for models to publish.
	published map[string]int64
	checked   uint64

	events   atomic.Uint64
	proposed atomic.Uint64
	through  atomic.Uint64
}

type pending struct {
	index uint64
	f     signals.Finding
}

// New returns an analyzer; Serve runs it.
func New(cfg Config) *Analyzer {
	if cfg.Poll <= 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Analyzer{cfg: cfg, log: cfg.Logger.With("part", "signals"), sig: signals.NewAnalyzer(cfg.Signals)}
}

// Stats are the analyzer's counters.
type Stats struct {
	Events   uint64 `json:"events"`   // events analyzed
	Proposed uint64 `json:"proposed"` // findings this node proposed
	Read     uint64 `json:"read"`     // the last log index read
	Through  uint64 `json:"through"`  // the last index the committed findings cover
	Pending  int    `json:"pending"`  // findings not yet committed
}

// Stats returns the counters.
func (a *Analyzer) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	read := a.next
	if read > 0 {
		read--
	}
	return Stats{Events: a.events.Load(), Proposed: a.proposed.Load(), Read: read, Through: a.through.Load(), Pending: len(a.pending)}
}

// SerialModel returns a copy of the serial format model of a product
// (false when there is none), for handhelds.
func (a *Analyzer) SerialModel(gtin string) (signals.FormatModel, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.sig.SerialModel(gtin)
	if m == nil {
		return signals.FormatModel{}, false
	}
	return *m, true
}

// HandheldModels copies the serial format models that judge, for
// handhelds to flag suspicious serials at the scan, offline.
func (a *Analyzer) HandheldModels() *signals.SerialModels {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sig.HandheldModels()
}

// Serve follows the log until ctx ends.
func (a *Analyzer) Serve(ctx context.Context) error {
	t := time.NewTicker(a.cfg.Poll)
	defer t.Stop()
	for {
		for {
			more, err := a.Step(ctx)
			if err != nil {
				a.log.Warn("signals step failed", "err", err)
				break
			}
			if !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step reads the entries applied since the last step (at most
// MaxEntries) and, on the leader, proposes what is pending. more reports
// that applied entries remain to read.
func (a *Analyzer) Step(ctx context.Context) (more bool, err error) {
	if err := a.start(); err != nil {
		return false, err
	}
	applied := a.cfg.Node.Applied()
	read := 0
	var l raft.Log
	for a.next <= applied && read < a.cfg.MaxEntries {
		err := a.cfg.Node.LogEntry(a.next, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			first, ferr := a.cfg.Node.FirstLogIndex()
			if ferr != nil {
				return false, ferr
			}
			if first <= a.next {
				// A hole that is not compaction: skip the index.
				a.next++
				continue
			}
			a.log.Warn("signals: log compacted before it was read; the derived state misses entries", "from", a.next, "to", first-1)
			a.next = first
			continue
		}
		if err != nil {
			return false, fmt.Errorf("signals: read log %d: %w", a.next, err)
		}
		if l.Type == raft.LogCommand {
			if err := a.entry(l.Index, l.Data); err != nil {
				return false, err
			}
		}
		a.next++
		read++
	}
	if a.cfg.Node.IsLeader() {
		if err := a.propose(ctx); err != nil {
			return false, err
		}
		if err := a.publish(ctx); err != nil {
			return false, err
		}
	}
	return a.next <= a.cfg.Node.Applied(), nil
}

// start reads the silenced causes and the cursor once.
func (a *Analyzer) start() error {
	if a.next != 0 {
		return nil
	}
	var causes []state.SilencedCause
	var through uint64
	var models []master.SerialModel
	err := a.cfg.Node.State().View(func(r *state.Reader) error {
		var err error
		if causes, err = r.SilencedCauses(); err != nil {
			return err
		}
		if models, err = r.SerialModels(nil); err != nil {
			return err
		}
		through, err = r.SignalsThrough()
		return err
	})
	if err != nil {
		return fmt.Errorf("signals: start: %w", err)
	}
	first, err := a.cfg.Node.FirstLogIndex()
	if err != nil {
		return fmt.Errorf("signals: start: %w", err)
	}
	a.mu.Lock()
	for _, c := range causes {
		a.sig.Suppress(c.Cause)
	}
	a.published = make(map[string]int64, len(models))
	for _, m := range models {
		a.published[m.GTIN] = m.N
	}
	a.mu.Unlock()
	a.through.Store(through)
	a.next = max(first, 1)
	return nil
}

// entry feeds one committed command to the signals.
func (a *Analyzer) entry(index uint64, data []byte) error {
	t, payload, err := command.Decode(data)
	if err != nil {
		return nil // not ours to judge: the FSM stops on it
	}
	switch t {
	case command.TypeEvents:
		var evs command.Events
		if err := evs.UnmarshalBinary(payload); err != nil {
			return nil
		}
		return a.eventBatch(index, &evs)
	case command.TypeASN:
		var v command.ASN
		if json.Unmarshal(payload, &v) == nil {
			a.mu.Lock()
			a.sig.ObserveASN(&v.ASN)
			a.mu.Unlock()
		}
	case command.TypeASNChunk:
		var v command.ASNChunk
		if json.Unmarshal(payload, &v) == nil {
			a.mu.Lock()
			a.sig.ObserveASN(&v.ASN)
			a.mu.Unlock()
		}
	case command.TypeSignals:
		var v command.Signals
		if json.Unmarshal(payload, &v) == nil {
			if v.Through > a.through.Load() {
				a.through.Store(v.Through)
			}
			a.mu.Lock()
			keep := a.pending[:0]
			for _, p := range a.pending {
				if p.index > v.Through {
					keep = append(keep, p)
				}
			}
			a.pending = keep
			a.mu.Unlock()
		}
	case command.TypeSerialModels:
		var v command.SerialModels
		if json.Unmarshal(payload, &v) == nil {
			a.mu.Lock()
			for i := range v.Models {
				if v.Models[i].Validate() == nil {
					a.published[v.Models[i].GTIN] = v.Models[i].N
				}
			}
			a.mu.Unlock()
		}
	case command.TypeSignalVerdict:
		var v command.SignalVerdict
		if json.Unmarshal(payload, &v) != nil || v.Verdict != signals.VerdictFalseAlarm {
			return nil
		}
		var rec state.SignalRecord
		err := a.cfg.Node.State().View(func(r *state.Reader) error {
			var err error
			rec, err = r.Signal(v.Exception)
			return err
		})
		if err == nil && rec.Verdict == signals.VerdictFalseAlarm {
			a.mu.Lock()
			a.sig.Suppress(rec.Finding.Cause)
			a.mu.Unlock()
		}
	}
	return nil
}

// eventBatch feeds a batch of events with the verdicts the FSM stored.
func (a *Analyzer) eventBatch(index uint64, evs *command.Events) error {
	recs := make([]*state.Record, len(evs.Events))
	err := a.cfg.Node.State().View(func(r *state.Reader) error {
		for i := range evs.Events {
			rec, err := r.Event(evs.Events[i].ID)
			if errors.Is(err, state.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if rec.Index == index { // not a resend answered as a duplicate
				recs[i] = &rec
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("signals: read verdicts of entry %d: %w", index, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	through := a.through.Load()
	for i := range evs.Events {
		rec := recs[i]
		if rec == nil || rec.Result == nil {
			// A duplicate or a rejected event: nothing happened.
			continue
		}
		a.events.Add(1)
		for _, f := range a.sig.ObserveEvent(&evs.Events[i], rec.Result) {
			if index > through {
				a.pending = append(a.pending, pending{index, f})
			}
		}
	}
	return nil
}

// propose sends the pending findings, in order, in commands of at most
// command.MaxSignalFindings.
func (a *Analyzer) propose(ctx context.Context) error {
	for {
		a.mu.Lock()
		n := min(len(a.pending), command.MaxSignalFindings)
		if n == 0 {
			a.mu.Unlock()
			return nil
		}
		// Through covers every finding of the entries it names: a batch
		// cut inside an entry's findings covers only the entries before.
		batch := command.Signals{Through: a.next - 1}
		if n < len(a.pending) {
			batch.Through = a.pending[n].index - 1
		}
		for _, p := range a.pending[:n] {
			batch.Findings = append(batch.Findings, p.f)
		}
		a.mu.Unlock()
		data, err := command.EncodeJSON(command.TypeSignals, batch)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = a.cfg.Node.Propose(pctx, data, false)
		cancel()
		if err != nil {
			return fmt.Errorf("signals: propose %d findings: %w", n, err)
		}
		a.proposed.Add(uint64(n))
		a.mu.Lock()
		a.pending = append(a.pending[:0], a.pending[n:]...)
		a.mu.Unlock()
		if batch.Through > a.through.Load() {
			a.through.Store(batch.Through)
		}
	}
}
