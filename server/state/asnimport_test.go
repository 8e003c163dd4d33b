package state

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

func asnItems(from, to int) []master.ASNItem {
	var out []master.ASNItem
	for i := from; i < to; i++ {
		out = append(out, master.ASNItem{Key: event.SGTIN("00300010123455", fmt.Sprintf("S%d", i)), Lot: "L"})
	}
	return out
}

// Staged parts count only as a run from the first item: a part that
// comes early waits until the gap before it is filled, a part staged
// again changes nothing, and the parts join back in order. Parts of
// another digest or ASN id stay apart.
func TestASNPartsCoverFromTheFirstItem(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts [][2]int // [start, end)
		cover []int    // after each part
	}{
		{"in order", [][2]int{{0, 3}, {3, 6}, {6, 8}}, []int{3, 6, 8}},
		{"last first", [][2]int{{6, 8}, {3, 6}, {0, 3}}, []int{0, 0, 8}},
		{"gap filled", [][2]int{{0, 3}, {6, 8}, {3, 6}}, []int{3, 3, 8}},
		{"again", [][2]int{{0, 3}, {0, 3}, {3, 8}, {3, 8}}, []int{3, 3, 8, 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openTest(t)
			tx := st.Begin()
			defer tx.Discard()
			for i, p := range tc.parts {
				got, err := tx.PutASNPart("A1", "d1", p[0], asnItems(p[0], p[1]))
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.cover[i] {
					t.Fatalf("after part %v: covered %d, want %d", p, got, tc.cover[i])
				}
			}
			if _, err := tx.PutASNPart("A1", "d2", 0, asnItems(0, 2)); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.PutASNPart("A10", "d1", 0, asnItems(0, 1)); err != nil {
				t.Fatal(err)
			}
			items, ok, err := tx.ASNPartItems("A1", "d1", 8)
			if err != nil || !ok || !reflect.DeepEqual(items, asnItems(0, 8)) {
				t.Fatalf("joined %d items, %v, %v", len(items), ok, err)
			}
			if _, ok, _ := tx.ASNPartItems("A1", "d2", 8); ok {
				t.Fatal("another digest's parts joined")
			}
			if err := tx.DropASNParts("A1"); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"d1", "d2"} {
				if n, err := tx.ASNStaged("A1", d); n != 0 || err != nil {
					t.Fatalf("%s: %d staged after the drop, %v", d, n, err)
				}
				if _, ok, _ := tx.ASNPartItems("A1", d, 2); ok {
					t.Fatalf("%s: parts left after the drop", d)
				}
			}
			if n, _ := tx.ASNStaged("A10", "d1"); n != 1 {
				t.Fatalf("dropping A1 dropped A10's part: %d staged", n)
			}
		})
	}
}

// The incarnation is in snapshots and backups, not in the hash.
func TestIncarnationTravelsInSnapshots(t *testing.T) {
	st := openTest(t)
	tx := st.Begin()
	if err := tx.SetApplied(7); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var before string
	st.View(func(r *Reader) error { before, _ = r.Hash(); return nil })
	if err := st.SetIncarnation(""); err == nil {
		t.Fatal("an empty incarnation was kept")
	}
	if err := st.SetIncarnation("inc-1"); err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Close()
	fresh := openTest(t)
	if err := fresh.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	err := fresh.View(func(r *Reader) error {
		inc, err := r.Incarnation()
		if err != nil || inc != "inc-1" {
			t.Fatalf("restored incarnation %q, %v", inc, err)
		}
		h, err := r.Hash()
		if h != before {
			t.Fatal("the incarnation changed the hash")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
