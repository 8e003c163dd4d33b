package engine

import (
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

// serialModels learns the serials the fixture's ASN announces, as the
// site's analyzer would from supplier data.
func serialModels(fx *demo.Fixture) *signals.SerialModels {
	sm := &signals.SerialModels{MinSupport: 50, Threshold: 0.75, Models: map[string]*signals.FormatModel{}}
	for _, it := range fx.ASN(demo.ASNUS).Items {
		if it.Key.IsContainer() {
			continue
		}
		g := it.Key.GTIN()
		if sm.Models[g] == nil {
			sm.Models[g] = &signals.FormatModel{}
		}
		sm.Models[g].Learn(it.Key.Serial())
	}
	return sm
}

// TestReceiveFlagsSuspiciousSerial: a unit whose serial is unlike its
// manufacturer's is received as scanned and flagged with the alert cue
// and the words that explain it; serials like theirs, containers and a
// device without models are not.
func TestReceiveFlagsSuspiciousSerial(t *testing.T) {
	type tc struct {
		name    string
		models  bool
		replica bool // the models arrive in the replica, as the site publishes them
		scan    func(r *rig) []byte
		want    Verdict
		cue     Cue
		suspect bool
	}
	forged := func(r *rig) []byte {
		k := r.itemKey(0, 0)
		return demo.UnitScan(k.GTIN(), "ab-c", "US0001C001", "271201")
	}
	like := func(r *rig) []byte { // numbered like the others, past the ASN's
		k := r.itemKey(0, 0)
		return demo.UnitScan(k.GTIN(), k.Serial()[:len(k.Serial())-4]+"9999", "US0001C001", "271201")
	}
	cases := []tc{
		{name: "expected unit, models loaded", models: true, scan: func(r *rig) []byte { return r.item(1, 0) }, want: Accepted, cue: CueOK},
		{name: "case label, models loaded", models: true, scan: func(r *rig) []byte { return r.caseScan(1) }, want: Accepted, cue: CueOK},
		{name: "forged serial flagged", models: true, scan: forged, want: Warning, cue: CueAlert, suspect: true},
		{name: "forged serial flagged by the replica's models", replica: true, scan: forged, want: Warning, cue: CueAlert, suspect: true},
		{name: "genuine serial, replica's models", replica: true, scan: func(r *rig) []byte { return r.item(1, 0) }, want: Accepted, cue: CueOK},
		{name: "forged serial without models", models: false, scan: forged, want: Warning, cue: CueWarn},
		{name: "overage serial in the manufacturer's format", models: true, scan: like, want: Warning, cue: CueWarn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, demo.DefaultParams())
			if c.models {
				r.e.SetSerialModels(serialModels(r.fx))
			}
			if c.replica {
				var put master.Snapshot
				sm := serialModels(r.fx)
				for g, m := range sm.Models {
					put.SerialModels = append(put.SerialModels, signals.ModelRecord(g, demo.ClientUS, m, sm.MinSupport, sm.Threshold))
				}
				if err := r.e.ApplyChanges(&put, nil, "site:S/1/2"); err != nil {
					t.Fatal(err)
				}
			}
			r.login("op1")
			r.is(Accepted)(r.e.StartReceive(demo.ASNUS))
			s := r.must(r.e.Scan(c.scan(r)))
			if s.Verdict != c.want || s.Cue != c.cue {
				t.Fatalf("got %s %s (%s), want %s %s", s.Verdict, s.Cue, s.Reason, c.want, c.cue)
			}
			if got := strings.Contains(s.Reason, "suspicious serial"); got != c.suspect {
				t.Fatalf("suspicious %v, want %v: %s", got, c.suspect, s.Reason)
			}
			if c.suspect {
				t.Log(s.Reason)
				if !strings.Contains(s.Reason, "does not look like the") || !strings.Contains(s.Reason, "`ab-c`") {
					t.Fatalf("reason does not explain itself: %s", s.Reason)
				}
				if st := r.unit(s.Subject); st.Status != unit.StatusInStock {
					t.Fatalf("flagged unit not received: %+v", st)
				}
			}
		})
	}
}

// TestSerialModelsJudgeNothingWithout: nil models, containers and
// products without a model are never suspect.
func TestSerialModelsJudgeNothingWithout(t *testing.T) {
	var none *signals.SerialModels
	if _, _, ok := none.Suspect(event.Key("x")); ok {
		t.Fatal("nil models judged")
	}
}
