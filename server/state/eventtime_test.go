package state

import (
	"bytes"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// ClientEvents reads a client's applied events whose time (HLC) is in
// [from, to), in time order, and no other: not another client's (one
// whose id starts with this one's too), not a rejected one, not by the
// id's stamp (the creator's clock, which may lag the HLC).
func TestClientEvents(t *testing.T) {
	st := openTest(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tx := st.Begin()
	var ids []event.ID
	put := func(i int, client string, at, stamped time.Time) event.ID {
		id, err := event.NewID(stamped, bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 16)))
		if err != nil {
			t.Fatal(err)
		}
		rec := &Record{Event: event.Event{ID: id, Device: "d", Epoch: 1, Seq: uint64(i + 1), HLC: hlc.FromTime(at), Client: client,
			Kind: event.KindReceive}, Index: uint64(i + 1), Result: &unit.Result{}}
		if err := tx.PutEvent(rec, 0); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Minute)
		stamped := at
		if i == 5 {
			stamped = at.Add(-3 * time.Hour) // a device whose clock lagged the time it heard of
		}
		ids = append(ids, put(i, "a", at, stamped))
	}
	put(20, "ab", base.Add(time.Minute), base.Add(time.Minute))
	rejected, _ := event.NewID(base.Add(time.Minute), bytes.NewReader(bytes.Repeat([]byte{30}, 16)))
	if err := tx.PutEvent(&Record{Event: event.Event{ID: rejected, Device: "d", Epoch: 1, Seq: 30, HLC: hlc.FromTime(base.Add(time.Minute)),
		Client: "a", Kind: event.KindReceive}, Index: 30, Reason: "malformed"}, 0); err != nil {
		t.Fatal(err)
	}
	put(21, "b", base.Add(time.Minute), base.Add(time.Minute))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"all", base, base.Add(time.Hour), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"a middle part", base.Add(2 * time.Minute), base.Add(6 * time.Minute), []int{2, 3, 4, 5}},
		{"to excluded", base.Add(2 * time.Minute), base.Add(2*time.Minute + time.Millisecond), []int{2}},
		{"before all", base.Add(-time.Hour), base, nil},
		{"after all", base.Add(time.Hour), base.Add(2 * time.Hour), nil},
		{"empty window", base.Add(3 * time.Minute), base.Add(3 * time.Minute), nil},
		{"before 1970", time.Unix(-100, 0), base.Add(time.Minute), []int{0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			err := st.View(func(r *Reader) error {
				return r.ClientEvents("a", c.from, c.to, func(rec Record) (bool, error) {
					if rec.Event.Client != "a" {
						t.Errorf("client %s's event", rec.Event.Client)
					}
					for i, id := range ids {
						if id == rec.Event.ID {
							got = append(got, i)
						}
					}
					return true, nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	// fn ends the walk.
	n := 0
	err := st.View(func(r *Reader) error {
		return r.ClientEvents("a", base, base.Add(time.Hour), func(Record) (bool, error) { n++; return n < 3, nil })
	})
	if err != nil || n != 3 {
		t.Fatalf("stopped walk: %d records, %v", n, err)
	}
}

// BenchmarkClientEvents reads one client's hour of events out of 100,000
// events of ten clients over ten days.
func BenchmarkClientEvents(b *testing.B) {
	st, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 100_000
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	step := 10 * 24 * time.Hour / n
	tx := st.Begin()
	for i := range n {
		at := base.Add(time.Duration(i) * step)
		var seed [16]byte
		seed[0], seed[1], seed[2] = byte(i), byte(i>>8), byte(i>>16)
		id, err := event.NewID(at, bytes.NewReader(seed[:]))
		if err != nil {
			b.Fatal(err)
		}
		rec := &Record{Event: event.Event{ID: id, Device: "d", Epoch: 1, Seq: uint64(i + 1), HLC: hlc.FromTime(at), Client: "c" + string(rune('0'+i%10)),
			Kind: event.KindReceive, Subjects: []event.Subject{{Key: event.SGTIN("00300010123455", "S"+string(rune('a'+i%26)))}}}, Index: uint64(i + 1), Result: &unit.Result{}}
		if err := tx.PutEvent(rec, 0); err != nil {
			b.Fatal(err)
		}
		if i%5000 == 4999 {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			tx = st.Begin()
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	from := base.Add(5 * 24 * time.Hour)
	for _, c := range []struct {
		name     string
		from, to time.Time
	}{
		{"an hour", from, from.Add(time.Hour)},
		{"the ten days", base, base.Add(11 * 24 * time.Hour)},
	} {
		b.Run(c.name, func(b *testing.B) {
			read := 0
			for b.Loop() {
				read = 0
				err := st.View(func(r *Reader) error {
					return r.ClientEvents("c3", c.from, c.to, func(Record) (bool, error) { read++; return true, nil })
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(read), "records")
		})
	}
}
