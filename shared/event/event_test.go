package event

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/hlc"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func sample() Event {
	id, _ := NewID(t0, bytes.NewReader(bytes.Repeat([]byte{7}, 16)))
	return Event{ID: id, Device: "DEV-ABC", Epoch: 2, Seq: 41, HLC: hlc.New(t0.UnixMilli(), 3), User: "maria", Site: "0614141000005",
		Client: "acme", Kind: KindPack, Subjects: []Subject{{Key: SGTIN("00300010123455", "SN1"), BaseVersion: 4}, {Key: SGTIN("00300010123455", "SN2")}},
		Ctx: Context{Order: "SO-118", Line: "2", Parent: SSCC("003000101234567893"), Reason: "r", Hold: HoldDamaged, Inferred: true}}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		key       Key
		ok        bool
		container bool
	}{
		{SGTIN("00300010123455", "SN1"), true, false},
		{SGTIN("10300010123452", "C1"), true, true},
		{SGTIN("90300010123458", "C1"), true, false}, // indicator 9: variable measure, not a case
		{SSCC("003000101234567897"), true, true},
		{SSCC("0030001"), false, true},
		{SGTIN("0030001012345", "S"), false, false},
		{SGTIN("00300010123455", ""), false, false},
		{SGTIN("00300010123455", strings.Repeat("x", 21)), false, false},
		{Key("9912345"), false, false},
	}
	for _, tc := range tests {
		err := tc.key.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v", tc.key, err)
		}
		if err != nil && !errors.Is(err, ErrKey) {
			t.Errorf("%q: err %v is not ErrKey", tc.key, err)
		}
		if tc.ok && tc.key.IsContainer() != tc.container {
			t.Errorf("%q: container = %v", tc.key, !tc.container)
		}
	}
	k := SGTIN("00300010123455", "SN1")
	if k.GTIN() != "00300010123455" || k.Serial() != "SN1" || k.String() != "(01)00300010123455(21)SN1" {
		t.Fatalf("parts of %q", k)
	}
	if s := SSCC("003000101234567897"); s.SSCCValue() != "003000101234567897" || s.String() != "(00)003000101234567897" {
		t.Fatalf("sscc parts")
	}
}

func TestIDs(t *testing.T) {
	id, err := NewID(t0, bytes.NewReader(make([]byte, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if id[6]>>4 != 7 || id[8]>>6 != 2 {
		t.Fatalf("not a v7 uuid: %s", id)
	}
	back, err := ParseID(id.String())
	if err != nil || back != id {
		t.Fatalf("ParseID: %v %v", back, err)
	}
	later, _ := NewID(t0.Add(time.Millisecond), bytes.NewReader(make([]byte, 16)))
	if bytes.Compare(later[:], id[:]) <= 0 {
		t.Fatal("ids do not sort by time")
	}
	if _, err := NewID(t0, bytes.NewReader(nil)); err == nil {
		t.Fatal("short randomness accepted")
	}
	if _, err := ParseID("nope"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ParseID(nope) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Event)
		want string // "" = valid
	}{
		{"ok", func(*Event) {}, ""},
		{"no id", func(e *Event) { e.ID = ID{} }, "no id"},
		{"no device", func(e *Event) { e.Device = "" }, "no device"},
		{"seq zero", func(e *Event) { e.Seq = 0 }, "sequence"},
		{"no hlc", func(e *Event) { e.HLC = 0 }, "hlc"},
		{"no user", func(e *Event) { e.User = "" }, "user"},
		{"no client", func(e *Event) { e.Client = "" }, "client"},
		{"bad kind", func(e *Event) { e.Kind = 99 }, "unknown kind"},
		{"no subjects", func(e *Event) { e.Subjects = nil }, "no subject"},
		{"dup subject", func(e *Event) { e.Subjects[1] = e.Subjects[0] }, "twice"},
		{"bad key", func(e *Event) { e.Subjects[0].Key = "01abc" }, "malformed"},
		{"pack no parent", func(e *Event) { e.Ctx.Parent = "" }, "container"},
		{"pack into itself", func(e *Event) { e.Ctx.Parent = e.Subjects[0].Key }, "itself"},
		{"pick no order", func(e *Event) { e.Kind = KindPick; e.Ctx.Order = "" }, "order"},
		{"ship no shipment", func(e *Event) { e.Kind = KindShip }, "shipment"},
		{"hold no reason", func(e *Event) { e.Kind = KindHold; e.Ctx.Hold = 0 }, "reason"},
		{"two reasons", func(e *Event) { e.Ctx.Hold = HoldDamaged | HoldRecall }, "not one reason"},
		{"move nowhere", func(e *Event) { e.Kind = KindMove }, "destination"},
		{"unpack from nowhere", func(e *Event) { e.Kind = KindUnpack; e.Ctx.Parent = "" }, "container"},
		{"long field", func(e *Event) { e.Ctx.Reason = strings.Repeat("x", MaxField+1) }, "ctx.reason: event: invalid: 257 bytes"},
		{"long device", func(e *Event) { e.Device = strings.Repeat("d", 1100) }, "device:"},
		{"too many subjects", func(e *Event) { e.Subjects = manySubjects(MaxSubjects + 1) }, "subjects: 1001 subjects, at most 1000"},
		{"most subjects", func(e *Event) { e.Subjects = manySubjects(MaxSubjects) }, ""},
		// The checks a scan gets.
		{"gtin check digit", func(e *Event) { e.Subjects[0].Key = SGTIN("00300010123454", "SN1") }, "subjects[0].key"},
		{"sscc check digit", func(e *Event) { e.Ctx.Parent = SSCC("003000101234567897") }, "ctx.parent"},
		{"serial outside cset 82", func(e *Event) { e.Subjects[1].Key = SGTIN("00300010123455", "SN#2") }, "subjects[1].key"},
		{"expiry month 13", func(e *Event) { e.Ctx.Expiry = "281301" }, "ctx.expiry"},
		{"expiry letters", func(e *Event) { e.Ctx.Expiry = "ABCDEF" }, "ctx.expiry"},
		{"expiry 999999", func(e *Event) { e.Ctx.Expiry = "999999" }, "ctx.expiry"},
		{"expiry 30 February", func(e *Event) { e.Ctx.Expiry = "270230" }, "ctx.expiry"},
		{"expiry last of month", func(e *Event) { e.Ctx.Expiry = "270200" }, ""},
		{"expiry leap day", func(e *Event) { e.Ctx.Expiry = "280229" }, ""},
		{"lot with GS", func(e *Event) { e.Ctx.Lot = "L1\x1d21SN9" }, "ctx.lot"},
		{"lot with space", func(e *Event) { e.Ctx.Lot = "L 1" }, "ctx.lot"},
		{"lot of 21", func(e *Event) { e.Ctx.Lot = strings.Repeat("L", 21) }, "ctx.lot"},
		{"lot of 1100", func(e *Event) { e.Ctx.Lot = strings.Repeat("L", 1100) }, "ctx.lot"},
		{"lot", func(e *Event) { e.Ctx.Lot = "A12-3/4" }, ""},
		{"reason with NUL", func(e *Event) { e.Ctx.Reason = "a\x00b" }, "ctx.reason"},
		{"reason not utf-8", func(e *Event) { e.Ctx.Reason = "a\xffb" }, "ctx.reason"},
		{"destination script", func(e *Event) { e.Ctx.Destination = "javascript:alert(1)" }, "ctx.destination"},
		{"destination GLN check digit", func(e *Event) { e.Ctx.Destination = "0614141000006" }, "ctx.destination"},
		{"destination GLN", func(e *Event) { e.Ctx.Destination = "0614141000005" }, ""},
		{"destination partner", func(e *Event) { e.Ctx.Destination = "CUST-1" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := sample()
			tc.mod(&e)
			err := e.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func manySubjects(n int) []Subject {
	out := make([]Subject, n)
	for i := range out {
		out[i].Key = SGTIN("00300010123455", fmt.Sprintf("S%d", i))
	}
	return out
}

// TestValidateNamesTheField: every refusal is a *FieldError naming the
// field as the JSON form spells it.
func TestValidateNamesTheField(t *testing.T) {
	e := sample()
	e.Ctx.Lot = strings.Repeat("L", 1100)
	var fe *FieldError
	if err := e.Validate(); !errors.As(err, &fe) || fe.Field != "ctx.lot" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %#v", err)
	}
	e = sample()
	e.Subjects[1].Key = "01abc"
	if err := e.Validate(); !errors.As(err, &fe) || fe.Field != "subjects[1].key" || !errors.Is(err, ErrKey) {
		t.Fatalf("err = %#v", err)
	}
}

// TestLimitsFit: the largest event Validate accepts encodes within
// MaxEncoded, which fits an entry, and decodes.
func TestLimitsFit(t *testing.T) {
	e := sample()
	e.Subjects = make([]Subject, MaxSubjects)
	for i := range e.Subjects {
		e.Subjects[i] = Subject{Key: SGTIN("00300010123455", fmt.Sprintf("%020d", i)), BaseVersion: 1<<64 - 1}
	}
	long := strings.Repeat("x", MaxField)
	e.Device, e.User, e.Site, e.Client = long, long, long, long
	c := &e.Ctx
	c.ASN, c.Order, c.Line, c.Shipment, c.From, c.To, c.Reason = long, long, long, long, long, long, long
	c.Lot, c.Expiry, c.Destination = strings.Repeat("L", MaxLot), "301231", strings.Repeat("D", MaxField)
	e.Epoch, e.Seq = 1<<32-1, 1<<64-1
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	b := e.AppendBinary(nil)
	if len(b) > MaxEncoded {
		t.Fatalf("largest valid event encodes to %d bytes, MaxEncoded is %d", len(b), MaxEncoded)
	}
	if MaxEncoded+64 > MaxEntry {
		t.Fatalf("MaxEncoded %d does not fit an entry of %d", MaxEncoded, MaxEntry)
	}
	if MaxField > MaxCodecField || MaxKey > MaxField {
		t.Fatal("Validate accepts more than the codec reads")
	}
	var back Event
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
}

// TestCodecRefusesOverLimits: the decoder refuses what no entry may hold.
func TestCodecRefusesOverLimits(t *testing.T) {
	tests := map[string]func(*Event){
		"subjects": func(e *Event) { e.Subjects = manySubjects(MaxSubjects + 1) },
		"lot":      func(e *Event) { e.Ctx.Lot = strings.Repeat("L", MaxCodecField+1) },
		"device":   func(e *Event) { e.Device = strings.Repeat("d", MaxCodecField+1) },
		"key":      func(e *Event) { e.Subjects[0].Key = Key(strings.Repeat("0", MaxCodecField+1)) },
	}
	for name, mod := range tests {
		e := sample()
		mod(&e)
		var back Event
		if err := back.UnmarshalBinary(e.AppendBinary(nil)); !errors.Is(err, ErrEncoding) {
			t.Errorf("%s: decode = %v, want ErrEncoding", name, err)
		}
	}
}

func TestCheckers(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"gtin", CheckGTIN("00300010123455"), true},
		{"gtin check digit", CheckGTIN("00300010123454"), false},
		{"gtin short", CheckGTIN("0030001012345"), false},
		{"gtin letters", CheckGTIN("0030001012345A"), false},
		{"gln", CheckDestination("0614141000005"), true},
		{"gln check digit", CheckDestination("0614141000006"), false},
		{"partner", CheckDestination("CUST_1.a-b"), true},
		{"script", CheckDestination("javascript:alert(1)"), false},
		{"html", CheckDestination("<b>"), false},
		{"empty id", CheckID(""), false},
		{"long id", CheckID(strings.Repeat("a", MaxField+1)), false},
		{"sscc key", SSCC("003000101234567893").Check(), true},
		{"sscc key check digit", SSCC("003000101234567897").Check(), false},
		{"expiry", CheckExpiry("301231"), true},
		{"expiry day 00", CheckExpiry("301100"), true},
		{"expiry 281301", CheckExpiry("281301"), false},
		{"lot", CheckLot("ABC-1"), true},
		{"lot GS", CheckLot("A\x1dB"), false},
		{"text", CheckText("Main Street – ok"), true},
		{"text newline", CheckText("a\nb"), false},
	}
	for _, tc := range tests {
		if (tc.err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, tc.err)
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	e := sample()
	b, _ := e.MarshalBinary()
	var got Event
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
	// A sequence decodes event by event.
	two := e.AppendBinary(e.AppendBinary(nil))
	var a, c Event
	rest, err := a.DecodeBinary(two)
	if err != nil {
		t.Fatal(err)
	}
	if rest, err = c.DecodeBinary(rest); err != nil || len(rest) != 0 {
		t.Fatalf("second: %v, %d left", err, len(rest))
	}
	// Every truncation is an error, never a panic.
	for i := range b {
		if err := new(Event).UnmarshalBinary(b[:i]); !errors.Is(err, ErrEncoding) {
			t.Fatalf("truncated at %d: err = %v", i, err)
		}
	}
	if err := new(Event).UnmarshalBinary(append(b, 0)); !errors.Is(err, ErrEncoding) {
		t.Fatal("trailing byte accepted")
	}
	// An overlong varint (0x80 0x00 for 0) is a second encoding of the
	// same value: refused.
	overlong := append([]byte{codecVersion}, e.ID[:]...)
	overlong = append(overlong, 0x80, 0x00)
	if err := new(Event).UnmarshalBinary(overlong); !errors.Is(err, ErrEncoding) {
		t.Fatal("overlong varint accepted")
	}
}

func TestKindNamesRoundTrip(t *testing.T) {
	for _, k := range Kinds() {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Fatalf("%s: %v %v", k, back, err)
		}
		if f := (&Event{Kind: k}).EPCIS(); !k.Internal() && (f.Type == "" || f.BizStep == "" || f.Disposition == "" || f.Action == "") {
			t.Errorf("%s has no EPCIS form", k)
		}
	}
	if _, err := ParseKind("teleport"); !errors.Is(err, ErrUnknownKind) {
		t.Fatal("unknown kind accepted")
	}
	if f := (&Event{Kind: KindExpect}).EPCIS(); f != (EPCISForm{}) {
		t.Fatal("expect is internal")
	}
	// A look-up is not a custody event: no EPCIS form, and its number
	// is stored, so it never moves.
	if f := (&Event{Kind: KindLookup}).EPCIS(); f != (EPCISForm{}) || !KindLookup.Internal() || KindLookup != 21 || KindLookup.String() != "lookup" {
		t.Fatalf("lookup: %+v %d %s", f, KindLookup, KindLookup)
	}
	if f := (&Event{Kind: KindHold, Ctx: Context{Hold: HoldRecall}}).EPCIS(); f.Disposition != "recalled" || f.BizStep != "holding" {
		t.Fatalf("recall hold: %+v", f)
	}
	if f := (&Event{Kind: KindReceive, Ctx: Context{Inferred: true}}).EPCIS(); f.Disposition != "completeness_inferred" || f.Type != ObjectEvent {
		t.Fatalf("inferred receive: %+v", f)
	}
}

func TestHolds(t *testing.T) {
	h := Holds(0).With(HoldRecall).With(HoldDamaged)
	if !h.Has(HoldRecall) || h.Has(HoldSuspect) || h.String() != "recall,damaged" {
		t.Fatalf("holds %s", h)
	}
	if h.Without(HoldRecall).String() != "damaged" {
		t.Fatal("without")
	}
	for _, r := range h.Reasons() {
		back, err := ParseHoldReason(r.String())
		if err != nil || back != r {
			t.Fatal(r, err)
		}
	}
	if _, err := ParseHoldReason("bored"); err == nil {
		t.Fatal("bad reason accepted")
	}
}

func FuzzDecodeBinary(f *testing.F) {
	e := sample()
	b, _ := e.MarshalBinary()
	f.Add(b)
	f.Add([]byte{codecVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Event
		if err := got.UnmarshalBinary(data); err != nil {
			return
		}
		again, _ := got.MarshalBinary()
		var back Event
		if err := back.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(back, got) {
			t.Fatal("decode → encode → decode changed the event")
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	e := sample()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendBinary(buf[:0])
	}
}

func BenchmarkDecode(b *testing.B) {
	e := sample()
	data, _ := e.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		var got Event
		if err := got.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAdmit(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Event)
		ok   bool
	}{
		{"valid", func(*Event) {}, true},
		{"invalid but readable", func(e *Event) { e.Ctx.Lot = strings.Repeat("L", 300) }, true},
		{"1001 subjects", func(e *Event) { e.Subjects = manySubjects(MaxSubjects + 1) }, false},
		{"lot of 1100 bytes", func(e *Event) { e.Ctx.Lot = strings.Repeat("L", 1100) }, false},
		{"device of 1100 bytes", func(e *Event) { e.Device = strings.Repeat("d", 1100) }, false},
		{"subject key of 1100 bytes", func(e *Event) { e.Subjects[0].Key = Key(strings.Repeat("0", 1100)) }, false},
		{"readable but larger than any valid event", func(e *Event) {
			e.Subjects = manySubjects(MaxSubjects)
			for i := range e.Subjects {
				e.Subjects[i].Key = Key(strings.Repeat("1", 900))
			}
		}, false},
	}
	for _, tc := range tests {
		e := sample()
		tc.mod(&e)
		if err := e.Admit(); (err == nil) != tc.ok {
			t.Errorf("%s: Admit = %v", tc.name, err)
		}
	}
}

// BenchmarkAdmit is the cost the last gate before the log adds per event.
func BenchmarkAdmit(b *testing.B) {
	e := sample()
	for b.Loop() {
		if err := e.Admit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate is the cost of the envelope and identifier checks.
func BenchmarkValidate(b *testing.B) {
	e := sample()
	e.Ctx.Lot, e.Ctx.Expiry = "L1", "301231"
	for b.Loop() {
		if err := e.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
