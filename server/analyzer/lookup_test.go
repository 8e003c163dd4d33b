package analyzer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/signals"
)

// TestAnalyzerLookupNoWork: look-ups committed through a site reach the
// analyzer, which learns the staff's share of left look-ups and raises
// LOOKUP_NO_WORK once for a user who looks units up and does not handle
// them, and for nobody else.
func TestAnalyzerLookupNoWork(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	m := site.WaitLeader(30 * time.Second)
	propose(t, m, command.TypeClient, master.Client{ID: "acme"})
	propose(t, m, command.TypeProduct, master.Product{GTIN: gtin, Client: "acme"})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	seq := map[string]uint64{}
	var n byte
	ev := func(user string, kind event.Kind, k event.Key) event.Event {
		dev := "hh-" + user
		seq[dev]++
		at = at.Add(5 * time.Second)
		n++
		return event.Event{ID: event.ID{0x61, byte(len(seq)), byte(seq[dev] >> 8), byte(seq[dev]), 0x70, n, 0, 0, 0x80}, Device: dev, Epoch: 1, Seq: seq[dev],
			HLC: hlc.New(at.UnixMilli(), 0), User: user, Site: "site", Client: "acme", Kind: kind, Subjects: []event.Subject{{Key: k}}, Ctx: event.Context{To: "A-01-01"}}
	}
	key := func(user string, i int) event.Key { return event.SGTIN(gtin, fmt.Sprintf("%s%04d", user, i)) }
	// The staff receive units, look some up and move all but one in ten.
	var batch []event.Event
	for i := range 70 {
		for _, u := range []string{"ana", "ben", "carla", "dev"} {
			k := key(u, i)
			batch = append(batch, ev(u, event.KindReceive, k), ev(u, event.KindLookup, k))
			if i%10 != 9 {
				batch = append(batch, ev(u, event.KindMove, k))
			}
		}
	}
	// A scout looks up 30 of the staff's units and handles none, then
	// receives units of their own.
	for i := range 30 {
		batch = append(batch, ev("scout", event.KindLookup, key("ana", i)))
	}
	for i := range 25 {
		batch = append(batch, ev("scout", event.KindReceive, key("scout", i)))
	}
	for len(batch) > 0 {
		c := min(len(batch), 200)
		submit(t, m, batch[:c]...)
		batch = batch[c:]
	}
	a := New(Config{Node: m.Node, Signals: signals.Config{RetrainEvery: 100}})
	step(t, a)
	xs := exceptions(t, m.Node.State(), signals.RuleLookupNoWork)
	if len(xs) != 1 || !strings.Contains(xs[0].Detail, "user scout looked up 16 units and did not handle 16") || len(xs[0].Events) < 16 {
		t.Fatalf("LOOKUP_NO_WORK exceptions %+v", xs)
	}
	// Another analyzer on the same log repeats nothing.
	b := New(Config{Node: m.Node, Signals: signals.Config{RetrainEvery: 100}})
	step(t, b)
	if s := b.Stats(); s.Proposed != 0 || len(exceptions(t, m.Node.State(), signals.RuleLookupNoWork)) != 1 {
		t.Fatalf("a second analyzer proposed again: %+v", s)
	}
}
