package signals

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

const gtin = "00300010123455"

// digits returns n random digits from r.
func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func trainedDigits(n int) *FormatModel {
	r := rand.New(rand.NewPCG(1, 2))
	m := &FormatModel{}
	for range n {
		m.Learn(digits(r, 12))
	}
	return m
}

func TestFormatModelScore(t *testing.T) {
	m := trainedDigits(5000)
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name    string
		serial  string
		support int64
		flagged bool
		words   string
	}{
		{"a serial like the others", digits(r, 12), 200, false, ""},
		{"another serial like the others", digits(r, 12), 200, false, ""},
		{"too short", "A1B2C3", 200, true, "6 characters where every other has 12"},
		{"letters where digits", "12345A789012", 200, true, "a capital letter at position 6 where they have digits"},
		{"a character never seen", "1234-6789012", 200, true, "`-`, which none of them contain"},
		{"sequential", "123456789012", 200, true, "a run of 12 equal or consecutive characters"},
		{"all the same", "777777777777", 200, true, "run of 12"},
		{"below the minimum support judges nothing", "A1B2C3", 5001, false, ""},
		{"one character longer", "1234567890123", 200, true, "13 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := m.Score(c.serial, c.support)
			if got := j.Score >= 0.75; got != c.flagged {
				t.Fatalf("score %.3f (%v), flagged %v, want %v", j.Score, j.Reasons, got, c.flagged)
			}
			if c.words != "" && !strings.Contains(strings.Join(j.Reasons, "; "), c.words) {
				t.Fatalf("reasons %q lack %q", j.Reasons, c.words)
			}
		})
	}
}

func TestFormatModelLearnsSequentialManufacturers(t *testing.T) {
	// A manufacturer whose serials are sequential: runs are its normal.
	m := &FormatModel{}
	for i := range 3000 {
		m.Learn(fmt.Sprintf("SN%08d", 10000000+i))
	}
	if j := m.Score("SN10003001", 200); j.Score >= 0.75 {
		t.Fatalf("the next serial scores %.2f: %v", j.Score, j.Reasons)
	}
	if !m.Sequential() {
		t.Fatal("a sequential manufacturer is not seen as one")
	}
	if j := m.Score("SN10123456", 200); j.Score >= 0.75 {
		t.Fatalf("a sequential serial with a run scores %.2f: %v", j.Score, j.Reasons)
	}
	if trainedDigits(1000).Sequential() {
		t.Fatal("random serials seen as sequential")
	}
	if j := m.Score("SN1000300X", 200); j.Score < 0.75 {
		t.Fatalf("a letter at the end scores %.2f", j.Score)
	}
}

func TestLongestRun(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{{"", 0}, {"7", 1}, {"71", 1}, {"12", 2}, {"1234", 4}, {"4321", 4}, {"0000", 4}, {"1203", 2}, {"12321", 3}, {"ABCD9", 4}, {"7890123", 7}, {"3210987", 7}, {"A9B0", 1}} {
		if got := longestRun(c.s); got != c.want {
			t.Errorf("longestRun(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

func TestLotModel(t *testing.T) {
	m := NewLotModel()
	for i := range 1000 {
		lot := fmt.Sprintf("A%04d", 2400+i%10)
		m.Learn(gtin, lot, "281231", "sup1")
	}
	m.Learn(gtin, "A2401", "270101", "sup1") // one dissenter
	cases := []struct {
		name           string
		lot, exp, sup  string
		lotHit, expHit bool
	}{
		{"a known lot, its expiry", "A2401", "281231", "sup1", false, false},
		{"a known lot, another expiry", "A2401", "270101", "sup1", false, true},
		{"a new lot in the usual shape", "A2499", "", "sup1", false, false},
		{"a lot in another shape", "LOT-7", "", "sup1", true, false},
		{"a known lot from another supplier", "A2402", "", "sup9", true, false},
		{"no expiry", "A2401", "", "sup1", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lj := m.JudgeLot(gtin, c.lot, c.sup, 200)
			ej := m.JudgeExpiry(gtin, c.lot, c.exp, 50)
			if (lj.Score >= 0.75) != c.lotHit || (ej.Score >= 0.9) != c.expHit {
				t.Fatalf("lot %.2f %v, expiry %.2f %v", lj.Score, lj.Reasons, ej.Score, ej.Reasons)
			}
		})
	}
	// A lot split between two expiries (relabelled) is not odd.
	m2 := NewLotModel()
	for i := range 200 {
		m2.Learn(gtin, "B1", []string{"281231", "290630"}[i%2], "s")
	}
	if j := m2.JudgeExpiry(gtin, "B1", "290630", 50); j.Score != 0 {
		t.Fatalf("split lot scored %.2f", j.Score)
	}
}

func TestWorkModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var ws []Window
	for range 500 {
		var w Window
		w[featRate] = log1p(2 + r.Float64())
		w[featRefused] = r.Float64() * 0.04
		w[featCount] = r.Float64() * 0.05
		w[featPlaces] = 0.1 + r.Float64()*0.2
		ws = append(ws, w)
	}
	if FitWork(ws[:10], 50).Ready() {
		t.Fatal("a model from 10 windows judges")
	}
	m := FitWork(ws, 50)
	normal := ws[7]
	if j := m.Judge(WorkDevice, "d1", normal, 40); j.Score >= 0.9 {
		t.Fatalf("a fleet window scores %.2f: %v", j.Score, j.Reasons)
	}
	odd := Window{featRate: log1p(8), featRefused: 0.4, featNight: 1, featCount: 0.5, featReturn: 0.3, featPlaces: 0.9}
	j := m.Judge(WorkDevice, "rogue", odd, 40)
	if j.Score < 0.9 || !strings.Contains(j.Reasons[0], "100% in the hours the site is quiet") {
		t.Fatalf("a diverter's window scores %.2f: %v", j.Score, j.Reasons)
	}
}

// site builds events for analyzer tests.
type site struct {
	a   *Analyzer
	seq uint64
	t   time.Time
}

func newSite() *site {
	return &site{a: NewAnalyzer(Config{}), t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (s *site) asn(id, sup string, keys ...event.Key) {
	a := master.ASN{ID: id, Client: "acme", Supplier: sup}
	for _, k := range keys {
		a.Items = append(a.Items, master.ASNItem{Key: k, Lot: "L1", Expiry: "281231"})
	}
	s.a.ObserveASN(&a)
}

// scan feeds one event at +gap with the given verdict and returns the
// findings.
func (s *site) scan(dev string, kind event.Kind, k event.Key, ctx event.Context, v unit.Verdict, gap time.Duration) []Finding {
	s.seq++
	s.t = s.t.Add(gap)
	ev := event.Event{ID: event.ID{byte(s.seq >> 8), byte(s.seq), 1}, Device: dev, Seq: s.seq, HLC: hlc.New(s.t.UnixMilli(), 0),
		User: "u", Site: "site", Client: "acme", Kind: kind, Subjects: []event.Subject{{Key: k}}, Ctx: ctx}
	res := &unit.Result{Verdict: v, Subjects: []unit.SubjectResult{{Key: k, Verdict: v}}}
	return s.a.ObserveEvent(&ev, res)
}

func rules(fs []Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Rule))
	}
	return strings.Join(out, ",")
}

func TestDeterministicSignals(t *testing.T) {
	k := event.SGTIN(gtin, "100000000001")
	ok, ref := unit.VerdictApplied, unit.VerdictRefused
	type step struct {
		dev  string
		kind event.Kind
		ctx  event.Context
		v    unit.Verdict
		gap  time.Duration
		want string
	}
	recv := func(at string) event.Context { return event.Context{ASN: "A1", To: at} }
	cases := []struct {
		name      string
		announced bool
		steps     []step
	}{
		{"received as announced", true, []step{{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""}}},
		{"received with no supplier data", false, []step{{"d1", event.KindReceive, event.Context{To: "DOCK"}, ok, time.Second, "NO_SUPPLIER_DATA"}}},
		{"the same device scans it again at the dock", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindReceive, recv("DOCK"), unit.VerdictMerged, time.Second, ""}}},
		{"received again elsewhere while in stock", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d2", event.KindReceive, event.Context{To: "DOCK2"}, unit.VerdictMerged, time.Hour, "CLONED_SERIAL"}}},
		{"received after it was shipped", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindPick, event.Context{Order: "O1"}, ok, time.Hour, ""},
			{"d1", event.KindShip, event.Context{Shipment: "S1"}, ok, time.Hour, ""},
			{"d2", event.KindReceive, recv("DOCK"), unit.VerdictConflict, time.Hour, "CLONED_SERIAL"}}},
		{"counted after it was destroyed", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindDestroy, event.Context{}, ok, time.Hour, ""},
			{"d2", event.KindCount, event.Context{To: "B-1"}, unit.VerdictConflict, time.Hour, "CLONED_SERIAL"}}},
		{"returned while in stock", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d2", event.KindReturn, event.Context{To: "RET"}, unit.VerdictConflict, time.Hour, "CLONED_SERIAL"}}},
		{"returned after shipping: a real return", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindShip, event.Context{Shipment: "S1"}, ok, time.Hour, ""},
			{"d2", event.KindReturn, event.Context{To: "RET"}, ok, 48 * time.Hour, ""}}},
		{"returned, never shipped from here", false, []step{
			{"d2", event.KindReturn, event.Context{To: "RET"}, ref, time.Second, "RETURN_NOT_SHIPPED"}}},
		{"returned, announced but never received", true, []step{
			{"d2", event.KindReturn, event.Context{To: "RET"}, ref, time.Second, "RETURN_NOT_SHIPPED"}}},
		{"two devices, two places, 20 s apart", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindCount, event.Context{To: "B-1"}, ok, time.Hour, ""},
			{"d2", event.KindCount, event.Context{To: "B-9"}, ok, 20 * time.Second, "TWO_PLACES"}}},
		{"two devices, two places, just over the transit time", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindCount, event.Context{To: "B-1"}, ok, time.Hour, ""},
			{"d2", event.KindCount, event.Context{To: "B-9"}, ok, time.Minute, ""}}},
		{"another device moves it away at once", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d2", event.KindMove, event.Context{From: "DOCK", To: "B-1"}, ok, 5 * time.Second, ""}}},
		{"the same device in two places quickly", true, []step{
			{"d1", event.KindCount, event.Context{To: "B-1"}, ok, time.Second, ""},
			{"d1", event.KindCount, event.Context{To: "B-2"}, ok, 5 * time.Second, ""}}},
		{"a clone is raised once", true, []step{
			{"d1", event.KindReceive, recv("DOCK"), ok, time.Second, ""},
			{"d1", event.KindShip, event.Context{Shipment: "S1"}, ok, time.Hour, ""},
			{"d2", event.KindCount, event.Context{To: "B-1"}, unit.VerdictConflict, time.Hour, "CLONED_SERIAL"},
			{"d2", event.KindCount, event.Context{To: "B-1"}, unit.VerdictConflict, time.Hour, ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSite()
			if c.announced {
				s.asn("A1", "sup1", k)
			}
			for i, st := range c.steps {
				fs := s.scan(st.dev, st.kind, k, st.ctx, st.v, st.gap)
				if got := rules(fs); got != st.want {
					t.Fatalf("step %d (%s by %s): findings %q, want %q (%v)", i, st.kind, st.dev, got, st.want, fs)
				}
				for _, f := range fs {
					if err := f.Validate(); err != nil {
						t.Fatal(err)
					}
					if f.Detail == "" || !strings.Contains(f.Detail, k.String()) {
						t.Fatalf("detail %q does not name the unit", f.Detail)
					}
					if (f.Rule == RuleClonedSerial) != f.Certain {
						t.Fatalf("%s certain=%v", f.Rule, f.Certain)
					}
				}
			}
		})
	}
}

func TestSuppressedCauseIsNotRaised(t *testing.T) {
	s := newSite()
	s.a.Suppress(cause(RuleNoSupplierData, gtin))
	if fs := s.scan("d1", event.KindReceive, event.SGTIN(gtin, "X1"), event.Context{To: "D"}, unit.VerdictApplied, time.Second); len(fs) != 0 {
		t.Fatalf("suppressed cause raised %v", fs)
	}
	other := "00300010123462"
	if fs := s.scan("d1", event.KindReceive, event.SGTIN(other, "X1"), event.Context{To: "D"}, unit.VerdictApplied, time.Second); rules(fs) != "NO_SUPPLIER_DATA" {
		t.Fatalf("another product's finding: %v", fs)
	}
}

func TestLearnedSignalsAtReceipt(t *testing.T) {
	s := newSite()
	r := rand.New(rand.NewPCG(8, 9))
	var keys []event.Key
	for range 1000 {
		keys = append(keys, event.SGTIN(gtin, digits(r, 12)))
	}
	s.asn("A1", "sup1", keys...)
	forged := event.SGTIN(gtin, "A1B2C3")
	s.asn("A2", "sup1", forged)
	for _, k := range keys[:50] {
		if fs := s.scan("d1", event.KindReceive, k, event.Context{ASN: "A1", To: "DOCK"}, unit.VerdictApplied, time.Second); len(fs) != 0 {
			t.Fatalf("a normal unit raised %v", fs)
		}
	}
	fs := s.scan("d1", event.KindReceive, forged, event.Context{ASN: "A2", To: "DOCK"}, unit.VerdictApplied, time.Second)
	if rules(fs) != "SERIAL_FORMAT" {
		t.Fatalf("forged serial: %v", fs)
	}
	want := "serial `A1B2C3` does not look like the 1,000 serials seen for GTIN 00300010123455: "
	if !strings.HasPrefix(fs[0].Detail, want) || !strings.Contains(fs[0].Detail, "6 characters where every other has 12") {
		t.Fatalf("detail %q", fs[0].Detail)
	}
	if fs[0].Severity() < unit.SeverityMedium {
		t.Fatalf("severity %s for score %.2f", fs[0].Severity(), fs[0].Score)
	}
}

func TestFindingIDIsContentDerived(t *testing.T) {
	f := Finding{Rule: RuleTwoPlaces, Unit: event.SGTIN(gtin, "1"), Event: event.ID{1}, Client: "c", Cause: "x", Score: 1}
	g := f
	g.Detail, g.Score = "other words", 0.5
	if f.ID() != g.ID() {
		t.Fatal("the id depends on more than rule, unit and event")
	}
	g.Event = event.ID{2}
	if f.ID() == g.ID() {
		t.Fatal("another event, the same id")
	}
	bad := f
	bad.Rule = unit.RuleOverage
	if bad.Validate() == nil {
		t.Fatal("a rule that is not a signal validates")
	}
	bad = f
	bad.Score = 1.5
	if bad.Validate() == nil {
		t.Fatal("a score above 1 validates")
	}
}

func TestQuietHours(t *testing.T) {
	var h Hours
	for i := 6; i < 22; i++ {
		h[i] = 1000
	}
	h[22] = 300 // work running over
	h[3] = 10   // now and then
	if q := h.Quiet(1 << 30); q != [24]bool{} {
		t.Fatalf("quiet hours before enough scans: %v", q)
	}
	q := h.Quiet(1000)
	for i, want := range map[int]bool{3: true, 0: true, 4: true, 5: false, 6: false, 21: false, 22: false, 23: false, 1: true} {
		if q[i] != want {
			t.Errorf("hour %d quiet %v, want %v", i, q[i], want)
		}
	}
}

// TestHandheldModelsJudgeAsTheSite: the models a handheld gets judge a
// serial in the same words as the site's finding; products with too
// few serials to judge are left out, and the copies are independent.
func TestHandheldModelsJudgeAsTheSite(t *testing.T) {
	s := newSite()
	r := rand.New(rand.NewPCG(8, 9))
	var keys []event.Key
	for range 1000 {
		keys = append(keys, event.SGTIN(gtin, digits(r, 12)))
	}
	s.asn("A1", "sup1", keys...)
	const few = "00300010999992"
	s.asn("A2", "sup1", event.SGTIN(few, "123456789012"))
	hm := s.a.HandheldModels()
	if _, ok := hm.Models[few]; ok || hm.Models[gtin] == nil || hm.Models[gtin].N != 1000 {
		t.Fatalf("models %v", hm.Models)
	}
	forged := event.SGTIN(gtin, "A1B2C3")
	_, words, ok := hm.Suspect(forged)
	if !ok {
		t.Fatal("the handheld's models do not flag a forged serial")
	}
	s.asn("A3", "sup1", forged)
	fs := s.scan("d1", event.KindReceive, forged, event.Context{ASN: "A3", To: "DOCK"}, unit.VerdictApplied, time.Second)
	if len(fs) != 1 || fs[0].Detail != words {
		t.Fatalf("site %v, handheld %q", fs, words)
	}
	for _, k := range []event.Key{keys[0], keys[999], event.SGTIN(gtin, "483920174655"), event.SGTIN(few, "X"), event.SSCC("306141415000000001")} {
		if _, w, ok := hm.Suspect(k); ok {
			t.Errorf("%s flagged: %s", k, w)
		}
	}
	hm.Models[gtin].Learn("changed")
	if s.a.SerialModel(gtin).N != 1000 {
		t.Fatal("the handheld's copy shares the site's model")
	}
}
