package event

import (
	"bytes"
	"errors"
	"testing"
)

func TestWorkflowKindsValidate(t *testing.T) {
	base := sample()
	unitK, caseK := SGTIN("00300010123455", "SN1"), SGTIN("10300010123452", "C1")
	tests := []struct {
		name string
		kind Kind
		subj []Subject
		ctx  Context
		ok   bool
	}{
		{"close complete", KindCloseASN, nil, Context{ASN: "ASN-1"}, true},
		{"close short", KindCloseASN, []Subject{{Key: unitK, BaseVersion: 1}}, Context{ASN: "ASN-1"}, true},
		{"close without asn", KindCloseASN, nil, Context{}, false},
		{"short pick", KindShortPick, nil, Context{Order: "SO-1", Line: "1", Qty: 3, Reason: "not found"}, true},
		{"short pick no qty", KindShortPick, nil, Context{Order: "SO-1", Line: "1", Reason: "not found"}, false},
		{"short pick no reason", KindShortPick, nil, Context{Order: "SO-1", Line: "1", Qty: 3}, false},
		{"short pick no line", KindShortPick, nil, Context{Order: "SO-1", Qty: 3, Reason: "x"}, false},
		{"short pick with a unit", KindShortPick, []Subject{{Key: unitK}}, Context{Order: "SO-1", Line: "1", Qty: 3, Reason: "x"}, false},
		{"mismatch", KindVerifyMismatch, []Subject{{Key: caseK}, {Key: unitK}}, Context{}, true},
		{"mismatch unit first", KindVerifyMismatch, []Subject{{Key: unitK}}, Context{}, false},
		{"mismatch nothing", KindVerifyMismatch, nil, Context{}, false},
		{"receive needs a subject", KindReceive, nil, Context{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			e.Kind, e.Subjects, e.Ctx = tc.kind, tc.subj, tc.ctx
			err := e.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v is not ErrInvalid", err)
			}
		})
	}
}

func TestQuantityRoundTripKeepsOldBytes(t *testing.T) {
	e := sample()
	old := e.AppendBinary(nil)
	// Without a quantity the encoding ends with the hold and flags bytes,
	// as it always did.
	if got := old[len(old)-2:]; got[0] != byte(HoldDamaged) || got[1] != flagInferred {
		t.Fatalf("tail %v", got)
	}
	e.Kind, e.Subjects = KindShortPick, nil
	e.Ctx = Context{Order: "SO-1", Line: "2", Qty: 70000, Reason: "damaged in rack"}
	b := e.AppendBinary(nil)
	var back Event
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Ctx.Qty != 70000 || back.Kind != KindShortPick || len(back.Subjects) != 0 {
		t.Fatalf("back %+v", back)
	}
	if !bytes.Equal(back.AppendBinary(nil), b) {
		t.Fatal("re-encoding differs")
	}
	// A quantity flag with a zero quantity is a second encoding: refused.
	bad := append(bytes.Clone(b[:len(b)-3]), 0)
	if err := new(Event).UnmarshalBinary(bad); !errors.Is(err, ErrEncoding) {
		t.Fatalf("zero quantity accepted: %v", err)
	}
}
