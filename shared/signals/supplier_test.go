package signals

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// profile is a supplier model that learned n ASNs of sup1, each of 100
// units of gtin in one lot, the largest of 150.
func profile(n int) *SupplierModel {
	m := NewSupplierModel()
	for i := range n {
		units := int64(100)
		if i == 0 {
			units = 150
		}
		m.Learn(&Shipment{ASN: fmt.Sprint("A", i), Supplier: "sup1", Products: []string{gtin}, Units: units, Lots: 1})
	}
	return m
}

func TestSupplierModelJudge(t *testing.T) {
	const other = "00300010123462"
	cases := []struct {
		name    string
		asns    int
		s       Shipment
		score   float64
		cause   string
		reasons []string
	}{
		{"usual", 30, Shipment{Supplier: "sup1", Products: []string{gtin}, Units: 120, Lots: 1}, 0, "", nil},
		{"too little history", 29, Shipment{Supplier: "sup1", Products: []string{other}, Units: 900, Lots: 5}, 0, "", nil},
		{"unknown supplier", 30, Shipment{Supplier: "sup9", Products: []string{other}, Units: 900, Lots: 5}, 0, "", nil},
		{"a product it never sends", 30, Shipment{ASN: "X", Supplier: "sup1", Products: []string{other}, Units: 100, Lots: 1}, 30.0 / 31, "product " + other,
			[]string{"ASN X from sup1 carries GTIN 00300010123462, which none of the 30 ASNs sup1 sent before carried (it sends GTIN 00300010123455)"}},
		{"twice its largest", 30, Shipment{Supplier: "sup1", Products: []string{gtin}, Units: 300, Lots: 1}, 0, "", nil},
		{"more than twice its largest", 30, Shipment{ASN: "X", Supplier: "sup1", Products: []string{gtin}, Units: 301, Lots: 1}, 30.0 / 31, "units",
			[]string{"ASN X from sup1 carries 301 units; the largest of the 30 ASNs sup1 sent before carried 150"}},
		{"twice its lots", 30, Shipment{Supplier: "sup1", Products: []string{gtin}, Units: 100, Lots: 2}, 0, "", nil},
		{"more than twice its lots", 30, Shipment{ASN: "X", Supplier: "sup1", Products: []string{gtin}, Units: 100, Lots: 3}, 30.0 / 31, "lots",
			[]string{"ASN X from sup1 mixes 3 lots; the 30 ASNs sup1 sent before carried at most 1"}},
		{"all at once, product first", 1000, Shipment{ASN: "X", Supplier: "sup1", Products: []string{gtin, other}, Units: 5000, Lots: 9}, 1000.0 / 1001, "product " + other, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := profile(c.asns).Judge(&c.s, 30)
			if j.Score != c.score || j.Cause != c.cause {
				t.Fatalf("score %.4f cause %q, want %.4f %q", j.Score, j.Cause, c.score, c.cause)
			}
			if c.reasons != nil && strings.Join(j.Reasons, "|") != strings.Join(c.reasons, "|") {
				t.Fatalf("reasons %q", j.Reasons)
			}
			if c.name == "all at once, product first" && len(j.Reasons) != 3 {
				t.Fatalf("reasons %q, want three", j.Reasons)
			}
		})
	}
}

// serialOf is the i-th serial of an ASN: 12 digits, like the others.
func serialOf(id string, i int) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	return fmt.Sprintf("%012d", (h.Sum64()%1_000_000+uint64(i))*7_919_000_003%1_000_000_000_000)
}

// shipASN announces n units of product g from sup in lots lots.
func (s *site) shipASN(id, sup, g string, n, lots int) []event.Key {
	a := master.ASN{ID: id, Client: "acme", Supplier: sup}
	var keys []event.Key
	for i := range n {
		k := event.SGTIN(g, serialOf(id, i))
		keys = append(keys, k)
		a.Items = append(a.Items, master.ASNItem{Key: k, Lot: fmt.Sprintf("L%d", i%lots), Expiry: "281231"})
	}
	s.a.ObserveASN(&a)
	return keys
}

func (s *site) receive(id string, k event.Key) []Finding {
	return s.scan("d1", event.KindReceive, k, event.Context{ASN: id, To: "DOCK"}, unit.VerdictApplied, time.Second)
}

// TestSupplierProfileAtReceipt: an ASN unlike what its supplier sends
// is found at its first receipt, once, on that unit, and is not learned;
// an ASN in parts is judged whole; a silenced cause is not raised again.
func TestSupplierProfileAtReceipt(t *testing.T) {
	const other = "00300010123462"
	s := newSite()
	for i := range 30 {
		id := fmt.Sprint("N", i)
		keys := s.shipASN(id, "sup1", gtin, 20, 1)
		for _, k := range keys[:2] {
			if fs := s.receive(id, k); len(fs) != 0 {
				t.Fatalf("usual ASN %s raised %v", id, fs)
			}
		}
	}
	odd := s.shipASN("ODD", "sup1", other, 20, 1)
	fs := s.receive("ODD", odd[0])
	if rules(fs) != "SUPPLIER_PROFILE" || fs[0].Unit != odd[0] || fs[0].Score < s.a.cfg.SupplierThreshold {
		t.Fatalf("first unit of the odd ASN: %v", fs)
	}
	want := "ASN ODD from sup1 carries GTIN 00300010123462, which none of the 30 ASNs sup1 sent before carried (it sends GTIN 00300010123455): hold the shipment"
	if !strings.HasPrefix(fs[0].Detail, want) {
		t.Fatalf("detail %q", fs[0].Detail)
	}
	if fs := s.receive("ODD", odd[1]); len(fs) != 0 {
		t.Fatalf("second unit of the odd ASN: %v", fs)
	}
	// Not learned: the same product from sup1 is still unusual.
	again := s.shipASN("ODD2", "sup1", other, 20, 1)
	if fs := s.receive("ODD2", again[0]); rules(fs) != "SUPPLIER_PROFILE" {
		t.Fatalf("the odd ASN was learned: %v", fs)
	}
	// An ASN in two parts of 30 is 60 units, more than twice the 20 of
	// every ASN before.
	big := s.shipASN("BIG", "sup1", gtin, 60, 1)
	part := master.ASN{ID: "BIG2", Client: "acme", Supplier: "sup1"}
	for i := range 60 {
		part.Items = append(part.Items, master.ASNItem{Key: event.SGTIN(gtin, serialOf("BIG2", i)), Lot: "L0", Expiry: "281231"})
	}
	first, second := part, part
	first.Items, second.Items = part.Items[:30], part.Items[30:]
	s.a.ObserveASN(&first)
	s.a.ObserveASN(&second)
	fs = s.receive("BIG2", part.Items[0].Key)
	if rules(fs) != "SUPPLIER_PROFILE" || !strings.Contains(fs[0].Detail, "carries 60 units; the largest of the 30 ASNs sup1 sent before carried 20") {
		t.Fatalf("an ASN in parts: %v", fs)
	}
	// A false alarm silences the cause.
	s.a.Suppress(fs[0].Cause)
	if fs := s.receive("BIG", big[0]); len(fs) != 0 {
		t.Fatalf("a silenced cause was raised: %v", fs)
	}
}
