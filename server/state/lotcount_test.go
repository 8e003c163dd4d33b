package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

var lotTestGTINs = [...]string{"00300010123455", "00300010234567"}

// lotStep changes one unit the way an event would: received, moved,
// held or released, picked, packed, shipped, decommissioned, expected
// by an ASN, or its lot corrected.
func lotStep(rng *rand.Rand, s unit.State, now hlc.Timestamp) unit.State {
	lots := [...]string{"L1", "L2", "L3", ""}
	locs := [...]string{"A-01", "B-02", ""}
	ships := [...]string{"S1", "S10", "S2"}
	n := s
	n.Since = now
	switch rng.IntN(10) {
	case 0: // expected by an ASN
		if !s.Known() {
			n.Status, n.Lot = unit.StatusExpected, lots[rng.IntN(len(lots))]
		}
	case 1: // received
		if !s.Known() || s.Status == unit.StatusExpected || s.Status == unit.StatusShipped {
			n.Status, n.Location, n.Shipment, n.Order = unit.StatusInStock, locs[rng.IntN(len(locs))], "", ""
			if !s.Known() {
				n.Lot = lots[rng.IntN(len(lots))]
			}
		}
	case 2: // moved
		n.Location, n.Since = locs[rng.IntN(len(locs))], s.Since
	case 3: // held or released
		n.Holds, n.Since = event.Holds(rng.IntN(3)), s.Since
	case 4:
		if s.Status == unit.StatusInStock {
			n.Status, n.Order = unit.StatusPicked, [...]string{"O1", "O2", "O10"}[rng.IntN(3)]
		} else if s.Status == unit.StatusPicked { // unpicked
			n.Status, n.Order = unit.StatusInStock, ""
		}
	case 5:
		if s.Status == unit.StatusPicked {
			n.Status = unit.StatusPacked
		}
	case 6:
		if s.Status == unit.StatusPacked || s.Status == unit.StatusPicked {
			n.Status, n.Shipment, n.Location = unit.StatusShipped, ships[rng.IntN(len(ships))], ""
		}
	case 7:
		if s.Known() {
			n.Status = unit.StatusDecommissioned
		}
	case 8: // a correction of the lot
		if s.Known() {
			n.Lot, n.Since = lots[rng.IntN(len(lots))], s.Since
		}
	case 9: // a correction of the shipment
		if s.Status == unit.StatusShipped {
			n.Shipment, n.Since = ships[rng.IntN(len(ships))], s.Since
		}
	}
	return n
}

// applyLotSteps applies batches of random steps, each batch one
// transaction, and returns the applied index.
func applyLotSteps(t *testing.T, st *Store, rng *rand.Rand, from uint64, batches, keys int) uint64 {
	t.Helper()
	idx := from
	for range batches {
		idx++
		applyAt(t, st, idx, func(tx *Tx) error {
			for range 1 + rng.IntN(40) {
				k := event.SGTIN(lotTestGTINs[rng.IntN(len(lotTestGTINs))], fmt.Sprintf("SN%d", rng.IntN(keys)))
				if rng.IntN(8) == 0 { // a case: no lot, and not counted in its order
					k = event.SSCC(fmt.Sprintf("0030001%010d", rng.IntN(keys/4+1)))
				}
				s, err := tx.Unit(k)
				if err != nil {
					return err
				}
				if !s.Known() {
					s = unit.State{Key: k, Client: "acme"}
				}
				// Seconds apart and within one second: units shipped
				// together share the second.
				now := hlc.New(1700000000000+int64(idx)*700+int64(rng.IntN(3)), 0)
				n := lotStep(rng, s, now)
				if n.Known() {
					if err := tx.PutUnit(n); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	return idx
}

// modelCounts counts a GTIN's lots from its units, as the recall page
// did before the counters.
func modelCounts(t *testing.T, r *Reader, gtin string) []LotCounts {
	t.Helper()
	page, err := r.Units(UnitFilter{GTIN: gtin, AnyLot: true})
	if err != nil {
		t.Fatal(err)
	}
	byLot := map[string]*LotCounts{}
	for _, s := range page.Items {
		c := byLot[s.Lot]
		if c == nil {
			c = &LotCounts{GTIN: gtin, Lot: s.Lot, ByStatus: map[unit.Status]int{}, ByLocation: map[string]int{}}
			byLot[s.Lot] = c
		}
		c.Total++
		c.ByStatus[s.Status]++
		switch s.Status {
		case unit.StatusInStock, unit.StatusPicked, unit.StatusPacked:
			c.Here++
			c.ByLocation[s.Location]++
			if s.Holds != 0 {
				c.HereHeld++
			}
		case unit.StatusShipped:
			at := time.Unix(s.Since.Millis()/1000, 0).UTC()
			i := slices.IndexFunc(c.Shipped, func(x ShipmentCount) bool { return x.Shipment == s.Shipment })
			if i < 0 {
				c.Shipped = append(c.Shipped, ShipmentCount{Shipment: s.Shipment})
				i = len(c.Shipped) - 1
			}
			c.Shipped[i].Units++
			if at.After(c.Shipped[i].Last) {
				c.Shipped[i].Last = at
			}
		}
	}
	var out []LotCounts
	for _, c := range byLot {
		slices.SortFunc(c.Shipped, func(a, b ShipmentCount) int {
			return bytes.Compare([]byte(a.Shipment), []byte(b.Shipment))
		})
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b LotCounts) int { return bytes.Compare([]byte(a.Lot), []byte(b.Lot)) })
	return out
}

// checkLotCounts holds the stored counters to a recount of the units and
// the reader's answer to a count made unit by unit.
func checkLotCounts(t *testing.T, st *Store, when string) {
	t.Helper()
	err := st.View(func(r *Reader) error {
		if err := r.VerifyLotCounts(); err != nil {
			return err
		}
		orders := map[string]OrderCounts{}
		all, err := r.Units(UnitFilter{})
		if err != nil {
			return err
		}
		for _, u := range all.Items {
			if u.Order == "" || u.Key.IsContainer() {
				continue
			}
			c := orders[u.Order]
			switch u.Status {
			case unit.StatusPicked:
				c.Picked++
			case unit.StatusPacked:
				c.Packed++
			case unit.StatusShipped:
				c.Shipped++
			}
			orders[u.Order] = c
		}
		for _, o := range []string{"O1", "O2", "O10", "O3"} {
			got, err := r.OrderCounts(o)
			if err != nil {
				return err
			}
			if got != orders[o] {
				return fmt.Errorf("order %s: %+v, unit by unit %+v", o, got, orders[o])
			}
		}
		for _, g := range lotTestGTINs {
			want := modelCounts(t, r, g)
			got, err := r.LotCounts(g, "", true)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				return fmt.Errorf("%s: counters\n%+v\nunit by unit\n%+v", g, got, want)
			}
			for _, w := range want {
				one, err := r.LotCounts(g, w.Lot, false)
				if err != nil {
					return err
				}
				if len(one) != 1 || !reflect.DeepEqual(one[0], w) {
					return fmt.Errorf("%s lot %q: %+v, want %+v", g, w.Lot, one, w)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

func TestLotCountsFollowTheUnits(t *testing.T) {
	for _, c := range []struct {
		name           string
		seed           uint64
		batches, units int
	}{
		{"few units, many changes each", 1, 300, 12},
		{"more units", 2, 200, 200},
		{"one batch", 3, 1, 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(c.seed, 7))
			st := openTest(t)
			idx := applyLotSteps(t, st, rng, 0, c.batches, c.units)
			checkLotCounts(t, st, "after the changes")

			// Across a snapshot and a restore, then more changes.
			var buf bytes.Buffer
			snap := st.Snapshot()
			if _, err := snap.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			snap.Close()
			dst := openTest(t)
			if err := dst.Restore(&buf); err != nil {
				t.Fatal(err)
			}
			checkLotCounts(t, dst, "restored")
			applyLotSteps(t, st, rand.New(rand.NewPCG(c.seed, 8)), idx, c.batches/2+1, c.units)
			applyLotSteps(t, dst, rand.New(rand.NewPCG(c.seed, 8)), idx, c.batches/2+1, c.units)
			checkLotCounts(t, dst, "restored and changed")
			h1, err := st.hashNow()
			if err != nil {
				t.Fatal(err)
			}
			h2, err := dst.hashNow()
			if err != nil {
				t.Fatal(err)
			}
			if h1 != h2 {
				t.Fatalf("hash %s, restored replica %s", h1, h2)
			}
		})
	}
}

// dropLotCounts makes the state look like one written before the
// counters: no counter records, no mark.
func dropLotCounts(t *testing.T, st *Store) {
	t.Helper()
	if err := st.db.DropPrefix([]byte{tLotCount}, []byte{tOrderCount}, keyLotCounts); err != nil {
		t.Fatal(err)
	}
	err := st.View(func(r *Reader) error {
		kept, err := r.lotCountsKept()
		if kept {
			return fmt.Errorf("still marked")
		}
		got, err2 := r.LotCounts(lotTestGTINs[0], "", true)
		if len(got) != 0 {
			return fmt.Errorf("counters left: %+v", got)
		}
		if err != nil {
			return err
		}
		return err2
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A data directory from before the counters gets them when opened; a
// snapshot from before them gets them when restored. Both equal the
// counters kept all along, and the hash does not change.
func TestLotCountsRebuiltWhenAbsent(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 7))
	applyLotSteps(t, st, rng, 0, 150, 60)
	var kept bytes.Buffer
	if err := st.View(func(r *Reader) error { return dumpTable(r, &kept) }); err != nil {
		t.Fatal(err)
	}
	h1, err := st.hashNow()
	if err != nil {
		t.Fatal(err)
	}
	dropLotCounts(t, st)
	h2, err := st.hashNow()
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 {
		t.Fatal("the lot counters change the hash")
	}
	var old bytes.Buffer
	snap := st.Snapshot()
	if _, err := snap.WriteTo(&old); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkLotCounts(t, st, "reopened")
	var rebuilt bytes.Buffer
	if err := st.View(func(r *Reader) error { return dumpTable(r, &rebuilt) }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Bytes(), rebuilt.Bytes()) {
		t.Fatal("rebuilt counters differ from the ones kept")
	}

	dst := openTest(t)
	if err := dst.Restore(&old); err != nil {
		t.Fatal(err)
	}
	checkLotCounts(t, dst, "restored from a snapshot without counters")
	var restored bytes.Buffer
	if err := dst.View(func(r *Reader) error { return dumpTable(r, &restored) }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Bytes(), restored.Bytes()) {
		t.Fatal("counters built at restore differ from the ones kept")
	}
}

func dumpTable(r *Reader, w *bytes.Buffer) error {
	err := r.scan([]byte{tLotCount}, nil, true, func(k, v []byte) (bool, error) {
		fmt.Fprintf(w, "%q=%x\n", k, v)
		return true, nil
	})
	if err != nil {
		return err
	}
	return r.scan([]byte{tOrderCount}, nil, true, func(k, v []byte) (bool, error) {
		fmt.Fprintf(w, "%q=%x\n", k, v)
		return true, nil
	})
}

// A state marked with the first layout (lot counters only) builds the
// order counters too when opened.
func TestOrderCountsBuiltOverTheFirstLayout(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	applyLotSteps(t, st, rand.New(rand.NewPCG(6, 7)), 0, 150, 60)
	if err := st.db.DropPrefix([]byte{tOrderCount}); err != nil {
		t.Fatal(err)
	}
	tx := st.Begin()
	if err := tx.set(keyLotCounts, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(r *Reader) error { return r.VerifyLotCounts() }); err == nil {
		t.Fatal("no order counters, and the check finds nothing missing")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkLotCounts(t, st, "reopened over the first layout")
}
