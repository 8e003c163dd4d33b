package engine

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// A case read in one frame: everything inside at once, repeats and all,
// gives one verdict for the case.
func TestVerifyBatch(t *testing.T) {
	r := newRig(t, demo.DefaultParams())
	r.login("op1")
	pallet, cases, units := asn1(r.fx)
	r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
	r.is(Accepted)(r.scan(pallet))
	r.is(Accepted)(r.e.Close())

	scansOf := func(c event.Key) [][]byte {
		var out [][]byte
		for _, it := range units[c] {
			out = append(out, r.fx.ScanOf(it.Key))
		}
		return out
	}

	// full match, with a repeated read: verified
	all := scansOf(cases[0])
	all = append(all, all[3])
	s := r.is(Accepted)(r.e.VerifyBatch(cases[0], all))
	if s.Cue != CueDone || len(s.Missing) != 0 || len(s.Extra) != 0 || r.unit(cases[0]).Completeness != unit.CompletenessVerified {
		t.Fatalf("full match: %+v %+v", s, r.unit(cases[0]))
	}

	// one unit not read, one from another case inside, one code that is
	// no GS1 key: held, missing and extra listed, the stray code noted
	got := scansOf(cases[1])[1:]
	got = append(got, r.fx.ScanOf(units[cases[2]][0].Key), []byte("Hello World"))
	s = r.is(Warning)(r.e.VerifyBatch(cases[1], got))
	if len(s.Missing) != 1 || s.Missing[0] != units[cases[1]][0].Key || len(s.Extra) != 1 || s.Extra[0] != units[cases[2]][0].Key {
		t.Fatalf("mismatch: missing %v extra %v", s.Missing, s.Extra)
	}
	if !hasRule(s, unit.RuleAggregation) || !strings.Contains(s.Reason, "1 read codes were not GS1 keys") {
		t.Fatalf("mismatch step: %+v", s)
	}
	if !r.unit(cases[1]).Holds.Has(event.HoldInvestigation) {
		t.Fatalf("case not held: %+v", r.unit(cases[1]))
	}

	// a unit is no container: refused, and no task is left open
	r.is(Refused)(r.e.VerifyBatch(units[cases[3]][0].Key, scansOf(cases[3])))
	r.is(Refused)(r.e.Close())
}
