// Package store is the handheld's local replica and outbox on Badger: the
// master data, plans and unit states the site sends down, and every event
// the device has created, written in the same transaction as the state
// change it causes. A Tx implements unit.Store, so the handheld evaluates
// scans with exactly the rules the site's FSM runs.
package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors returned by this package.
var (
	// ErrCorrupt reports bytes in the store that do not decode.
	ErrCorrupt = errors.New("store: corrupt record")
	// ErrNotFound reports a master record or event the replica does not hold.
	ErrNotFound = errors.New("store: not found")
	// ErrDevice reports a data directory that belongs to another device.
	ErrDevice = errors.New("store: data directory belongs to another device")
	// ErrInvalid reports a record or argument the store refuses.
	ErrInvalid = errors.New("store: invalid")
	// ErrSequence reports an outbox append out of sequence.
	ErrSequence = errors.New("store: outbox sequence broken")
	// ErrTooBig reports a transaction larger than one Badger write
	// (about 12,000 entries or 1.2 MB with the handheld profile).
	ErrTooBig = errors.New("store: transaction too big")
)

// Options configure Open.
type Options struct {
	Device string       // the device id; a data dir keeps the one it was created with
	Logger *slog.Logger // nil: slog.Default()
	// Rand is the randomness a new data dir draws its epoch from
	// (crypto/rand when nil).
	Rand io.Reader
	// Profile overrides the handheld Badger profile (tests, benchmarks).
	Profile func(badger.Options) badger.Options
}

// Store is an open replica.
type Store struct {
	mu     sync.RWMutex // held for writing while a bulk load swaps db
	db     *badger.DB
	opts   badger.Options
	device string
	epoch  uint32
	log    *slog.Logger
}

// HandheldProfile is Badger tuned for a handheld with little memory and
// no tolerance for losing an accepted scan:
//
//   - 8 MiB memtables, two of them; 512 KiB tables and a short L0, so
//     Badger's table builders (its largest users of memory) stay small;
//   - 8 MiB block cache and 4 MiB index cache, so table indexes and bloom
//     filters of a large replica do not all stay in memory;
//   - 16 MiB value-log files and a 1 KiB value threshold (well below 15 %
//     of the memtable), so nearly every record lives in the LSM tree;
//   - two compactors (Badger needs 0 or at least 2);
//   - SyncWrites on: a commit returns only once the write-ahead log is on
//     disk, so a battery pull after "accepted" loses nothing.
//
// One transaction holds at most about 12,000 entries (15 % of a
// memtable): a step reaching more than about 3,000 units fails with
// ErrTooBig and writes nothing.
func HandheldProfile(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(512 << 10).
		WithBaseLevelSize(4 << 20).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(6).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(16 << 20).
		WithValueThreshold(1 << 10).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.Snappy).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithSyncWrites(true)
}

// Open opens (or creates) the replica in dir. A new data dir starts a new
// device epoch: a random non-zero 32-bit number drawn once and stored, so
// a wiped device does not reuse an (epoch, seq) pair it sent before,
// whatever its clock says (two wipes within a second, a clock set back).
func Open(dir string, o Options) (*Store, error) {
	if o.Device == "" {
		return nil, fmt.Errorf("%w: no device id", ErrInvalid)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	bo := HandheldProfile(dir).WithLogger(badgerLogger{o.Logger})
	if o.Profile != nil {
		bo = o.Profile(bo)
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, opts: bo, device: o.Device, log: o.Logger}
	err = db.Update(func(txn *badger.Txn) error {
		dev, err := getRaw(txn, metaDevice)
		switch {
		case errors.Is(err, ErrNotFound):
			epoch, err := newEpoch(o.Rand)
			if err != nil {
				return err
			}
			if err := txn.Set(metaDevice, []byte(o.Device)); err != nil {
				return err
			}
			if err := txn.Set(metaEpoch, binary.BigEndian.AppendUint32(nil, epoch)); err != nil {
				return err
			}
			s.epoch = epoch
			return nil
		case err != nil:
			return err
		case string(dev) != o.Device:
			return fmt.Errorf("%w: %q, not %q", ErrDevice, dev, o.Device)
		}
		ep, err := getRaw(txn, metaEpoch)
		if err != nil || len(ep) != 4 {
			return fmt.Errorf("%w: epoch", ErrCorrupt)
		}
		s.epoch = binary.BigEndian.Uint32(ep)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

// Close flushes and closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Close()
}

// Epoch is the data dir's device epoch.
func (s *Store) Epoch() uint32 { return s.epoch }

// Device is the device id the data dir belongs to.
func (s *Store) Device() string { return s.device }

// Update runs fn in one read-write transaction and commits it durably.
// Nothing fn wrote is kept when it returns an error.
func (s *Store) Update(fn func(tx *Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(func(txn *badger.Txn) error { return fn(newTx(s, txn)) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(func(txn *badger.Txn) error { return fn(newTx(s, txn)) })
}

// Serve runs value-log garbage collection every interval until ctx ends.
func (s *Store) Serve(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			s.mu.RLock()
			for s.db.RunValueLogGC(0.5) == nil {
			}
			s.mu.RUnlock()
		}
	}
}

// newEpoch draws a random non-zero epoch.
func newEpoch(r io.Reader) (uint32, error) {
	var b [4]byte
	for range 16 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("draw epoch: %w", err)
		}
		if e := binary.BigEndian.Uint32(b[:]); e != 0 {
			return e, nil
		}
	}
	return 0, fmt.Errorf("%w: the epoch source gives only zeros", ErrInvalid)
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) { b.l.Error("badger", "msg", fmt.Sprintf(f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	if strings.Contains(msg, "Unable to fill tables") {
		// DropPrefix could not compact level 0 while another compaction
		// held it; NewLoader deletes what it left (deletePrefixes).
		b.l.Info("badger", "msg", msg)
		return
	}
	b.l.Warn("badger", "msg", msg)
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}

func getRaw(txn *badger.Txn, k []byte) ([]byte, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}
