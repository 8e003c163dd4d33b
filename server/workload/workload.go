// Package workload generates valid, reproducible streams of device
// events for tests, benchmarks and end-to-end runs: units received,
// moved, picked, packed, held, released and shipped by a fleet of
// devices, with contiguous sequence numbers per device.
package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/hlc"
)

// Gen is a deterministic event generator. Not safe for concurrent use.
type Gen struct {
	rnd     *rand.Rand
	ids     *rand.ChaCha8
	prefix  string
	client  string
	user    string
	site    string
	devices []string
	seqs    []uint64
	epoch   uint32
	clock   time.Time
	units   []event.Key
	lots    []string
	cases   int
}

// Options shape a generator.
type Options struct {
	Seed    uint64
	Devices int       // default 4
	Prefix  string    // device name prefix, default "dev"
	Client  string    // default "acme"
	User    string    // default "admin"
	Site    string    // default "site"
	Epoch   uint32    // default 1
	Start   time.Time // first event time, default 2026-01-01
	GTIN    string    // the unit GTIN-14, default 00300010123455
}

// New returns a generator.
func New(o Options) *Gen {
	if o.Devices <= 0 {
		o.Devices = 4
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Prefix, "dev")
	def(&o.Client, "acme")
	def(&o.User, "admin")
	def(&o.Site, "site")
	def(&o.GTIN, "00300010123455")
	if o.Epoch == 0 {
		o.Epoch = 1
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	}
	var seed [32]byte
	seed[0], seed[1] = byte(o.Seed), byte(o.Seed>>8)
	g := &Gen{rnd: rand.New(rand.NewPCG(o.Seed, 7)), ids: rand.NewChaCha8(seed), prefix: o.GTIN,
		client: o.Client, user: o.User, site: o.Site, epoch: o.Epoch, clock: o.Start}
	for i := range o.Devices {
		g.devices = append(g.devices, fmt.Sprintf("%s-%d", o.Prefix, i+1))
		g.seqs = append(g.seqs, 0)
	}
	g.lots = []string{"L1", "L2", "L3"}
	return g
}

// Units lists the units received so far.
func (g *Gen) Units() []event.Key { return g.units }

// Event returns one event of kind k on keys from one of the generator's
// devices, a millisecond after the last.
func (g *Gen) Event(k event.Kind, ctx event.Context, keys ...event.Key) event.Event {
	return g.event(k, ctx, keys...)
}

func (g *Gen) event(k event.Kind, ctx event.Context, keys ...event.Key) event.Event {
	d := g.rnd.IntN(len(g.devices))
	g.seqs[d]++
	g.clock = g.clock.Add(time.Millisecond)
	id, err := event.NewID(g.clock, g.ids)
	if err != nil {
		panic(err) // ChaCha8 never fails
	}
	ev := event.Event{ID: id, Device: g.devices[d], Epoch: g.epoch, Seq: g.seqs[d], HLC: hlc.FromTime(g.clock),
		User: g.user, Site: g.site, Client: g.client, Kind: k, Ctx: ctx}
	for _, key := range keys {
		ev.Subjects = append(ev.Subjects, event.Subject{Key: key})
	}
	return ev
}

// Receive returns n events, each receiving one new unit.
func (g *Gen) Receive(n int) []event.Event {
	out := make([]event.Event, 0, n)
	for range n {
		out = append(out, g.receive())
	}
	return out
}

// Know makes the next n units (as Receive numbers them) known without
// making an event for them: a generator over a state another generator
// built, whose devices' sequences still start at 1.
func (g *Gen) Know(n int) {
	for range n {
		g.units = append(g.units, g.unitKey())
	}
}

func (g *Gen) unitKey() event.Key {
	return event.SGTIN(g.prefix, fmt.Sprintf("S%09d", len(g.units)+1))
}

func (g *Gen) receive() event.Event {
	k := g.unitKey()
	g.units = append(g.units, k)
	lot := g.lots[g.rnd.IntN(len(g.lots))]
	return g.event(event.KindReceive, event.Context{To: "A-01", Lot: lot, Expiry: "301231"}, k)
}

// Mixed returns n events of mixed kinds over the units received so far
// (receiving new ones as needed): the conflicts, merges and refusals a
// busy floor produces.
func (g *Gen) Mixed(n int) []event.Event {
	out := make([]event.Event, 0, n)
	for range n {
		if len(g.units) < 8 || g.rnd.IntN(5) == 0 {
			out = append(out, g.receive())
			continue
		}
		u := g.units[g.rnd.IntN(len(g.units))]
		order := fmt.Sprintf("O%d", g.rnd.IntN(4))
		var ev event.Event
		switch g.rnd.IntN(10) {
		case 0:
			ev = g.event(event.KindMove, event.Context{To: fmt.Sprintf("B-%02d", g.rnd.IntN(5))}, u)
		case 1, 2:
			ev = g.event(event.KindPick, event.Context{Order: order, Line: "1"}, u)
		case 3:
			ev = g.event(event.KindUnpick, event.Context{Order: order}, u)
		case 4:
			g.cases++
			c := sscc(fmt.Sprintf("03000100%09d", g.rnd.IntN(20)))
			ev = g.event(event.KindPack, event.Context{Order: order, Parent: c}, u)
		case 5:
			ev = g.event(event.KindHold, event.Context{Hold: event.HoldDamaged}, u)
		case 6:
			ev = g.event(event.KindRelease, event.Context{Hold: event.HoldDamaged}, u)
		case 7:
			ev = g.event(event.KindShip, event.Context{Shipment: fmt.Sprintf("SH%d", g.rnd.IntN(3))}, u)
		case 8:
			ev = g.event(event.KindCount, event.Context{}, u)
		default:
			ev = g.event(event.KindDecommission, event.Context{}, u)
		}
		out = append(out, ev)
	}
	return out
}

// sscc is the SSCC key of the 17 digits body and their check digit.
func sscc(body string) event.Key {
	d, err := gs1.CheckDigit(body)
	if err != nil {
		panic("workload: SSCC body " + body + " is not digits") // bodies are formatted digits
	}
	return event.SSCC(body + string(d))
}

// GTIN is a GTIN-14 of its own for n (0 ≤ n < 100,000), with its check
// digit: writers that need distinct products take one each.
func GTIN(n int) string {
	body := fmt.Sprintf("00300%08d", 10000000+n)
	d, err := gs1.CheckDigit(body)
	if err != nil {
		panic("workload: GTIN body " + body + " is not digits") // formatted digits
	}
	return body + string(d)
}
