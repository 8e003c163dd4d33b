package state

import (
	"bytes"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// EventsStamped reads the events whose ids were stamped in [from, to),
// in id order, and no other.
func TestEventsStamped(t *testing.T) {
	st := openTest(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tx := st.Begin()
	var ids []event.ID
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Minute)
		id, err := event.NewID(at, bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 16)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		rec := &Record{Event: event.Event{ID: id, Device: "d", Epoch: 1, Seq: uint64(i + 1), HLC: hlc.FromTime(at), Client: "a",
			Kind: event.KindReceive}, Index: uint64(i + 1)}
		if err := tx.PutEvent(rec, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"all", base, base.Add(time.Hour), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"a middle part", base.Add(2 * time.Minute), base.Add(5 * time.Minute), []int{2, 3, 4}},
		{"to excluded", base.Add(2 * time.Minute), base.Add(2*time.Minute + time.Millisecond), []int{2}},
		{"before all", base.Add(-time.Hour), base, nil},
		{"after all", base.Add(time.Hour), base.Add(2 * time.Hour), nil},
		{"empty window", base.Add(3 * time.Minute), base.Add(3 * time.Minute), nil},
		{"before 1970", time.Unix(-100, 0), base.Add(time.Minute), []int{0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			err := st.View(func(r *Reader) error {
				return r.EventsStamped(c.from, c.to, func(rec Record) (bool, error) {
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
		return r.EventsStamped(base, base.Add(time.Hour), func(Record) (bool, error) { n++; return n < 3, nil })
	})
	if err != nil || n != 3 {
		t.Fatalf("stopped walk: %d records, %v", n, err)
	}
}

// BenchmarkEventsStamped reads an hour of events (with the hour before
// it and a minute after, as the site's period read does) from 100,000
// events over ten days, against walking the whole event table.
func BenchmarkEventsStamped(b *testing.B) {
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
			Kind: event.KindReceive, Subjects: []event.Subject{{Key: event.SGTIN("00300010123455", "S"+string(rune('a'+i%26)))}}}, Index: uint64(i + 1)}
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
		{"an hour", from.Add(-time.Hour), from.Add(time.Hour + time.Minute)},
		{"the whole table", base, base.Add(11 * 24 * time.Hour)},
	} {
		b.Run(c.name, func(b *testing.B) {
			read := 0
			for range b.N {
				read = 0
				err := st.View(func(r *Reader) error {
					return r.EventsStamped(c.from, c.to, func(Record) (bool, error) { read++; return true, nil })
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(read), "records")
		})
	}
}
