package api

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// dscsaBenchUnits is how many units of one lot the DSCSA benchmarks
// store (CUSTODY_BENCH_UNITS overrides; the default fits a minute on a
// shared machine).
func dscsaBenchUnits() int {
	if n, err := strconv.Atoi(os.Getenv("CUSTODY_BENCH_UNITS")); err == nil && n >= 1000 {
		return n
	}
	return 100000
}

// dscsaBenchState stores n units of one lot of one product (received
// 1,000 to an event) under a recall, and gives the first 1,000 three
// moves each, one event apiece, so their histories have four events.
func dscsaBenchState(b *testing.B, n int) (*state.Store, state.Recall) {
	b.Helper()
	st, err := state.Open(b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	p, err := command.New(st, 0)
	if err != nil {
		b.Fatal(err)
	}
	idx := uint64(0)
	apply := func(data []byte) {
		idx++
		if res := p.Apply([]command.Entry{{Index: idx, Data: data}}); len(res) == 1 {
			if err, ok := res[0].(error); ok {
				b.Fatal(err)
			}
		}
	}
	put := func(t command.Type, v any) {
		data, err := command.EncodeJSON(t, v)
		if err != nil {
			b.Fatal(err)
		}
		apply(data)
	}
	const gtin = "00300010123455"
	put(command.TypeSite, master.Site{ID: "site", GLN: "0300011111215", SSCCPrefix: "030001"})
	put(command.TypeClient, master.Client{ID: "acme", Name: "Acme"})
	put(command.TypeProduct, master.Product{GTIN: gtin, Client: "acme", Name: "Pill", NDC: "0001-0123-45", CompanyPrefixLen: 7})
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	seq := uint64(0)
	ev := func(k event.Kind, ctx event.Context, keys ...event.Key) event.Event {
		seq++
		at := t0.Add(time.Duration(seq) * time.Millisecond)
		id, err := event.NewID(at, zeroReader{seq})
		if err != nil {
			b.Fatal(err)
		}
		e := event.Event{ID: id, Device: "bench", Epoch: 1, Seq: seq, HLC: hlc.FromTime(at), User: "admin", Site: "site", Client: "acme", Kind: k, Ctx: ctx}
		for _, key := range keys {
			e.Subjects = append(e.Subjects, event.Subject{Key: key})
		}
		return e
	}
	key := func(i int) event.Key { return event.SGTIN(gtin, fmt.Sprintf("S%07d", i)) }
	for i := 0; i < n; i += 1000 {
		var keys []event.Key
		for j := i; j < min(i+1000, n); j++ {
			keys = append(keys, key(j))
		}
		apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(t0.Add(time.Hour)), Events: []event.Event{
			ev(event.KindReceive, event.Context{To: "A-01", Lot: "L1", Expiry: "301231"}, keys...)}}))
	}
	for round, to := range []string{"B-01", "C-01", "D-01"} {
		var evs []event.Event
		for i := range 1000 {
			evs = append(evs, ev(event.KindMove, event.Context{To: to}, key(i)))
		}
		apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(t0.Add(time.Duration(2+round) * time.Hour)), Events: evs}))
	}
	rc := state.Recall{ID: state.RecallID(gtin, "L1"), Client: "acme", GTIN: gtin, Lot: "L1", By: "lead", At: hlc.FromTime(t0.Add(5 * time.Hour))}
	put(command.TypeRecall, rc)
	return st, rc
}

// zeroReader is a deterministic source for event ids.
type zeroReader struct{ n uint64 }

func (z zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(z.n >> (8 * (i % 8)))
	}
	return len(p), nil
}

// BenchmarkLotRecall: the recall report over every unit of a lot.
func BenchmarkLotRecall(b *testing.B) {
	n := dscsaBenchUnits()
	st, rc := dscsaBenchState(b, n)
	b.ResetTimer()
	for b.Loop() {
		err := st.View(func(r *state.Reader) error {
			rep, err := buildRecallReport(r, rc)
			if err == nil && (rep.Found != n || rep.Held != n) {
				err = fmt.Errorf("found %d, held %d of %d", rep.Found, rep.Held, n)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "units")
}

// BenchmarkRecordsRequest: the full history of 1,000 serials (four
// events each) as one EPCIS document, encoded.
func BenchmarkRecordsRequest(b *testing.B) {
	st, rc := dscsaBenchState(b, dscsaBenchUnits())
	var serials []event.Key
	for i := range 1000 {
		serials = append(serials, event.SGTIN(rc.GTIN, fmt.Sprintf("S%07d", i)))
	}
	all := func(string) bool { return true }
	b.ResetTimer()
	for b.Loop() {
		err := st.View(func(r *state.Reader) error {
			doc, err := recordsDocument(r, serials, all)
			if err != nil {
				return err
			}
			if len(doc.Events) < 3001 {
				return fmt.Errorf("%d events", len(doc.Events))
			}
			_, err = epcisEncodeJSONLD(doc)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func epcisEncodeJSONLD(doc *epcis.Document) ([]byte, error) {
	return epcis.Encode(doc, epcis.FormatJSONLD)
}

// BenchmarkDigests: a site's serial digests for the operator, read whole
// (every unit, in pages as the operator asks) and by the change feed
// after the last four entries (1,000 units moved, then the recall).
func BenchmarkDigests(b *testing.B) {
	n := dscsaBenchUnits()
	st, _ := dscsaBenchState(b, n)
	key := make([]byte, 32)
	all := func(string) bool { return true }
	var applied uint64
	if err := st.View(func(r *state.Reader) error { var err error; applied, err = r.Applied(); return err }); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("whole/units=%d", n), func(b *testing.B) {
		for b.Loop() {
			got := 0
			err := st.View(func(r *state.Reader) error {
				after := ""
				for {
					page, err := r.Units(state.UnitFilter{Client: all, After: after, Limit: 200_000})
					if err != nil {
						return err
					}
					for i := range page.Items {
						if _, ok := serialdigest.Of(key, page.Items[i].Key); ok && received(&page.Items[i]) {
							got++
						}
					}
					if page.Next == "" {
						return nil
					}
					after = page.Next
				}
			})
			if err != nil || got != n {
				b.Fatalf("%v: %d digests of %d", err, got, n)
			}
		}
	})
	b.Run("since/units=1000", func(b *testing.B) {
		for b.Loop() {
			err := st.View(func(r *state.Reader) error {
				p, err := digestsSince(r, key, all, applied-4, digestPageDefault)
				if err == nil && (p.Count != 1000 || p.More || p.Gone) {
					err = fmt.Errorf("since: %d digests, more %v, gone %v", p.Count, p.More, p.Gone)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
