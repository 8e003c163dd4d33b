package unit

import (
	"crypto/sha256"
	"encoding/json"
	"slices"

	"github.com/custodyhq/custody/shared/event"
)

// MemStore is an in-memory Store: the reference replica for tests and
// simulations, small enough to read. Lot and product holds are keyed by
// "gtin|lot" and "gtin|".
type MemStore struct {
	Units      map[event.Key]State
	Exceptions map[string]Exception
	LotHolds   map[string]event.Holds
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{Units: map[event.Key]State{}, Exceptions: map[string]Exception{}, LotHolds: map[string]event.Holds{}}
}

// Unit implements Store.
func (m *MemStore) Unit(k event.Key) (State, error) { return m.Units[k], nil }

// PutUnit implements Store.
func (m *MemStore) PutUnit(s State) error { m.Units[s.Key] = s; return nil }

// Children implements Store.
func (m *MemStore) Children(p event.Key) ([]event.Key, error) {
	var out []event.Key
	for k, s := range m.Units {
		if s.Parent == p {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Inherited implements Store.
func (m *MemStore) Inherited(s State) (event.Holds, error) {
	g := s.Key.GTIN()
	return m.LotHolds[g+"|"+s.Lot] | m.LotHolds[g+"|"], nil
}

// ActiveException implements Store.
func (m *MemStore) ActiveException(k event.Key, r Rule) (Exception, bool, error) {
	best := Exception{}
	found := false
	for _, x := range m.Exceptions {
		if x.Unit == k && x.Rule == r && x.Active() && (!found || x.ID < best.ID) {
			best, found = x, true
		}
	}
	return best, found, nil
}

// PutException implements Store.
func (m *MemStore) PutException(x Exception) error { m.Exceptions[x.ID] = x; return nil }

// Hash is a digest of every unit and exception, in key order: two
// replicas with equal hashes hold the same state.
func (m *MemStore) Hash() [32]byte {
	h := sha256.New()
	keys := make([]event.Key, 0, len(m.Units))
	for k := range m.Units {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	enc := json.NewEncoder(h)
	for _, k := range keys {
		_ = enc.Encode(m.Units[k])
	}
	ids := make([]string, 0, len(m.Exceptions))
	for id := range m.Exceptions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		_ = enc.Encode(m.Exceptions[id])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
