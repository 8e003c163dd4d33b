package signals

import (
	"errors"
	"fmt"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

func TestRepublish(t *testing.T) {
	cases := []struct {
		name                     string
		published, n, minSupport int64
		want                     bool
	}{
		{"below the support", 0, 199, 200, false},
		{"judges at last", 0, 200, 200, true},
		{"unchanged", 200, 200, 200, false},
		{"a few more", 200, 219, 200, false},
		{"a tenth more", 200, 220, 200, true},
		{"fewer (an older record read back)", 500, 400, 200, false},
		{"large", 1_000_000, 1_099_999, 200, false},
		{"large, a tenth more", 1_000_000, 1_100_000, 200, true},
	}
	for _, c := range cases {
		if got := Republish(c.published, c.n, c.minSupport); got != c.want {
			t.Errorf("%s: Republish(%d, %d, %d) = %v, want %v", c.name, c.published, c.n, c.minSupport, got, c.want)
		}
	}
}

// TestPublishedModelJudgesAsTheAnalyzer: a model published as a record
// and read back (as a handheld does) judges every serial exactly as the
// model it came from, and passes the record's own checks.
func TestPublishedModelJudgesAsTheAnalyzer(t *testing.T) {
	const gtin = "00300010123455"
	var m FormatModel
	for i := range 500 {
		m.Learn(fmt.Sprintf("%012d", 7_919_000_003*i%1_000_000_000_000))
	}
	rec := ModelRecord(gtin, "acme", &m, 200, 0.75)
	if err := rec.Validate(); err != nil {
		t.Fatal(err)
	}
	models := &SerialModels{MinSupport: 200, Threshold: 0.75, Models: map[string]*FormatModel{gtin: &m}}
	for _, serial := range []string{"000000001234", "ab-c", "AAAAAAAAAAAA", "123456789012", "12345678901", "0000000000000000000X"} {
		k := event.SGTIN(gtin, serial)
		j1, w1, ok1 := models.Suspect(k)
		j2, w2, ok2 := SuspectPublished(&rec, k)
		if ok1 != ok2 || w1 != w2 || j1.Score != j2.Score {
			t.Errorf("%s: analyzer %v %.3f %q, published %v %.3f %q", serial, ok1, j1.Score, w1, ok2, j2.Score, w2)
		}
	}
	if _, _, ok := SuspectPublished(&rec, event.SGTIN(gtin, "ab-c")); !ok {
		t.Error("a forged serial is not suspect")
	}
	if _, _, ok := SuspectPublished(&rec, event.SGTIN(gtin, "000000001234")); ok {
		t.Error("a serial of the manufacturer's kind is suspect")
	}
	// Another product's serial, a container and no record judge nothing.
	if _, _, ok := SuspectPublished(&rec, event.SGTIN("00300010123462", "ab-c")); ok {
		t.Error("a model judged another product's serial")
	}
	if _, _, ok := SuspectPublished(&rec, event.SSCC("003000100000000015")); ok {
		t.Error("a model judged a container")
	}
	if _, _, ok := SuspectPublished(nil, event.SGTIN(gtin, "ab-c")); ok {
		t.Error("no model judged")
	}
}

func TestSerialModelRecordChecks(t *testing.T) {
	var m FormatModel
	for i := range 300 {
		m.Learn(fmt.Sprintf("%012d", 7_919_000_003*i%1_000_000_000_000))
	}
	good := ModelRecord("00300010123455", "acme", &m, 200, 0.75)
	cases := []struct {
		name   string
		change func(r *master.SerialModel)
		ok     bool
	}{
		{"as learned", func(*master.SerialModel) {}, true},
		{"bad gtin", func(r *master.SerialModel) { r.GTIN = "00300010123456" }, false},
		{"no client", func(r *master.SerialModel) { r.Client = "" }, false},
		{"nothing learned", func(r *master.SerialModel) { r.N = 0 }, false},
		{"lengths do not add up", func(r *master.SerialModel) { r.Lengths[12]-- }, false},
		{"runs do not add up", func(r *master.SerialModel) { r.Runs[3]++ }, false},
		{"negative character count", func(r *master.SerialModel) { r.Chars['0'] = -1 }, false},
		{"class count over the serials", func(r *master.SerialModel) { r.Classes[0][0] = r.N + 1 }, false},
		{"more close than serials", func(r *master.SerialModel) { r.Close = r.N + 1 }, false},
		{"threshold 0", func(r *master.SerialModel) { r.Threshold = 0 }, false},
		{"threshold over 1", func(r *master.SerialModel) { r.Threshold = 1.5 }, false},
		{"no support", func(r *master.SerialModel) { r.MinSupport = 0 }, false},
	}
	for _, c := range cases {
		r := good
		c.change(&r)
		err := r.Validate()
		if (err == nil) != c.ok || err != nil && !errors.Is(err, master.ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
