package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Options tune the Badger database.
type Options struct {
	// InMemory keeps everything in memory (tests and benchmarks only).
	InMemory bool
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// MemTableSize is the size of one Badger memtable (0: Badger's 64 MiB).
	// Replicas apply the same log, so with equal sizes they rotate and
	// flush their memtables at the same log position; see
	// cluster.Config.StateMemTableSize.
	MemTableSize int64
}

// Store is the Badger database holding one replica's state.
type Store struct {
	db    *badger.DB
	dir   string     // "" in memory
	units *unitCache // committed unit records, for the write path (unitcache.go)
}

// Open opens (or creates) the state in dir. SyncWrites is off: the raft
// log is the durable truth and the processor replays what a crash lost.
//
// Tables are not compressed: the apply path is CPU-bound, and Badger
// compresses a flushed memtable on 2×NumCPU goroutines at once, which on
// a small machine starves the applier for the length of the flush
// (commit latency spikes of a few hundred ms at every memtable rotation).
// Keys share long prefixes that the table format already strips, and the
// values are compact binary, so the disk cost is modest (DESIGN.md). The
// block cache stays: without it every read parses its block again (a
// 100,000-unit lot query took 1.2 s instead of 0.37 s).
func Open(dir string, o Options) (*Store, error) {
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(false).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithLogger(badgerLogger{o.Logger}).
		WithMetricsEnabled(false)
	if o.MemTableSize > 0 {
		opts = opts.WithMemTableSize(o.MemTableSize)
	}
	if o.InMemory {
		opts = opts.WithInMemory(true).WithDir("").WithValueDir("")
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	if o.InMemory {
		dir = ""
	}
	s := &Store{db: db, dir: dir, units: newUnitCache(unitCacheSize)}
	if err := s.ensureDerived(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state: %w", err)
	}
	return s, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Size is what the database takes on disk now: its tables and manifest
// (lsm) and its value and memtable logs (logs, which are preallocated).
// Badger's own figures are refreshed once a minute and start at zero, so
// the directory is read instead.
func (s *Store) Size() (lsm, logs int64) {
	if s.dir == "" {
		return 0, 0
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch filepath.Ext(e.Name()) {
		case ".vlog", ".mem":
			logs += info.Size()
		default:
			lsm += info.Size()
		}
	}
	return lsm, logs
}

// Sync flushes Badger's write-ahead log to disk.
func (s *Store) Sync() error { return s.db.Sync() }

// Applied is the last raft index reflected in the state (0 when empty).
func (s *Store) Applied() (uint64, error) {
	var idx uint64
	err := s.View(func(r *Reader) error {
		var err error
		idx, err = r.Applied()
		return err
	})
	return idx, err
}

// View runs fn against a consistent read-only view.
func (s *Store) View(fn func(r *Reader) error) error {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return fn(&Reader{txn: txn})
}

// Begin opens a write transaction. The caller commits or discards it.
func (s *Store) Begin() *Tx {
	return &Tx{Reader: Reader{txn: s.db.NewTransaction(true)}, db: s.db, cache: s.units,
		units: map[event.Key]unit.State{}, enc: map[event.Key][]byte{}, inherited: map[string]event.Holds{}, marks: map[string]uint64{},
		excs: map[string]unit.Exception{}, active: map[string]string{}}
}

// Reader reads one consistent view of the state.
type Reader struct {
	txn *badger.Txn
}

// Applied is the last raft index reflected in this view.
func (r *Reader) Applied() (uint64, error) {
	v, err := r.get(keyApplied)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("%w: applied index", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

func (r *Reader) get(k []byte) ([]byte, error) {
	it, err := r.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("state get: %w", err)
	}
	return it.ValueCopy(nil)
}

func (r *Reader) has(k []byte) (bool, error) {
	_, err := r.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (r *Reader) getJSON(k []byte, v any) error {
	b, err := r.get(k)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrCorrupt, k, err)
	}
	return nil
}

// scan calls fn for each key with prefix, in key order, after the
// optional start key, until fn returns false or limit keys were seen
// (0: no limit). values says whether fn needs values.
func (r *Reader) scan(prefix, after []byte, values bool, fn func(k, v []byte) (bool, error)) error {
	opts := badger.IteratorOptions{Prefix: prefix, PrefetchValues: values, PrefetchSize: 64}
	it := r.txn.NewIterator(opts)
	defer it.Close()
	start := prefix
	if len(after) > 0 {
		start = append(append([]byte(nil), after...), 0)
	}
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var v []byte
		if values {
			var err error
			if v, err = item.ValueCopy(nil); err != nil {
				return fmt.Errorf("state scan: %w", err)
			}
		}
		more, err := fn(item.Key(), v)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// Tx is a write transaction over the state. It reads its own writes.
// It implements unit.Store.
type Tx struct {
	Reader
	db    *badger.DB
	cache *unitCache
	// split counts commits forced by Badger's transaction size limit.
	split int
	// writes counts the keys set or deleted.
	writes int
	// Read-through caches for the records every event touches. All
	// writes to these records go through this Tx, so they stay exact.
	units      map[event.Key]unit.State
	enc        map[event.Key][]byte // records read from Badger or written, for the cache at Commit
	inherited  map[string]event.Holds
	marks      map[string]uint64         // device mark key → mark, written at Commit
	excs       map[string]unit.Exception // exception id → exception as stored
	active     map[string]string         // active index key → exception id ("" when none)
	lotc       map[string]int64          // lot counter key → change, written at Commit (lotcount.go)
	act        map[actGroup][]byte       // activity index records by key, written at Commit (activity.go)
	prodClient map[string]productClient  // products' owners read this transaction (workflow.go)
	feed       feedState                 // the change feed's position (feed.go)
	applied    uint64                    // written by Commit, last (SetApplied)
	hasApp     bool
}

// Writes is how many keys the transaction set or deleted so far.
func (t *Tx) Writes() int { return t.writes }

// Commit writes the transaction: the feed record and the device marks
// it gathered, then the applied index, so that a transaction Badger's
// size limit cut short (see set) never records an index it has not
// wholly written.
func (t *Tx) Commit() error {
	if err := t.flushFeed(); err != nil {
		return err
	}
	if err := t.flushMarks(); err != nil {
		return err
	}
	if err := t.flushLotCounts(); err != nil {
		return err
	}
	if err := t.flushActivity(); err != nil {
		return err
	}
	if t.hasApp {
		if err := t.set(keyApplied, u64(t.applied)); err != nil {
			return err
		}
	}
	if t.split > 0 {
		if err := t.del(keyPartial); err != nil {
			return err
		}
	}
	if err := t.txn.Commit(); err != nil {
		// What this transaction read may be what it failed to replace.
		t.cache.clear()
		return fmt.Errorf("state commit: %w", err)
	}
	t.cache.put(t.enc)
	return nil
}

// Splits is how many times the transaction had to be committed early.
func (t *Tx) Splits() int { return t.split }

// Discard drops the transaction's writes.
func (t *Tx) Discard() { t.txn.Discard() }

// SetApplied records the last raft index this transaction reflects;
// Commit writes it after everything else.
func (t *Tx) SetApplied(idx uint64) error {
	t.applied, t.hasApp = idx, true
	return nil
}

// keyPartial marks a state that a transaction cut short: part of it is
// committed, the rest and the applied index are not.
var keyPartial = []byte{tMeta, 'p', 'a', 'r', 't', 'i', 'a', 'l'}

// set writes k=v. When a single raft entry grows past Badger's
// transaction limit the transaction is committed and continued in a new
// one (Splits counts them; only entries that touch tens of thousands of
// keys can). Replaying an entry over part of itself is not harmless (an
// index entry the first part wrote is not written again, the feed's
// counters count twice), so the part is committed only after the state
// is marked partial, and the final commit clears the mark: a node that
// finds it at start restores its state from a snapshot (Partial).
func (t *Tx) set(k, v []byte) error {
	t.writes++
	err := t.txn.Set(k, v)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := t.commitPart(); err != nil {
			return err
		}
		err = t.txn.Set(k, v)
	}
	if err != nil {
		return fmt.Errorf("state set: %w", err)
	}
	return nil
}

func (t *Tx) del(k []byte) error {
	t.writes++
	err := t.txn.Delete(k)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := t.commitPart(); err != nil {
			return err
		}
		err = t.txn.Delete(k)
	}
	if err != nil {
		return fmt.Errorf("state delete: %w", err)
	}
	return nil
}

// commitPart commits what the transaction holds, after marking the state
// partial, and continues in a new transaction.
func (t *Tx) commitPart() error {
	if err := t.db.Update(func(txn *badger.Txn) error { return txn.Set(keyPartial, []byte{1}) }); err != nil {
		return fmt.Errorf("state mark partial: %w", err)
	}
	if err := t.txn.Commit(); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	t.split++
	t.txn = t.db.NewTransaction(true)
	return nil
}

// Partial reports whether a transaction was cut short by a crash: the
// state then holds part of an entry, and is no state at any index.
func (s *Store) Partial() (bool, error) {
	var ok bool
	err := s.View(func(r *Reader) error { var err error; ok, err = r.has(keyPartial); return err })
	return ok, err
}

// Clear drops the whole state (a partial state with no snapshot to
// restore: raft replays the log from its start).
func (s *Store) Clear() error {
	s.units.clear()
	if err := s.db.DropAll(); err != nil {
		return fmt.Errorf("clear state: %w", err)
	}
	return s.ensureDerived()
}

func (t *Tx) setJSON(k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state encode: %w", err)
	}
	return t.set(k, b)
}

// badgerLogger routes Badger's log lines to slog (or nowhere).
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error("badger", "msg", fmt.Sprintf(f, a...))
	}
}
func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn("badger", "msg", fmt.Sprintf(f, a...))
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
