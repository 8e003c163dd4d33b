package operator

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// cache is the operator's own Badger: the last known state of every
// site (rebuilt from the sites by polling; never a source of truth for
// custody), the console's signing key, each user's session epoch and
// wrong passwords (so a restart does not unlock a user).
type cache struct {
	db *badger.DB
}

// Keys of the cache.
const (
	keySessionKey = "console/key"
	prefixSite    = "site/"      // + site id → Snapshot
	prefixEpoch   = "epoch/"     // + user id → uint64
	prefixFails   = "fails/"     // + user id → failures (a configured user's wrong passwords)
	keyDuplicates = "duplicates" // → []dupRow
)

func openCache(dir string, log *slog.Logger) (*cache, error) {
	opts := badger.DefaultOptions(dir).WithSyncWrites(false).WithCompression(options.None).
		WithLogger(nil).WithMetricsEnabled(false).WithNumVersionsToKeep(1)
	if dir == "" {
		opts = opts.WithInMemory(true)
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("operator cache: %w", err)
	}
	return &cache{db: db}, nil
}

func (c *cache) Close() error { return c.db.Close() }

func (c *cache) getJSON(key string, v any) (bool, error) {
	err := c.db.View(func(tx *badger.Txn) error {
		it, err := tx.Get([]byte(key))
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (c *cache) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.db.Update(func(tx *badger.Txn) error { return tx.Set([]byte(key), b) })
}

// sessionKey is the console's signing key, drawn at the first start.
func (c *cache) sessionKey() ([]byte, error) {
	var k []byte
	ok, err := c.getJSON(keySessionKey, &k)
	if err != nil || ok {
		return k, err
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, c.putJSON(keySessionKey, k)
}

func (c *cache) epoch(user string) (uint64, error) {
	var e uint64
	_, err := c.getJSON(prefixEpoch+user, &e)
	return e, err
}

func (c *cache) bumpEpoch(user string) error {
	e, err := c.epoch(user)
	if err != nil {
		return err
	}
	return c.putJSON(prefixEpoch+user, e+1)
}

func (c *cache) snapshot(site string) (Snapshot, bool, error) {
	var s Snapshot
	ok, err := c.getJSON(prefixSite+site, &s)
	return s, ok, err
}

func (c *cache) putSnapshot(s Snapshot) error { return c.putJSON(prefixSite+s.Site, s) }

// failures are a user's wrong passwords since the last good one, and
// the end of the lock they caused (zero: not locked).
type failures struct {
	N     int       `json:"n,omitempty"`
	Until time.Time `json:"until,omitempty"`
}

func (c *cache) failures(user string) (failures, error) {
	var f failures
	_, err := c.getJSON(prefixFails+user, &f)
	return f, err
}

func (c *cache) putFailures(user string, f failures) error { return c.putJSON(prefixFails+user, f) }

// clearFailures forgets a user's wrong passwords (a good one came).
func (c *cache) clearFailures(user string) error {
	return c.db.Update(func(tx *badger.Txn) error { return tx.Delete([]byte(prefixFails + user)) })
}
