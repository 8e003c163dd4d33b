package store

import (
	"errors"
	"testing"

	"github.com/custodyhq/custody/shared/master"
)

func serialModel(gtin string, n int64) master.SerialModel {
	m := master.SerialModel{GTIN: gtin, Client: "c1", MinSupport: 2, Threshold: 0.75, N: n}
	m.Lengths[12], m.Runs[2] = n, n
	for i := range 12 {
		m.Classes[i][0] = n
	}
	m.Chars['7'] = 12 * n
	return m
}

// TestSerialModelsInTheReplica: a serial model arrives with a resync
// and with a change set, replaces the one before, is dropped by a
// removal, and one that breaks the record's rules is refused.
func TestSerialModelsInTheReplica(t *testing.T) {
	const gtin, other = "09501101530003", "00300010123455"
	s := open(t, t.TempDir())
	get := func(g string) (master.SerialModel, error) {
		var m master.SerialModel
		err := s.View(func(tx *Tx) (err error) { m, err = tx.SerialModel(g); return })
		return m, err
	}
	if _, err := s.Load(&master.Snapshot{Site: master.Site{ID: "S"}, SerialModels: []master.SerialModel{serialModel(gtin, 10)}, Cursor: "site:S/1/1"}); err != nil {
		t.Fatal(err)
	}
	if m, err := get(gtin); err != nil || m.N != 10 {
		t.Fatalf("after the resync: %+v %v", m, err)
	}
	steps := []struct {
		name    string
		put     []master.SerialModel
		removed []Removal
		want    map[string]int64 // GTIN → serials (0: none)
		err     error
	}{
		{"a newer model", []master.SerialModel{serialModel(gtin, 11), serialModel(other, 5)}, nil, map[string]int64{gtin: 11, other: 5}, nil},
		{"removed", nil, []Removal{{KindSerial, other}}, map[string]int64{gtin: 11, other: 0}, nil},
		{"counts that do not add up", []master.SerialModel{func() master.SerialModel { m := serialModel(gtin, 12); m.N = 13; return m }()}, nil, map[string]int64{gtin: 11}, ErrInvalid},
	}
	for _, st := range steps {
		err := s.ApplyChanges(&master.Snapshot{SerialModels: st.put}, st.removed, "site:S/1/2")
		if !errors.Is(err, st.err) || (err == nil) != (st.err == nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.err)
		}
		for g, n := range st.want {
			m, err := get(g)
			if n == 0 && !errors.Is(err, ErrNotFound) || n != 0 && (err != nil || m.N != n) {
				t.Fatalf("%s: %s: %+v %v, want %d serials", st.name, g, m.N, err, n)
			}
		}
	}
}
