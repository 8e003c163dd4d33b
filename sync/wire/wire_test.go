package wire

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
)

func sampleRecords() Records {
	snap := sampleSnapshot()
	return RecordsToWire(&snap, []protocol.Removal{{Kind: protocol.KindOrder, ID: "O-9"}, {Kind: protocol.KindUnit, ID: "010061414100001221X"}})
}

func sampleSnapshot() master.Snapshot {
	ev := fake.Events("dev-7", 3, 1, 2)
	return master.Snapshot{
		Site:      master.Site{ID: "0614141000005", Name: "Memphis DC", GLN: "0614141000005", SSCCPrefix: "0614141", SSCCExtension: 3},
		Clients:   []master.Client{{ID: "c1", Name: "Acme Pharma", Policy: master.Policy{RequireLot: true, RequireExpiry: true, FEFO: master.FEFOBlock, Mixing: master.MixSameLot, MinShelfDays: 90}}},
		Products:  []master.Product{{GTIN: "00614141000012", Client: "c1", NDC: "0614-1410-00", Name: "Amoxil 500", Strength: "500 mg", Form: "capsule", PackSize: 30, CompanyPrefixLen: 7}, {GTIN: "10614141000019", Client: "c1", Name: "Amoxil case", UnitsPerCase: 24, UnitGTIN: "00614141000012"}},
		Locations: []master.Location{{ID: "A-01-01", Zone: "A", Bin: "01-01"}, {ID: "Q-1", Zone: "Q", Quarantine: true}, {ID: "DOCK-1", Zone: "D", Dock: true}},
		Partners:  []master.Partner{{ID: "p1", Name: "Supplier", GLN: "0614141999996"}},
		Users: []master.User{
			{ID: "u1", Name: "Ana", Role: master.RoleOperator, Clients: []string{"c1", "c2"}, PIN: &master.PINVerifier{Salt: []byte("0123456789abcdef"), Iter: 20000, Hash: []byte{1, 2, 3}}},
			{ID: "u2", Name: "Lead", Role: master.RoleLead, Clients: []string{"*"}},
		},
		ASNs: []master.ASN{{ID: "ASN-1", Client: "c1", Supplier: "p1", Items: []master.ASNItem{
			{Key: event.SSCC("106141410000000018"), Lot: "L1"},
			{Key: event.SGTIN("00614141000012", "SN1"), Parent: event.SSCC("106141410000000018"), Lot: "L1", Expiry: "281200"},
		}}},
		Orders:    []master.Order{{ID: "118", Client: "c1", Customer: "Pharmacy", Lines: []master.OrderLine{{ID: "1", GTIN: "00614141000012", Qty: 12, Lot: "L1"}}}},
		Shipments: []master.Shipment{{ID: "S-1", Client: "c1", Destination: "0614141888885", Orders: []string{"118"}, Containers: []event.Key{event.SSCC("106141410000000025")}, Departed: true}},
		Holds:     []master.Hold{{ID: "H-1", Client: "c1", Scope: master.ScopeLot, GTIN: "00614141000012", Lot: "L9", Reason: event.HoldRecall, Note: "FDA recall", Active: true, By: "u2", At: hlc.New(1_790_000_000_000, 4)}},
		Units: []unit.State{{Key: event.SGTIN("00614141000012", "SN1"), Client: "c1", Lot: "L1", Expiry: "281200", Status: unit.StatusPicked,
			Holds: event.Holds(0).With(event.HoldDamaged), Location: "A-01-01", Parent: event.SSCC("106141410000000018"), ASN: "ASN-1", Order: "118", Line: "1",
			Shipment: "S-1", Completeness: unit.CompletenessVerified, Version: 7, LastEvent: ev[0].ID, LastDevice: "dev-7", Updated: hlc.New(1_790_000_000_100, 1), Since: hlc.New(1_790_000_000_000, 0)}},
		Open: []unit.Exception{{ID: "Xabc", Rule: unit.RuleDoublePick, Severity: unit.SeverityLow, Status: unit.ExceptionOpen, Unit: event.SGTIN("00614141000012", "SN1"),
			Client: "c1", Site: "0614141000005", Detail: "picked twice", Events: []event.ID{ev[0].ID, ev[1].ID}, Devices: []string{"dev-7", "dev-8"},
			Opened: hlc.New(1_790_000_000_000, 0), Updated: hlc.New(1_790_000_000_500, 0), By: "u2", Note: "checked"}},
		SerialModels: []master.SerialModel{sampleSerialModel()},
	}
}

// sampleSerialModel has a distinct count in every place, so a count the
// codec puts in the wrong place or drops does not round-trip.
func sampleSerialModel() master.SerialModel {
	m := master.SerialModel{GTIN: "00614141000012", Client: "c1", MinSupport: 200, Threshold: 0.75, N: 1_000_001, Close: 7}
	v := int64(1)
	next := func() int64 { v += 3; return v }
	for i := range m.Lengths {
		m.Lengths[i], m.Runs[i] = next(), next()
	}
	for i := range m.Classes {
		for j := range m.Classes[i] {
			m.Classes[i][j] = next()
		}
	}
	for i := range m.Chars {
		m.Chars[i] = next()
	}
	return m
}

func sampleMessages(t testing.TB) []Message {
	evs := fake.Events("dev-7", 3, 41, 3)
	push := PushToWire(3, 41, evs)
	return []Message{
		&Hello{Version: 1, Device: "KRMGZO6N-5QLUXOGW", Epoch: 3, OutboxFirst: 41, OutboxLast: 43, Cursor: Cursor{Cluster: "site-a", Epoch: 2, Index: 991}, Clock: 0x0193_0000_0001_0002, Agent: "custody-scan/1.0"},
		&Hello{Version: 1, Device: "d", OutboxFirst: 1},
		&Welcome{Cluster: "site-a", Node: "n2", Clock: 12345678, HighWater: 40, MaxFrame: 1 << 20, MaxPush: 1000, MaxInFlight: 2, PingMillis: 30000},
		&push,
		&PushAck{Epoch: 3, First: 41, Verdicts: []Verdict{
			{Outcome: uint8(protocol.OutcomeApplied)},
			{Outcome: uint8(protocol.OutcomeConflict), Exceptions: []string{"X1", "X2"}, Message: "unit X you picked was already picked for order 118 by device 7: put it back"},
			{Outcome: uint8(protocol.OutcomeDuplicate), Original: uint8(protocol.OutcomeRejected), Message: "unit is destroyed"},
		}},
		&NackGap{Epoch: 3, Expected: 17},
		&Sub{Cursor: Cursor{Cluster: "site-a", Epoch: 2, Index: 991}, User: "u1"},
		&Sub{},
		&Changes{Part: 2, Last: true, More: true, To: Cursor{Cluster: "site-a", Epoch: 2, Index: 1000}, Records: sampleRecords()},
		&Changes{},
		&Resync{Reason: ResyncTooOld, Part: 0, Last: true, Cursor: Cursor{Cluster: "site-a", Epoch: 2, Index: 1000}, Records: sampleRecords()},
		&Busy{RetryAfterMillis: 2500},
		&Ping{Clock: 99},
		&Pong{Clock: 100},
		&Error{Code: CodeFlow, Text: "more than 2 pushes in flight"},
	}
}

func TestRoundTripEveryMessage(t *testing.T) {
	seen := map[Type]bool{}
	for i, m := range sampleMessages(t) {
		seen[m.Type()] = true
		t.Run(m.Type().String(), func(t *testing.T) {
			b := Encode(uint64(i)*1000+7, m)
			f, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if f.ID != uint64(i)*1000+7 {
				t.Errorf("id %d, want %d", f.ID, uint64(i)*1000+7)
			}
			if !reflect.DeepEqual(f.Msg, m) {
				t.Errorf("round trip changed the message:\n got %#v\nwant %#v", f.Msg, m)
			}
			if again := Encode(f.ID, f.Msg); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs")
			}
			typ, id, ok := PeekType(b)
			if !ok || typ != m.Type() || id != f.ID {
				t.Errorf("PeekType = %v %d %v", typ, id, ok)
			}
		})
	}
	for ty := TypeHello; ty < typeEnd; ty++ {
		if !seen[ty] {
			t.Errorf("no sample of %s", ty)
		}
	}
}

func TestSnapshotConversionRoundTrip(t *testing.T) {
	snap := sampleSnapshot()
	removed := []protocol.Removal{{Kind: protocol.KindHold, ID: "H-2"}}
	r := RecordsToWire(&snap, removed)
	b := Encode(1, &Resync{Last: true, Records: r})
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	back, rem, err := RecordsFromWire(&f.Msg.(*Resync).Records)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, snap) {
		t.Errorf("snapshot changed:\n got %+v\nwant %+v", back, snap)
	}
	if !reflect.DeepEqual(rem, removed) {
		t.Errorf("removals %v, want %v", rem, removed)
	}
}

func TestPushConversion(t *testing.T) {
	evs := fake.Events("dev-1", 2, 10, 5)
	p := PushToWire(2, 10, evs)
	f, err := Decode(Encode(9, &p))
	if err != nil {
		t.Fatal(err)
	}
	got, err := PushFromWire(f.Msg.(*Push))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, evs) {
		t.Errorf("events changed")
	}

	bad := []struct {
		name string
		p    Push
		want string
	}{
		{"seq out of line", PushToWire(2, 11, evs), "want epoch 2 seq 11"},
		{"other epoch", PushToWire(3, 10, evs), "want epoch 3"},
		{"not an event", Push{Epoch: 2, First: 10, Events: [][]byte{{9, 9, 9}}}, "event 0 of the push"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PushFromWire(&tc.p)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrMalformed mentioning %q", err, tc.want)
			}
		})
	}
}

func TestFitPush(t *testing.T) {
	p := PushToWire(1, 1, fake.Events("dev-1", 1, 1, 100))
	whole := len(Encode(1<<62, &p))
	if n := FitPush(&p, whole+HeaderMax+30); n != 100 {
		t.Errorf("%d of 100 events fit a frame with room for all", n)
	}
	for _, limit := range []int{whole, whole / 2, whole / 7, 300} {
		n := FitPush(&p, limit)
		q := p
		q.Events = q.Events[:n]
		if size := len(Encode(1<<62, &q)); size > limit {
			t.Errorf("limit %d: %d events take %d bytes", limit, n, size)
		}
		if n < 100 {
			q.Events = p.Events[:n+1]
			if size := len(Encode(1<<62, &q)); size <= limit-HeaderMax-30 {
				t.Errorf("limit %d: %d events fit, but one more (%d bytes) would too", limit, n, size)
			}
		}
	}
	if n := FitPush(&p, 10); n != 0 {
		t.Errorf("%d events fit 10 bytes", n)
	}
}

func TestVerdictConversion(t *testing.T) {
	vs := []protocol.Verdict{
		{Seq: 5, Outcome: protocol.OutcomeApplied},
		{Seq: 6, Outcome: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "put it back"},
		{Seq: 7, Outcome: protocol.OutcomeDuplicate, Original: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "put it back"},
		{Seq: 8, Outcome: protocol.OutcomeRejected, Message: "held"},
	}
	back, err := VerdictsFromWire(5, VerdictsToWire(vs))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, vs) {
		t.Errorf("got %+v\nwant %+v", back, vs)
	}
	if _, err := VerdictsFromWire(1, []Verdict{{Outcome: 0}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("outcome 0: err = %v", err)
	}
	if _, err := VerdictsFromWire(1, []Verdict{{Outcome: 9}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("outcome 9: err = %v", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := Encode(5, &NackGap{Epoch: 1, Expected: 2})
	hugeCount := append([]byte{'C', 'U', 1, byte(TypePushAck), 1, 1, 1}, 0xff, 0xff, 0xff, 0xff, 0x0f)
	tooManyEvents := append([]byte{'C', 'U', 1, byte(TypePush), 1, 1, 1}, appendU64(nil, MaxPushEvents+1)...)
	tooManyEvents = append(tooManyEvents, bytes.Repeat([]byte{1, 1}, MaxPushEvents+1)...)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrVersion},
		{"short", []byte{'C', 'U', 1}, ErrVersion},
		{"bad magic", []byte{'X', 'U', 1, 1, 0}, ErrVersion},
		{"future version", []byte{'C', 'U', 2, 1, 0}, ErrVersion},
		{"unknown type", []byte{'C', 'U', 1, 99, 0}, ErrUnknownType},
		{"type zero", []byte{'C', 'U', 1, 0, 0}, ErrUnknownType},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"trailing", append(append([]byte{}, good...), 0), ErrMalformed},
		{"bad varint id", []byte{'C', 'U', 1, byte(TypePing), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
		{"list longer than frame", hugeCount, ErrMalformed},
		{"too many events", tooManyEvents, ErrMalformed},
		{"bool out of range", append(Encode(1, &Changes{})[:5], 0, 7), ErrMalformed},
		{"string past end", []byte{'C', 'U', 1, byte(TypeError), 1, 3, 50, 'a'}, ErrMalformed},
		{"error code out of range", []byte{'C', 'U', 1, byte(TypeError), 1, 0xff, 0xff, 0x7f, 0}, ErrMalformed},
		{"empty event in push", []byte{'C', 'U', 1, byte(TypePush), 1, 1, 1, 1, 0}, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Decode(tc.in)
			if !errors.Is(err, tc.want) {
				t.Errorf("Decode = %+v, %v; want %v", f, err, tc.want)
			}
		})
	}
}

func TestSplitKeepsOrderAndBudget(t *testing.T) {
	var snap master.Snapshot
	for i := range 3000 {
		snap.Units = append(snap.Units, unit.State{Key: event.SGTIN("00614141000012", strings.Repeat("S", 8)+string(rune('A'+i%26))), Version: uint64(i), Location: "A-01-01"})
	}
	snap.Products = sampleSnapshot().Products
	snap.Site = master.Site{ID: "s"}
	var removed []protocol.Removal
	for i := range 500 {
		removed = append(removed, protocol.Removal{Kind: protocol.KindOrder, ID: strings.Repeat("o", i%40)})
	}
	r := RecordsToWire(&snap, removed)
	const budget = 16 << 10
	parts, err := r.Split(budget)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 10 {
		t.Fatalf("%d parts: expected the records to need many", len(parts))
	}
	var joined Records
	for i, p := range parts {
		if n := len(p.appendTo(nil)); n > budget {
			t.Errorf("part %d takes %d bytes, budget %d", i, n, budget)
		}
		if p.Site != nil {
			joined.Site = p.Site
		}
		joined.Products = append(joined.Products, p.Products...)
		joined.Units = append(joined.Units, p.Units...)
		joined.Removed = append(joined.Removed, p.Removed...)
	}
	if !reflect.DeepEqual(joined, r) {
		t.Errorf("joined parts differ from the whole")
	}

	empty, err := (&Records{}).Split(budget)
	if err != nil || len(empty) != 1 || empty[0].Len() != 0 {
		t.Errorf("empty split = %v, %v; want one empty part", empty, err)
	}

	big := Records{Partners: []Partner{{ID: "p", Name: strings.Repeat("n", 2*budget)}}}
	if _, err := big.Split(budget); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized record: err = %v, want ErrTooLarge", err)
	}
}

// An ASN too large for one frame travels in pieces, one after another,
// and MergeASNs joins them into the ASN that was sent; the ASNs around it
// are untouched.
func TestSplitCutsLargeASNs(t *testing.T) {
	const budget = 16 << 10
	big := master.ASN{ID: "BIG", Client: "acme", Supplier: "sup"}
	pallet := event.SSCC("006141410000000018")
	big.Items = append(big.Items, master.ASNItem{Key: pallet})
	for i := range 2000 {
		big.Items = append(big.Items, master.ASNItem{Key: event.SGTIN("00614141000012", fmt.Sprintf("SER%06d", i)), Parent: pallet, Lot: "L1", Expiry: "301231"})
	}
	snap := master.Snapshot{ASNs: []master.ASN{
		{ID: "A-before", Client: "acme", Items: big.Items[:3]},
		big,
		{ID: "A-after", Client: "acme", Closed: true},
	}}
	recs := RecordsToWire(&snap, nil)
	parts, err := recs.Split(budget)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 5 {
		t.Fatalf("%d parts for a %d-item ASN in %d-byte frames", len(parts), len(big.Items), budget)
	}
	var got []master.ASN
	pieces := 0
	for i, p := range parts {
		if n := len(p.appendTo(nil)); n > budget {
			t.Errorf("part %d takes %d bytes, budget %d", i, n, budget)
		}
		put, _, err := RecordsFromWire(&p)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range put.ASNs {
			if a.ID == "BIG" {
				pieces++
			}
		}
		got = MergeASNs(append(got, put.ASNs...))
	}
	if pieces < 5 {
		t.Errorf("the large ASN came in %d pieces", pieces)
	}
	if !reflect.DeepEqual(got, snap.ASNs) {
		t.Fatalf("merged ASNs differ from the ones sent: %d ASNs, want %d", len(got), len(snap.ASNs))
	}
}

func TestCodeTextNamesEveryCode(t *testing.T) {
	for c := CodeProtocol; c <= CodeSuperseded; c++ {
		if CodeText(c) == "unknown" {
			t.Errorf("code %d has no name", c)
		}
	}
	if CodeText(999) != "unknown" {
		t.Errorf("code 999 named")
	}
}
