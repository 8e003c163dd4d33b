package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// activityRecord is a stored event of kind k for client cl at time at,
// against ref (an ASN or a shipment), reaching a case with units inside
// it (all refused when refuseAll).
func activityRecord(n int, cl string, k event.Kind, at time.Time, ref string, units int, refuseAll bool) *Record {
	ev := event.Event{ID: event.ID{byte(n >> 8), byte(n), 7}, Device: "d1", Seq: uint64(n), HLC: hlc.FromTime(at), User: "u1",
		Site: "s1", Client: cl, Kind: k}
	if k == event.KindReceive {
		ev.Ctx.ASN = ref
	} else {
		ev.Ctx.Shipment = ref
	}
	sscc := event.SSCC("003000100000000015")
	ev.Subjects = []event.Subject{{Key: sscc}}
	v := unit.VerdictApplied
	if refuseAll {
		v = unit.VerdictRefused
	}
	res := &unit.Result{Verdict: v, Subjects: []unit.SubjectResult{{Key: sscc, Verdict: v}}}
	for i := range units {
		res.Subjects = append(res.Subjects, unit.SubjectResult{Key: event.SGTIN("00300010123455", fmt.Sprintf("N%dS%d", n, i)), Verdict: v, Via: sscc})
	}
	return &Record{Event: ev, Index: uint64(n), Result: res}
}

func TestActivityCountsAWindowPerClient(t *testing.T) {
	st := openTest(t)
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	recs := []*Record{
		activityRecord(1, "acme", event.KindReceive, day.Add(9*time.Hour), "A1", 3, false),
		activityRecord(2, "acme", event.KindReceive, day.Add(10*time.Hour), "A1", 2, false),
		activityRecord(3, "acme", event.KindReceive, day.Add(11*time.Hour), "A2", 1, false),
		activityRecord(4, "acme", event.KindReceive, day.Add(-time.Hour), "A0", 5, false),                  // yesterday
		activityRecord(5, "acme", event.KindReceive, day.Add(12*time.Hour), "A3", 4, true),                 // refused
		activityRecord(6, "acme", event.KindShip, day.Add(15*time.Hour), "S1", 6, false),                   // today
		activityRecord(7, "acme", event.KindShip, day.Add(24*time.Hour), "S2", 6, false),                   // tomorrow, at the end
		activityRecord(8, "globex", event.KindReceive, day.Add(9*time.Hour), "G1", 7, false),               // another client
		activityRecord(9, "acme", event.KindMove, day.Add(9*time.Hour), "", 2, false),                      // not a receipt
		activityRecord(10, "acmeco", event.KindReceive, day.Add(9*time.Hour), "X1", 9, false),              // a client whose id starts with acme
		activityRecord(11, "acme", event.KindReceive, day, "A4", 1, false),                                 // at the start
		activityRecord(12, "acme", event.KindShip, day.Add(24*time.Hour-time.Millisecond), "S1", 1, false), // just before the end
	}
	applyAt(t, st, 1, func(tx *Tx) error {
		for i, r := range recs {
			if err := tx.PutEvent(r, uint32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(t *testing.T, st *Store) {
		t.Helper()
		for _, tc := range []struct {
			name     string
			client   string
			from, to time.Time
			want     ActivityCounts
		}{
			{"acme today", "acme", day, day.Add(24 * time.Hour),
				ActivityCounts{Receipts: 4, ReceivedUnits: 7, ASNs: 3, Shipping: 2, ShippedUnits: 7, Shipments: 1}},
			{"acme yesterday", "acme", day.Add(-24 * time.Hour), day,
				ActivityCounts{Receipts: 1, ReceivedUnits: 5, ASNs: 1}},
			{"acme this morning", "acme", day.Add(9 * time.Hour), day.Add(10 * time.Hour),
				ActivityCounts{Receipts: 1, ReceivedUnits: 3, ASNs: 1}},
			{"globex today", "globex", day, day.Add(24 * time.Hour), ActivityCounts{Receipts: 1, ReceivedUnits: 7, ASNs: 1}},
			{"nobody", "initech", day, day.Add(24 * time.Hour), ActivityCounts{}},
			{"empty window", "acme", day, day, ActivityCounts{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var got ActivityCounts
				if err := st.View(func(r *Reader) error { var err error; got, err = r.Activity(tc.client, tc.from, tc.to); return err }); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
			})
		}
	}
	check(t, st)

	// A state from before the index (no records, no mark) builds it from
	// its events when opened; the hash does not change.
	h1, err := st.hashNow()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.db.DropPrefix([]byte{tActivity}, keyActivity); err != nil {
		t.Fatal(err)
	}
	h2, err := st.hashNow()
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 {
		t.Fatal("the activity index changes the hash")
	}
	var none ActivityCounts
	if err := st.View(func(r *Reader) error {
		var err error
		none, err = r.Activity("acme", day, day.Add(24*time.Hour))
		return err
	}); err != nil || none != (ActivityCounts{}) {
		t.Fatalf("dropped index still counts %+v (%v)", none, err)
	}
	if err := st.ensureDerived(); err != nil {
		t.Fatal(err)
	}
	t.Run("rebuilt", func(t *testing.T) { check(t, st) })
}

// BenchmarkActivityDay: one client's day out of 100,000 receipts and
// shipping events of two clients over 30 days (about 1,700 of the
// client's that day), each reaching a case of 12 units.
func BenchmarkActivityDay(b *testing.B) {
	st, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n, days = 100000, 30
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := days * 24 * time.Hour / n
	for batch := 0; batch < n; batch += 1000 {
		tx := st.Begin()
		for i := batch; i < batch+1000; i++ {
			cl, k := "acme", event.KindReceive
			if i%2 == 1 {
				cl = "globex"
			}
			if i%3 == 0 {
				k = event.KindShip
			}
			r := activityRecord(i, cl, k, start.Add(time.Duration(i)*step), fmt.Sprintf("R%d", i/40), 12, false)
			r.Event.ID = event.ID{byte(i >> 16), byte(i >> 8), byte(i), 9}
			if err := tx.PutEvent(r, 0); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		tx.Discard()
	}
	from := start.Add(15 * 24 * time.Hour)
	var got ActivityCounts
	b.ResetTimer()
	for range b.N {
		if err := st.View(func(r *Reader) error {
			var err error
			got, err = r.Activity("acme", from, from.Add(24*time.Hour))
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got.Receipts+got.Shipping < 1500 {
		b.Fatalf("the day counts %+v", got)
	}
}

// What the index leaves out, built live and rebuilt alike: a rejected
// event (whatever its client says), an event with no EPCIS form (an
// ASN's announcement), a scan that changed nothing; and windows whose
// bounds fall inside a millisecond.
func TestActivityLeavesOut(t *testing.T) {
	st := openTest(t)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	good := activityRecord(1, "acme", event.KindReceive, at, "A1", 2, false)
	again := activityRecord(2, "acme", event.KindReceive, at.Add(time.Minute), "A1", 2, false)
	for i := range again.Result.Subjects {
		again.Result.Subjects[i].Verdict = unit.VerdictMerged // the same case scanned twice
	}
	again.Result.Verdict = unit.VerdictMerged
	rejected := activityRecord(3, "acme\x00E", event.KindReceive, at, "A1", 1, false)
	rejected.Result, rejected.Reason = nil, "malformed"
	expect := activityRecord(4, "acme", event.KindExpect, at, "A1", 1, false)
	applyAt(t, st, 1, func(tx *Tx) error {
		for i, r := range []*Record{good, again, rejected, expect} {
			if err := tx.PutEvent(r, uint32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	type seen struct {
		events []event.ID
		counts ActivityCounts
	}
	read := func(t *testing.T, from, to time.Time) seen {
		t.Helper()
		var s seen
		err := st.View(func(r *Reader) error {
			err := r.ClientEvents("acme", from, to, func(rec Record) (bool, error) {
				s.events = append(s.events, rec.Event.ID)
				return true, nil
			})
			if err != nil {
				return err
			}
			s.counts, err = r.Activity("acme", from, to)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			from, to time.Time
			events   []event.ID
			counts   ActivityCounts
		}{
			{"the hour", at, at.Add(time.Hour), []event.ID{good.Event.ID, again.Event.ID}, ActivityCounts{Receipts: 1, ReceivedUnits: 2, ASNs: 1}},
			{"to inside the first millisecond", at, at.Add(500 * time.Microsecond), []event.ID{good.Event.ID}, ActivityCounts{Receipts: 1, ReceivedUnits: 2, ASNs: 1}},
			{"from inside the first millisecond", at.Add(500 * time.Microsecond), at.Add(time.Second), nil, ActivityCounts{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := read(t, tc.from, tc.to)
				if fmt.Sprint(got.events) != fmt.Sprint(tc.events) || got.counts != tc.counts {
					t.Fatalf("events %v counts %+v, want %v %+v", got.events, got.counts, tc.events, tc.counts)
				}
			})
		}
	}
	t.Run("live", check)
	if err := st.db.DropPrefix([]byte{tActivity}, keyActivity); err != nil {
		t.Fatal(err)
	}
	if err := st.ensureDerived(); err != nil {
		t.Fatal(err)
	}
	t.Run("rebuilt", check)
}
