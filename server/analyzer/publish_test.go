package analyzer

import (
	"fmt"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
)

// announce proposes an ASN of the serials from..to-1 of gtin.
func announce(t *testing.T, m *sitetest.Member, id, gtin string, from, to int) {
	t.Helper()
	asn := master.ASN{ID: id, Client: "acme", Supplier: "sup"}
	for i := from; i < to; i++ {
		asn.Items = append(asn.Items, master.ASNItem{Key: event.SGTIN(gtin, fmt.Sprintf("%012d", 7_919_000_003*i%1_000_000_000_000)), Lot: "L1", Expiry: "301231"})
	}
	for _, c := range command.SplitASN(asn, "admin", hlc.New(time.Now().UnixMilli(), 0)) {
		propose(t, m, command.TypeASNChunk, c)
	}
}

// TestPublishSerialModels: the leader's analyzer publishes a product's
// serial model once it judges, again only when it has learned a tenth
// more, never for a product the site does not know, and another
// analyzer on the same log (a new leader) does not publish it again.
func TestPublishSerialModels(t *testing.T) {
	const unknown = "00300010123462"
	site := sitetest.Start(t, sitetest.Options{})
	m := site.WaitLeader(30 * time.Second)
	propose(t, m, command.TypeClient, master.Client{ID: "acme"})
	propose(t, m, command.TypeProduct, master.Product{GTIN: gtin, Client: "acme"})
	models := func() []master.SerialModel {
		var out []master.SerialModel
		if err := m.Node.State().View(func(r *state.Reader) (err error) { out, err = r.SerialModels(nil); return }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a := New(Config{Node: m.Node, Signals: signals.Config{MinSupport: 100}})
	steps := []struct {
		name    string
		asn     func()
		n       int64 // the serials of the published model (0: none)
		entries uint64
	}{
		{"below the support", func() { announce(t, m, "A1", gtin, 0, 99); announce(t, m, "A2", unknown, 0, 150) }, 0, 0},
		{"judges", func() { announce(t, m, "A3", gtin, 99, 100) }, 100, 1},
		{"a few more", func() { announce(t, m, "A4", gtin, 100, 109) }, 100, 1},
		{"a tenth more", func() { announce(t, m, "A5", gtin, 109, 110) }, 110, 2},
	}
	for _, s := range steps {
		s.asn()
		step(t, a)
		got := models()
		if s.n == 0 && len(got) != 0 || s.n != 0 && (len(got) != 1 || got[0].N != s.n || got[0].GTIN != gtin || got[0].Client != "acme") {
			t.Fatalf("%s: published %+v, want %d serials of %s", s.name, got, s.n, gtin)
		}
		if a.published[gtin] != s.n {
			t.Fatalf("%s: the analyzer counts %d serials published", s.name, a.published[gtin])
		}
	}
	// A new leader's analyzer reads the same log: nothing is due.
	b := New(Config{Node: m.Node, Signals: signals.Config{MinSupport: 100}})
	before := m.Node.Applied()
	step(t, b)
	if after := m.Node.Applied(); after != before {
		t.Fatalf("a second analyzer proposed %d entries", after-before)
	}
	// The published model judges as the analyzer's own does.
	got := models()[0]
	forged := event.SGTIN(gtin, "ab-c")
	if _, words, ok := signals.SuspectPublished(&got, forged); !ok {
		t.Fatal("the published model does not find a forged serial suspect")
	} else {
		t.Log(words)
	}
	if _, _, ok := signals.SuspectPublished(&got, event.SGTIN(gtin, fmt.Sprintf("%012d", 7_919_000_003*5000%1_000_000_000_000))); ok {
		t.Fatal("the published model finds a serial of the manufacturer's kind suspect")
	}
}
