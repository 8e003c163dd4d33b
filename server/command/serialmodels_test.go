package command

import (
	"errors"
	"fmt"
	"testing"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
)

// sampleSerialModel learns 300 twelve-digit serials of gtin.
func sampleSerialModel(gtin, client string) master.SerialModel {
	var m signals.FormatModel
	for i := range 300 {
		m.Learn(fmt.Sprintf("%012d", 100_000_007*(i+1)))
	}
	return signals.ModelRecord(gtin, client, &m, 200, 0.75)
}

func TestSerialModelsApply(t *testing.T) {
	const gtin = "00300010123455"
	good := sampleSerialModel(gtin, "acme")
	other := good
	other.Client = "globex" // not the product's client
	unknown := sampleSerialModel("00300010123462", "acme")
	counts := good
	counts.Lengths[12]++ // lengths no longer add up to the serials learned
	threshold := good
	threshold.Threshold = 0
	cases := []struct {
		name   string
		models []master.SerialModel
		stored int
		err    error
	}{
		{"one", []master.SerialModel{good}, 1, nil},
		{"product of another client", []master.SerialModel{other}, 0, nil},
		{"unknown product", []master.SerialModel{unknown}, 0, nil},
		{"counts that do not add up", []master.SerialModel{counts}, 0, nil},
		{"no threshold", []master.SerialModel{threshold}, 0, nil},
		{"good beside bad", []master.SerialModel{counts, good}, 1, nil},
		{"none", nil, 0, ErrRejected},
		{"more than a command carries", make([]master.SerialModel, MaxSerialModels+1), 0, ErrRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			l := &log{p: newProc(t, st)}
			l.apply(t, jsonEntry(t, TypeClient, master.Client{ID: "acme", Name: "Acme"}),
				jsonEntry(t, TypeProduct, master.Product{GTIN: gtin, Client: "acme", Name: "Pill", CompanyPrefixLen: 7}))
			res := l.apply(t, jsonEntry(t, TypeSerialModels, SerialModels{Models: c.models}))[0]
			if c.err != nil {
				if err, ok := res.(error); !ok || !errors.Is(err, c.err) {
					t.Fatalf("result %v, want %v", res, c.err)
				}
				return
			}
			r, ok := res.(SerialModelsResult)
			if !ok || r.Stored != c.stored || r.Invalid != len(c.models)-c.stored {
				t.Fatalf("result %+v, want %d stored", res, c.stored)
			}
			var got []master.SerialModel
			if err := st.View(func(rd *state.Reader) (err error) { got, err = rd.SerialModels(nil); return }); err != nil {
				t.Fatal(err)
			}
			if len(got) != c.stored || c.stored == 1 && got[0] != good {
				t.Fatalf("stored %+v", got)
			}
			// The down-feed names the record.
			if c.stored == 1 {
				var refs []state.FeedRef
				if err := st.View(func(rd *state.Reader) (err error) { refs, _, _, err = rd.Feed(2, 100); return }); err != nil {
					t.Fatal(err)
				}
				if len(refs) != 1 || refs[0] != (state.FeedRef{Kind: state.MasterSerial, ID: gtin}) {
					t.Fatalf("feed %+v", refs)
				}
			}
		})
	}
}
