package command

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// fuzzBase is the state every FuzzApplyEntry input is applied over: an
// admin, a client with a product and a partner, received units, an
// expected container, so that commands about existing records get past
// their first checks.
func fuzzBase(t testing.TB) [][]byte {
	at := hlc.New(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli(), 0)
	g := workload.New(workload.Options{Seed: 5, Client: "acme", User: "admin"})
	return [][]byte{
		jsonEntry(t, TypeUser, admin),
		jsonEntry(t, TypeSite, master.Site{ID: "site", Name: "Main"}),
		jsonEntry(t, TypeClient, master.Client{ID: "acme"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: "00300010123455", Client: "acme", Name: "Pill"}),
		jsonEntry(t, TypePartner, master.Partner{ID: "CUST-1", GLN: "0614141000005"}),
		EncodeEvents(&Events{Received: at, Events: g.Receive(5)}),
		jsonEntry(t, TypeASN, ASN{ASN: master.ASN{ID: "ASN0", Client: "acme", Items: []master.ASNItem{{Key: event.SSCC("003000100000000015")}}},
			User: "admin", At: at, IDs: []event.ID{{9}}}),
	}
}

// fuzzSeeds are entries of every command type, valid and broken, for
// the corpus; testdata/fuzz/FuzzApplyEntry holds more.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, typ := range Types() {
		out = append(out, commandSamples(t)[typ]...)
	}
	many := workload.New(workload.Options{Seed: 1}).Receive(1)
	many[0].Subjects = make([]event.Subject, event.MaxSubjects+1)
	for i := range many[0].Subjects {
		many[0].Subjects[i].Key = event.SGTIN("00300010123455", fmt.Sprint(i))
	}
	return append(out,
		EncodeEvents(&Events{Received: 1, Events: many}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: "00300010123454", Client: "acme"}),
		jsonEntry(t, TypeProduct, master.Product{GTIN: "00300020123452", Client: "nobody"}),
		jsonEntry(t, TypeShipment, master.Shipment{ID: "S", Client: "acme", Destination: "javascript:alert(1)"}),
		Encode(TypeEvents, []byte{1, 2, 3}),
		Encode(TypeClient, []byte("{")),
		[]byte{Version},
		nil,
	)
}

// replica is a fresh in-memory store with the base state applied.
func fuzzReplica(t testing.TB, base [][]byte) (*state.Store, *Processor) {
	st, err := state.Open("", state.Options{InMemory: true, MemTableSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p := newProc(t, st)
	es := make([]Entry, len(base))
	for i, b := range base {
		es[i] = Entry{Index: uint64(i + 1), Data: b}
	}
	for i, res := range p.Apply(es) {
		if err, ok := res.(error); ok {
			st.Close()
			t.Fatalf("base entry %d: %v", i, err)
		}
	}
	return st, p
}

// resultText renders an apply result for comparison: the error text, or
// the JSON of anything else.
func resultText(t testing.TB, res any) string {
	if err, ok := res.(error); ok {
		return "error: " + err.Error()
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("result %T does not encode: %v", res, err)
	}
	return string(b)
}

// FuzzApplyEntry: no entry content makes apply panic, two replicas
// applying the same entry over the same state answer alike and end with
// the same state hash, and CheckEntry refuses exactly the entries apply
// refuses as malformed. Only what a newer binary wrote (an envelope
// version or command type this build does not know) stops a replica,
// by design.
func FuzzApplyEntry(f *testing.F) {
	base := fuzzBase(f)
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, _, err := Decode(data); errors.Is(err, ErrUnknownType) {
			func() {
				st, p := fuzzReplica(t, base)
				defer st.Close()
				defer func() {
					if recover() == nil {
						t.Fatal("an entry of a newer binary was applied")
					}
				}()
				p.Apply([]Entry{{Index: uint64(len(base) + 1), Data: data}})
			}()
			return
		}
		var results, hashes [2]string
		for i := range 2 {
			st, p := fuzzReplica(t, base)
			res := p.Apply([]Entry{{Index: uint64(len(base) + 1), Data: data}})
			results[i] = resultText(t, res[0])
			h, idx := hashOf(t, st)
			st.Close()
			if idx != uint64(len(base)+1) {
				t.Fatalf("applied index %d after the entry", idx)
			}
			hashes[i] = h
		}
		if results[0] != results[1] || hashes[0] != hashes[1] {
			t.Fatalf("two replicas disagree:\n%s\n%s", results[0], results[1])
		}
		// The proposers' check refuses exactly what apply refuses as
		// malformed.
		refused := strings.HasPrefix(results[0], "error: "+ErrPayload.Error())
		if checked := CheckEntry(data); (checked != nil) != refused {
			t.Fatalf("CheckEntry = %v, apply answered %s", checked, results[0])
		}
	})
}

// Strings far over every limit (Badger refuses keys over 65,000 bytes)
// in every field of every JSON command are refused, never fatal.
func TestHugeFieldsAreRefusedNotFatal(t *testing.T) {
	base := fuzzBase(t)
	long := strings.Repeat("x", 70000)
	fields := map[string]any{"id": long, "client": long, "gtin": long, "user": long, "device": long, "hash": long,
		"raft": long, "http": long, "lot": long, "by": long, "note": long, "name": long, "destination": long,
		"customer": long, "supplier": long, "digest": long, "scope": "lot", "reason": 1, "role": "admin", "status": "resolved",
		"clients": []string{long}, "containers": []string{long}, "orders": []string{long},
		"lines": []map[string]any{{"id": long, "gtin": "00300010123455", "qty": 1}},
		"items": []map[string]any{{"key": long}}, "total": 1,
		"asn": map[string]any{"id": long, "client": "acme", "items": []map[string]any{{"key": long}}}}
	for _, typ := range Types() {
		if typ == TypeEvents {
			continue
		}
		data, err := EncodeJSON(typ, fields)
		if err != nil {
			t.Fatal(err)
		}
		st, p := fuzzReplica(t, base)
		res := p.Apply([]Entry{{Index: uint64(len(base) + 1), Data: data}})
		st.Close()
		// Those three name none of the fields: what is left is a valid
		// command (a Signals without findings only moves the analyzer's
		// cursor).
		if _, ok := res[0].(error); !ok && typ != TypeIncarnation && typ != TypePurgeTokens && typ != TypeSignals {
			t.Errorf("type %d: %s", typ, resultText(t, res[0]))
		}
	}
}
