// Package supplychain generates labelled, reproducible supply-chain data
// for a site: clients, suppliers and products; ASNs; and the scans of a
// fleet of devices receiving, putting away, counting, picking, shipping
// and taking back returns over simulated days, with patterns of
// counterfeit and diversion injected at realistic rates and labelled, so
// the signals can be measured (precision, recall, false alarms).
//
// The same seed gives the same data. Nothing here reads a clock or does
// I/O.
package supplychain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// Pattern names an injected kind of trouble.
type Pattern string

// Patterns.
const (
	ClonedSerial     Pattern = "cloned_serial"
	NoSupplierData   Pattern = "no_supplier_data"
	SupplierMismatch Pattern = "supplier_mismatch" // lot or expiry on the pack unlike the ASN for that serial
	DivertedReturn   Pattern = "diverted_return"   // a return of a serial never shipped from here
	TwoPlaces        Pattern = "two_places"        // one unit scanned in two places at once
	ForgedSerial     Pattern = "forged_serial"     // a serial unlike the manufacturer's
	ForgedLot        Pattern = "forged_lot"        // a lot unlike the product's lots
	WrongExpiry      Pattern = "wrong_expiry"      // an expiry unlike every other sighting of the lot
	DiverterDevice   Pattern = "diverter_device"   // a device scanning like a diverter
	DiverterUser     Pattern = "diverter_user"     // a user scanning like a diverter, across the site's devices
	UnusualShipment  Pattern = "unusual_shipment"  // an ASN unlike what its supplier sends: a product it never sends, far more units, many lots
	LookupScout      Pattern = "lookup_scout"      // a user looking units up and not handling them: scouting stock
)

// rare reports whether p comes at DeviceRate, not Rate.
func (p Pattern) rare() bool { return p == DiverterDevice || p == DiverterUser || p == LookupScout }

// Patterns lists every pattern; Deterministic reports the certain ones.
func Patterns() []Pattern {
	return []Pattern{ClonedSerial, NoSupplierData, SupplierMismatch, DivertedReturn, TwoPlaces,
		ForgedSerial, ForgedLot, WrongExpiry, DiverterDevice, UnusualShipment, DiverterUser, LookupScout}
}

// Deterministic reports whether p is found by a deterministic signal.
func (p Pattern) Deterministic() bool {
	switch p {
	case ClonedSerial, NoSupplierData, SupplierMismatch, DivertedReturn, TwoPlaces:
		return true
	}
	return false
}

// Label marks one injected instance: a unit (or, for a device pattern,
// a device) and the event that carries it to the site.
type Label struct {
	Pattern Pattern   `json:"pattern"`
	Unit    event.Key `json:"unit,omitempty"`
	Device  string    `json:"device,omitempty"`
	User    string    `json:"user,omitempty"`
	Event   event.ID  `json:"event"`
}

// Step is one thing to send to the site, in order: master data, an ASN,
// or a batch of events.
type Step struct {
	Clients  []master.Client
	Partners []master.Partner
	Products []master.Product
	ASN      *master.ASN
	Events   []event.Event
}

// Options shape a data set.
type Options struct {
	Seed   uint64
	Events int // roughly how many device events (default 300,000)
	// Rate is how many events pass, on average, between two injections
	// of one pattern (default 10,000); DeviceRate for the diverter
	// device and the diverter user (default 50,000: rarer).
	Rate, DeviceRate int
	// Warmup is the share of events before the first injection, while
	// the site learns what normal looks like (default 0.15).
	Warmup float64
	Site   string // default "site"
	// User, when set, signs every event (no shifts, no temporary users,
	// no diverter user): for data sent through a site's API, which
	// binds each event to the user who sends it.
	User string
}

// Data is a generated data set.
type Data struct {
	Steps  []Step
	Labels []Label
	// Events counts the device events; Clean those that carry no label.
	Events, Clean int
}

// serial and lot styles of a manufacturer.
type style uint8

const (
	styleDigits12 style = iota // 12 random digits
	styleAlnum10               // 10 random capitals and digits
	styleSeq                   // S + 9 digits, sequential
	styleMixed16               // 16 random mixed-case letters and digits
	styleDigits13              // 13 random digits, one in ten 12 (two production lines)
	numStyles
)

type lotStyle uint8

const (
	lotA4   lotStyle = iota // A2401
	lotNum6                 // 240117
	lotDash                 // K24-017
	numLotStyles
)

type lot struct {
	name, expiry string
	units        int
}

type product struct {
	gtin      string
	client    string
	supplier  string
	style     style
	lstyle    lotStyle
	next      uint64 // next sequential serial
	lots      []lot  // current lot last
	lotSeq    int
	announced int // units ASNs announced
}

type unitState uint8

const (
	uExpected unitState = iota
	uInStock
	uPicked
	uShipped
	uReturned
	uGone
	uQuarantined // touched by an injection: normal flow leaves it alone
)

type unitRec struct {
	key    event.Key
	p      *product
	state  unitState
	bin    string
	asn    string
	lot    string
	expiry string
	at     time.Time // last scan
}

// gen is the generator's working state.
type gen struct {
	o   Options
	r   *rand.Rand
	ids *rand.ChaCha8
	// The staff's look-ups draw from streams of their own, so the rest
	// of the flow is drawn as it would be without them.
	lr       *rand.Rand
	lids     *rand.ChaCha8
	now      time.Time
	products []*product
	units    []*unitRec
	byKey    map[event.Key]*unitRec
	stock    []*unitRec // in stock, putaway done (candidates for picks, counts, clones)
	docked   []*unitRec // received, not yet put away
	shipped  []*unitRec
	pending  []pendingEv
	seq      map[string]uint64
	data     Data
	asnN     int
	orderN   int
	shipN    int
	serialN  map[string]bool
	injectAt map[Pattern]int // event count at which the next injection happens
	devN     int
	tempN    int               // temporary users (the diverters)
	crew     map[string]string // device → the user signed in on it this hour
	sent     map[string]int    // supplier → ASNs it sent
	lotsUsed map[string]bool   // lot names given out by unusual shipments
}

type pendingEv struct {
	at    time.Time
	ev    event.Event
	label *Label
}

var clients = []string{"acme", "globex", "initech"}
var suppliers = []string{"sup-north", "sup-south", "sup-east", "sup-west"}

// Generate builds a data set.
func Generate(o Options) *Data {
	if o.Events <= 0 {
		o.Events = 300000
	}
	if o.Rate <= 0 {
		o.Rate = 10000
	}
	if o.DeviceRate <= 0 {
		o.DeviceRate = 50000
	}
	if o.Warmup <= 0 {
		o.Warmup = 0.15
	}
	if o.Site == "" {
		o.Site = "site"
	}
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(o.Seed >> (8 * i))
	}
	seed[31] = 0x5c
	lseed := seed
	lseed[30] = 0x10
	g := &gen{o: o, r: rand.New(rand.NewPCG(o.Seed, 0x5ca1ab1e)), ids: rand.NewChaCha8(seed),
		lr: rand.New(rand.NewPCG(o.Seed, 0x100c0b)), lids: rand.NewChaCha8(lseed),
		now: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC), byKey: map[event.Key]*unitRec{},
		seq: map[string]uint64{}, serialN: map[string]bool{}, injectAt: map[Pattern]int{}, sent: map[string]int{}, lotsUsed: map[string]bool{},
		crew: map[string]string{}}
	g.master()
	warm := int(float64(o.Events) * o.Warmup)
	for _, p := range Patterns() {
		rate := o.Rate
		if p.rare() {
			rate = o.DeviceRate
		}
		g.injectAt[p] = warm + g.r.IntN(rate)
	}
	if o.User != "" {
		g.injectAt[DiverterUser] = math.MaxInt // one user: nobody to tell apart
		g.injectAt[LookupScout] = math.MaxInt
	}
	for g.data.Events < o.Events {
		g.hour()
	}
	return &g.data
}

func (g *gen) master() {
	var st Step
	for _, c := range clients {
		st.Clients = append(st.Clients, master.Client{ID: c, Name: c})
	}
	for _, s := range suppliers {
		st.Partners = append(st.Partners, master.Partner{ID: s, Name: s})
	}
	for i := range 12 {
		base := fmt.Sprintf("0030001%06d", 10000+i*37)
		c, _ := gs1.CheckDigit(base)
		p := &product{gtin: base + string(c), client: clients[i%len(clients)], supplier: suppliers[i%len(suppliers)],
			style: style(i % int(numStyles)), lstyle: lotStyle(i % int(numLotStyles)), next: uint64(100000000 + g.r.IntN(1000000))}
		g.newLot(p)
		g.products = append(g.products, p)
		st.Products = append(st.Products, master.Product{GTIN: p.gtin, Client: p.client, Name: fmt.Sprintf("Product %d", i+1), CompanyPrefixLen: 7})
	}
	g.data.Steps = append(g.data.Steps, st)
}

func (g *gen) newLot(p *product) {
	p.lotSeq++
	var name string
	switch p.lstyle {
	case lotA4:
		name = fmt.Sprintf("A%04d", 2400+p.lotSeq)
	case lotNum6:
		name = fmt.Sprintf("26%04d", 100+p.lotSeq*3)
	default:
		name = fmt.Sprintf("K26-%03d", p.lotSeq)
	}
	exp := g.now.AddDate(2, g.r.IntN(12), 0)
	p.lots = append(p.lots, lot{name: name, expiry: exp.Format("060102"), units: 0})
}

const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
const mixed = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"

func (g *gen) pick(s string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = s[g.r.IntN(len(s))]
	}
	return string(b)
}

// serial draws the manufacturer's next serial of p.
func (g *gen) serial(p *product) string {
	for {
		var s string
		switch p.style {
		case styleDigits12:
			s = g.pick("0123456789", 12)
		case styleAlnum10:
			s = g.pick(alnum, 10)
		case styleSeq:
			p.next++
			s = fmt.Sprintf("S%09d", p.next)
		case styleMixed16:
			s = g.pick(mixed, 16)
		default:
			n := 13
			if g.r.IntN(10) == 0 {
				n = 12
			}
			s = g.pick("0123456789", n)
		}
		if !g.serialN[p.gtin+s] {
			g.serialN[p.gtin+s] = true
			return s
		}
	}
}

// forgedSerial draws a serial unlike p's: another length, another class,
// or (for random serials) a guessable run.
func (g *gen) forgedSerial(p *product) string {
	for {
		var s string
		switch g.r.IntN(3) {
		case 0: // another length
			s = g.pick("0123456789ABCDEF", 6+g.r.IntN(3))
		case 1: // letters where digits are, or the reverse
			if p.style == styleAlnum10 || p.style == styleMixed16 {
				s = g.pick("0123456789", 9) + "-" + g.pick("0123456789", 2)
			} else {
				s = g.serial(p)
				b := []byte(s)
				for i := 1 + g.r.IntN(2); i < len(b); i += 3 {
					b[i] = byte('A' + g.r.IntN(26))
				}
				s = string(b)
			}
		default: // guessable: a counted run
			if p.style == styleSeq {
				s = fmt.Sprintf("S%07d", g.r.IntN(10000000))
				continue
			}
			n := len(g.serial(p))
			start := g.r.IntN(3)
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + (start+i)%10)
			}
			s = string(b)
		}
		if !g.serialN[p.gtin+s] {
			g.serialN[p.gtin+s] = true
			return s
		}
	}
}

func (g *gen) id() event.ID { return g.idFrom(g.ids) }

func (g *gen) idFrom(src *rand.ChaCha8) event.ID {
	var id event.ID
	var b [16]byte
	src.Read(b[:])
	copy(id[:], b[:])
	ms := uint64(g.now.UnixMilli())
	id[0], id[1], id[2], id[3], id[4], id[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	id[6] = id[6]&0x0f | 0x70
	id[8] = id[8]&0x3f | 0x80
	return id
}

// The site's devices and its two shifts' staff. At each shift's start
// the shift's users take the devices (five of them hold two); now and
// then two devices change hands within the shift.
var (
	devices = []string{"rcv-1", "rcv-2", "rcv-3", "mov-1", "mov-2", "cnt-1", "cnt-2", "cnt-3",
		"pck-1", "pck-2", "pck-3", "pck-4", "shp-1", "ret-1"}
	earlyShift = []string{"ana", "ben", "carla", "dev", "emil", "fatima", "goran", "hana"}  // 06:00–14:00
	lateShift  = []string{"ivan", "jana", "karl", "lena", "marco", "nina", "omar", "petra"} // 14:00–22:00
)

// staff assigns the devices to the users of the shift starting now, and
// within a shift moves users between devices.
func (g *gen) staff() {
	h := g.now.Hour()
	switch {
	case h == 6 || h == 14 || len(g.crew) == 0:
		shift := earlyShift
		if h >= 14 {
			shift = lateShift
		}
		perm := g.r.Perm(len(shift))
		for i, d := range devices {
			g.crew[d] = shift[perm[i%len(shift)]]
		}
	case g.r.IntN(4) == 0:
		a, b := devices[g.r.IntN(len(devices))], devices[g.r.IntN(len(devices))]
		g.crew[a], g.crew[b] = g.crew[b], g.crew[a]
	}
}

// scan queues an event at time at, by the user signed in on dev.
func (g *gen) scan(at time.Time, dev string, p *product, kind event.Kind, k event.Key, ctx event.Context, label *Label) {
	g.scanAs(g.crew[dev], at, dev, p, kind, k, ctx, label)
}

// scanAs queues an event at time at, by user on dev.
func (g *gen) scanAs(user string, at time.Time, dev string, p *product, kind event.Kind, k event.Key, ctx event.Context, label *Label) {
	if g.o.User != "" {
		user = g.o.User
	}
	ev := event.Event{ID: g.id(), Device: dev, Epoch: 1, User: user, Site: g.o.Site, Client: p.client,
		Kind: kind, Subjects: []event.Subject{{Key: k}}, Ctx: ctx, HLC: hlc.New(at.UnixMilli(), 0)}
	g.pending = append(g.pending, pendingEv{at: at, ev: ev, label: label})
}

// lookup queues a look-up of u at time at by the user signed in on dev,
// drawn from the look-ups' own streams.
func (g *gen) lookup(at time.Time, dev string, u *unitRec) {
	user := g.crew[dev]
	if g.o.User != "" {
		user = g.o.User
	}
	ev := event.Event{ID: g.idFrom(g.lids), Device: dev, Epoch: 1, User: user, Site: g.o.Site, Client: u.p.client,
		Kind: event.KindLookup, Subjects: []event.Subject{{Key: u.key}}, HLC: hlc.New(at.UnixMilli(), 0)}
	g.pending = append(g.pending, pendingEv{at: at, ev: ev})
}

// stockFor returns an in-stock unit drawn from the look-ups' stream (nil
// when none after a few tries), leaving the stock list as it is.
func (g *gen) stockFor() *unitRec {
	for range 5 {
		if len(g.stock) == 0 {
			return nil
		}
		if u := g.stock[g.lr.IntN(len(g.stock))]; u.state == uInStock {
			return u
		}
	}
	return nil
}

// flush emits the queued events in time order as one step per 500,
// numbering each device's events as it emits them.
func (g *gen) flush() {
	slices.SortStableFunc(g.pending, func(a, b pendingEv) int { return a.at.Compare(b.at) })
	var batch []event.Event
	for _, pe := range g.pending {
		ev := pe.ev
		g.seq[ev.Device]++
		ev.Seq = g.seq[ev.Device]
		batch = append(batch, ev)
		g.data.Events++
		if pe.label != nil {
			l := *pe.label
			l.Event = ev.ID
			g.data.Labels = append(g.data.Labels, l)
		} else {
			g.data.Clean++
		}
		if len(batch) == 500 {
			g.data.Steps = append(g.data.Steps, Step{Events: batch})
			batch = nil
		}
	}
	if len(batch) > 0 {
		g.data.Steps = append(g.data.Steps, Step{Events: batch})
	}
	g.pending = g.pending[:0]
}

func (g *gen) bin() string {
	return fmt.Sprintf("%c-%02d-%02d", 'A'+g.r.IntN(6), 1+g.r.IntN(30), 1+g.r.IntN(8))
}

// within returns a time inside the current hour, at least off after its
// start.
func (g *gen) within(off time.Duration) time.Time {
	return g.now.Add(off + time.Duration(g.r.Int64N(int64(time.Hour-off))))
}

// hour simulates one hour of the site.
func (g *gen) hour() {
	h := g.now.Hour()
	if h >= 6 && h < 22 {
		g.staff()
		g.inbound()
		g.putaway()
		g.count()
		g.outbound()
		g.returns()
	}
	g.inject()
	g.flush()
	g.now = g.now.Add(time.Hour)
}

// inbound: an ASN or two per hour, received unit by unit at a dock.
func (g *gen) inbound() {
	for range 1 + g.r.IntN(2) {
		p := g.products[g.r.IntN(len(g.products))]
		g.asnN++
		a := &master.ASN{ID: fmt.Sprintf("ASN-%06d", g.asnN), Client: p.client, Supplier: p.supplier}
		g.sent[p.supplier]++
		n := 60 + g.r.IntN(200)
		p.announced += n
		l := &p.lots[len(p.lots)-1]
		if l.units > 1500 {
			g.newLot(p)
			l = &p.lots[len(p.lots)-1]
		}
		var recs []*unitRec
		for range n {
			k := event.SGTIN(p.gtin, g.serial(p))
			u := &unitRec{key: k, p: p, asn: a.ID, lot: l.name, expiry: l.expiry}
			a.Items = append(a.Items, master.ASNItem{Key: k, Lot: l.name, Expiry: l.expiry})
			recs = append(recs, u)
			g.units = append(g.units, u)
			g.byKey[k] = u
			l.units++
		}
		g.data.Steps = append(g.data.Steps, Step{ASN: a})
		dev := fmt.Sprintf("rcv-%d", 1+g.r.IntN(3))
		dock := fmt.Sprintf("DOCK-%d", 1+g.r.IntN(4))
		at := g.within(0)
		for _, u := range recs {
			at = at.Add(time.Duration(2000+g.r.IntN(4000)) * time.Millisecond)
			g.scan(at, dev, p, event.KindReceive, u.key, event.Context{ASN: a.ID, To: dock, Lot: u.lot, Expiry: u.expiry}, nil)
			if g.r.IntN(200) == 0 { // a benign second scan of the same pack
				at = at.Add(time.Second)
				g.scan(at, dev, p, event.KindReceive, u.key, event.Context{ASN: a.ID, To: dock, Lot: u.lot, Expiry: u.expiry}, nil)
			}
			u.state, u.bin, u.at = uInStock, dock, at
			g.docked = append(g.docked, u)
		}
	}
}

// putaway: movers take docked units to bins.
func (g *gen) putaway() {
	n := len(g.docked)
	for _, u := range g.docked[:n] {
		if u.state != uInStock {
			continue
		}
		dev := fmt.Sprintf("mov-%d", 1+g.r.IntN(2))
		at := maxTime(g.within(0), u.at.Add(10*time.Minute))
		to := g.bin()
		g.scan(at, dev, u.p, event.KindMove, u.key, event.Context{From: u.bin, To: to}, nil)
		u.bin, u.at = to, at
		g.stock = append(g.stock, u)
	}
	g.docked = g.docked[:0]
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// randomStock returns an in-stock, put-away unit (nil when none after a
// few tries), pruning units that left stock.
func (g *gen) randomStock() *unitRec {
	for range 20 {
		if len(g.stock) == 0 {
			return nil
		}
		i := g.r.IntN(len(g.stock))
		u := g.stock[i]
		if u.state == uInStock {
			return u
		}
		g.stock[i] = g.stock[len(g.stock)-1]
		g.stock = g.stock[:len(g.stock)-1]
	}
	return nil
}

// count: a counter scans a bin's units.
func (g *gen) count() {
	for range 20 + g.r.IntN(40) {
		u := g.randomStock()
		if u == nil {
			return
		}
		at := maxTime(g.within(0), u.at.Add(5*time.Minute))
		g.scan(at, "cnt-1", u.p, event.KindCount, u.key, event.Context{To: u.bin}, nil)
		u.at = at
		switch g.r.IntN(40) {
		case 0: // a second counter checks the same bin at once: one place
			u.at = at.Add(time.Duration(10+g.r.IntN(40)) * time.Second)
			g.scan(u.at, "cnt-3", u.p, event.KindCount, u.key, event.Context{To: u.bin}, nil)
		case 1: // a mover takes it to another bin straight after
			to := g.bin()
			u.at = at.Add(time.Duration(15+g.r.IntN(30)) * time.Second)
			g.scan(u.at, "mov-1", u.p, event.KindMove, u.key, event.Context{From: u.bin, To: to}, nil)
			u.bin = to
		}
	}
}

// outbound: pickers pick units for orders, shippers ship them.
func (g *gen) outbound() {
	for range 2 + g.r.IntN(3) {
		g.orderN++
		order := fmt.Sprintf("O-%06d", g.orderN)
		dev := fmt.Sprintf("pck-%d", 1+g.r.IntN(4))
		at := g.within(0)
		var picked []*unitRec
		for range 20 + g.r.IntN(60) {
			u := g.randomStock()
			if u == nil || u.at.After(at) {
				continue
			}
			at = at.Add(time.Duration(5+g.r.IntN(20)) * time.Second)
			// Now and then the picker looks the unit up first; now and
			// then another unit, which they leave where it is.
			if g.lr.IntN(8) == 0 {
				g.lookup(at.Add(-time.Duration(1+g.lr.IntN(3))*time.Second), dev, u)
			}
			if g.lr.IntN(50) == 0 {
				if o := g.stockFor(); o != nil && o != u {
					g.lookup(at.Add(-time.Duration(1+g.lr.IntN(3))*time.Second), dev, o)
				}
			}
			g.scan(at, dev, u.p, event.KindPick, u.key, event.Context{Order: order, Line: "1"}, nil)
			u.state, u.at = uPicked, at
			picked = append(picked, u)
		}
		g.shipN++
		shipment := fmt.Sprintf("SH-%06d", g.shipN)
		at = at.Add(20 * time.Minute)
		for _, u := range picked {
			at = at.Add(time.Duration(1+g.r.IntN(3)) * time.Second)
			g.scan(at, "shp-1", u.p, event.KindShip, u.key, event.Context{Shipment: shipment, Destination: "pharmacy"}, nil)
			u.state, u.at, u.bin = uShipped, at, ""
			g.shipped = append(g.shipped, u)
		}
	}
}

// returns: now and then a shipped unit comes back.
func (g *gen) returns() {
	for range g.r.IntN(3) {
		if len(g.shipped) == 0 {
			return
		}
		i := g.r.IntN(len(g.shipped))
		u := g.shipped[i]
		g.shipped[i] = g.shipped[len(g.shipped)-1]
		g.shipped = g.shipped[:len(g.shipped)-1]
		if u.state != uShipped {
			continue
		}
		at := maxTime(g.within(0), u.at.Add(24*time.Hour))
		if at.Sub(g.now) >= time.Hour {
			continue
		}
		g.scan(at, "ret-1", u.p, event.KindReturn, u.key, event.Context{To: "RET"}, nil)
		u.state, u.bin, u.at = uReturned, "RET", at
	}
}

// inject adds the patterns whose turn has come. Device patterns happen
// in the small hours, the others during the day.
func (g *gen) inject() {
	h := g.now.Hour()
	day, small := h >= 6 && h < 22, h >= 0 && h < 4
	for _, p := range Patterns() {
		if g.data.Events+len(g.pending) < g.injectAt[p] || p != DiverterDevice && !day || p == DiverterDevice && !small {
			continue
		}
		if !g.injectOne(p) {
			continue
		}
		rate := g.o.Rate
		if p.rare() {
			rate = g.o.DeviceRate
		}
		g.injectAt[p] += rate/2 + g.r.IntN(rate)
	}
}

func (g *gen) randomProduct() *product { return g.products[g.r.IntN(len(g.products))] }

func (g *gen) randomShipped() *unitRec {
	for range 20 {
		if len(g.shipped) == 0 {
			return nil
		}
		u := g.shipped[g.r.IntN(len(g.shipped))]
		if u.state == uShipped {
			return u
		}
	}
	return nil
}

// smallASN announces n new units of p's current lot (lot and expiry may
// be overridden per item by fn) and receives them at a dock.
func (g *gen) smallASN(p *product, n int, at time.Time, fn func(i int, it *master.ASNItem, ctx *event.Context) *Label) {
	g.shipFrom(p, p.supplier, n, at, fn)
}

// shipFrom is smallASN with the supplier named.
func (g *gen) shipFrom(p *product, supplier string, n int, at time.Time, fn func(i int, it *master.ASNItem, ctx *event.Context) *Label) {
	g.asnN++
	g.sent[supplier]++
	p.announced += n
	a := &master.ASN{ID: fmt.Sprintf("ASN-%06d", g.asnN), Client: p.client, Supplier: supplier}
	l := p.lots[len(p.lots)-1]
	dev := fmt.Sprintf("rcv-%d", 1+g.r.IntN(3))
	dock := fmt.Sprintf("DOCK-%d", 1+g.r.IntN(4))
	type rec struct {
		k     event.Key
		ctx   event.Context
		label *Label
	}
	var recs []rec
	for i := range n {
		it := master.ASNItem{Key: event.SGTIN(p.gtin, g.serial(p)), Lot: l.name, Expiry: l.expiry}
		ctx := event.Context{ASN: a.ID, To: dock}
		lab := fn(i, &it, &ctx)
		if ctx.Lot == "" {
			ctx.Lot = it.Lot
		}
		if ctx.Expiry == "" {
			ctx.Expiry = it.Expiry
		}
		a.Items = append(a.Items, it)
		recs = append(recs, rec{it.Key, ctx, lab})
	}
	g.data.Steps = append(g.data.Steps, Step{ASN: a})
	for _, r := range recs {
		at = at.Add(time.Duration(2000+g.r.IntN(3000)) * time.Millisecond)
		if r.label != nil {
			r.label.Unit = r.k
		}
		g.scan(at, dev, p, event.KindReceive, r.k, r.ctx, r.label)
		u := &unitRec{key: r.k, p: p, asn: a.ID, state: uInStock, bin: dock, at: at}
		if r.label != nil {
			u.state = uQuarantined
		}
		g.units = append(g.units, u)
		g.byKey[r.k] = u
		if u.state == uInStock {
			g.docked = append(g.docked, u)
		}
	}
}

// freshLot is a lot name in p's shape that p's own lots never reach,
// expiring in two years or so.
func (g *gen) freshLot(p *product) lot {
	for {
		seq := 300 + g.r.IntN(600)
		var name string
		switch p.lstyle {
		case lotA4:
			name = fmt.Sprintf("A%04d", 2400+seq)
		case lotNum6:
			name = fmt.Sprintf("26%04d", 100+seq*3)
		default:
			name = fmt.Sprintf("K26-%03d", seq)
		}
		if !g.lotsUsed[p.gtin+name] {
			g.lotsUsed[p.gtin+name] = true
			return lot{name: name, expiry: g.now.AddDate(2, g.r.IntN(12), 0).Format("060102")}
		}
	}
}

// otherLot is a lot name in another shape than p's.
func (g *gen) otherLot(p *product) string {
	switch p.lstyle {
	case lotA4:
		return fmt.Sprintf("%06d", 100000+g.r.IntN(900000))
	case lotNum6:
		return fmt.Sprintf("X-%02d", g.r.IntN(100))
	}
	return fmt.Sprintf("LT%d", g.r.IntN(1000))
}

// injectOne adds one instance of p; false when the site has nothing to
// build it from yet.
func (g *gen) injectOne(p Pattern) bool {
	at := g.within(0)
	lab := func() *Label { return &Label{Pattern: p} }
	switch p {
	case ClonedSerial:
		var u *unitRec
		variant := g.r.IntN(4)
		if variant == 0 || variant == 3 {
			u = g.randomShipped()
		} else {
			u = g.randomStock()
		}
		if u == nil {
			return false
		}
		at = maxTime(at, u.at.Add(2*time.Hour))
		l := lab()
		l.Unit = u.key
		dock := fmt.Sprintf("DOCK-%d", 1+g.r.IntN(4))
		switch variant {
		case 0, 1:
			g.scan(at, fmt.Sprintf("rcv-%d", 1+g.r.IntN(3)), u.p, event.KindReceive, u.key, event.Context{To: dock, Lot: u.lot, Expiry: u.expiry}, l)
		case 2:
			g.scan(at, "ret-1", u.p, event.KindReturn, u.key, event.Context{To: "RET"}, l)
		default:
			g.scan(at, "cnt-1", u.p, event.KindCount, u.key, event.Context{To: g.bin()}, l)
		}
		u.state = uQuarantined
	case NoSupplierData:
		pr := g.randomProduct()
		k := event.SGTIN(pr.gtin, g.serial(pr))
		l := lab()
		l.Unit = k
		cur := pr.lots[len(pr.lots)-1]
		g.scan(at, fmt.Sprintf("rcv-%d", 1+g.r.IntN(3)), pr, event.KindReceive, k,
			event.Context{To: fmt.Sprintf("DOCK-%d", 1+g.r.IntN(4)), Lot: cur.name, Expiry: cur.expiry}, l)
	case DivertedReturn:
		pr := g.randomProduct()
		k := event.SGTIN(pr.gtin, g.serial(pr))
		l := lab()
		l.Unit = k
		g.scan(at, "ret-1", pr, event.KindReturn, k, event.Context{To: "RET"}, l)
	case SupplierMismatch:
		pr := g.randomProduct()
		g.smallASN(pr, 20+g.r.IntN(20), at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
			if i != 7 {
				return nil
			}
			if g.r.IntN(2) == 0 {
				ctx.Lot = it.Lot + "1" // the pack's lot is not the ASN's
			} else {
				exp, _ := time.Parse("060102", it.Expiry)
				ctx.Expiry = exp.AddDate(0, -1-g.r.IntN(6), 0).Format("060102")
			}
			return lab()
		})
	case TwoPlaces:
		u := g.randomStock()
		if u == nil {
			return false
		}
		at = maxTime(at, u.at.Add(5*time.Minute))
		g.scan(at, "cnt-1", u.p, event.KindCount, u.key, event.Context{To: u.bin}, nil)
		other := g.bin()
		for other == u.bin {
			other = g.bin()
		}
		l := lab()
		l.Unit = u.key
		at2 := at.Add(time.Duration(5+g.r.IntN(35)) * time.Second)
		g.scan(at2, "cnt-2", u.p, event.KindCount, u.key, event.Context{To: other}, l)
		u.state = uQuarantined
	case ForgedSerial:
		// Only a product of 300 serials or more: the site's serial model
		// judges from 200.
		pr := g.randomProduct()
		if pr.announced < 300 {
			return false
		}
		forged := 1 + g.r.IntN(2)
		g.smallASN(pr, 30+g.r.IntN(30), at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
			if i < 10 || i >= 10+forged {
				return nil
			}
			it.Key = event.SGTIN(pr.gtin, g.forgedSerial(pr))
			return lab()
		})
	case ForgedLot:
		// Only a product of 300 units or more, as for a forged serial:
		// the site's lot model judges from 200.
		pr := g.randomProduct()
		if pr.announced < 300 {
			return false
		}
		name := g.otherLot(pr)
		n := 2 + g.r.IntN(4)
		g.smallASN(pr, n, at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
			it.Lot = name
			return lab()
		})
	case WrongExpiry:
		pr := g.randomProduct()
		var est *lot
		for i := range pr.lots {
			if pr.lots[i].units >= 100 {
				est = &pr.lots[i]
			}
		}
		if est == nil {
			return false
		}
		exp, _ := time.Parse("060102", est.expiry)
		wrong := exp.AddDate(0, 1+g.r.IntN(11), 0).Format("060102")
		n := 1 + g.r.IntN(3)
		g.smallASN(pr, n, at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
			it.Lot, it.Expiry = est.name, wrong
			return lab()
		})
	case UnusualShipment:
		// Its first unit received carries the label: the site judges an
		// ASN once, at its first receipt. Only a supplier with a history
		// (35 ASNs: the site judges from 30, and ASNs of this hour may be
		// received after this one) has a profile to be unlike.
		pr := g.randomProduct()
		first := func(i int, it *master.ASNItem, ctx *event.Context) *Label {
			if i == 0 {
				return lab()
			}
			return nil
		}
		switch g.r.IntN(3) {
		case 0: // a product the supplier never sends, from a lot of its own
			sup := pr.supplier
			for sup == pr.supplier {
				sup = suppliers[g.r.IntN(len(suppliers))]
			}
			if g.sent[sup] < 35 {
				return false
			}
			l := g.freshLot(pr)
			g.shipFrom(pr, sup, 60+g.r.IntN(200), at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
				it.Lot, it.Expiry = l.name, l.expiry
				return first(i, it, ctx)
			})
		case 1: // three to five times the units of any of its ASNs
			if g.sent[pr.supplier] < 35 {
				return false
			}
			g.smallASN(pr, 800+g.r.IntN(500), at, first)
		default: // four to six lots in one ASN
			if g.sent[pr.supplier] < 35 {
				return false
			}
			lots := make([]lot, 4+g.r.IntN(3))
			for i := range lots {
				lots[i] = g.freshLot(pr)
			}
			g.smallASN(pr, 60+g.r.IntN(100), at, func(i int, it *master.ASNItem, ctx *event.Context) *Label {
				l := lots[i%len(lots)]
				it.Lot, it.Expiry = l.name, l.expiry
				return first(i, it, ctx)
			})
		}
	case DiverterDevice:
		g.devN++
		dev := fmt.Sprintf("hh-%02d", g.devN)
		g.tempN++
		user := fmt.Sprintf("temp-%02d", g.tempN)
		at = g.now.Add(time.Duration(g.r.IntN(30)) * time.Minute)
		n := 60 + g.r.IntN(40)
		if len(g.stock) < 200 {
			return false
		}
		for range n {
			u := g.randomStock()
			if u == nil {
				continue
			}
			at = at.Add(time.Duration(3+g.r.IntN(10)) * time.Second)
			l := &Label{Pattern: p, Device: dev, User: user}
			if g.r.IntN(10) < 7 {
				// Counting stock across the bins, at night.
				g.scanAs(user, at, dev, u.p, event.KindCount, u.key, event.Context{To: u.bin}, l)
			} else {
				// Trying codes the site does not know: refused.
				k := event.SGTIN(u.p.gtin, g.serial(u.p))
				g.scanAs(user, at, dev, u.p, event.KindPick, k, event.Context{Order: "O-X", Line: "1"}, l)
			}
		}
	case DiverterUser:
		return g.diverterUser()
	case LookupScout:
		return g.scout()
	}
	return true
}

// scout: one of the shift's pickers, in the day, looks up thirty to
// forty-five units across the bins, a few seconds apart, and handles
// none of them; then goes back to work.
func (g *gen) scout() bool {
	if len(g.stock) < 200 {
		return false
	}
	dev := fmt.Sprintf("pck-%d", 1+g.r.IntN(4))
	user := g.crew[dev]
	if user == "" {
		return false
	}
	at := g.now.Add(time.Duration(g.r.IntN(20)) * time.Minute)
	for range 30 + g.r.IntN(16) {
		at = at.Add(time.Duration(4+g.r.IntN(12)) * time.Second)
		u := g.randomStock()
		if u == nil {
			continue
		}
		g.scanAs(user, at, dev, u.p, event.KindLookup, u.key, event.Context{}, &Label{Pattern: LookupScout, User: user, Unit: u.key})
	}
	return true
}

// diverterUser: a temporary user, in the day, takes four or five of the
// site's devices in turn and on each counts stock across the bins and,
// as often, tries codes the site does not know (refused), a dozen scans
// a device:
// no one device's work is odd for long, the user's is.
func (g *gen) diverterUser() bool {
	if len(g.stock) < 200 {
		return false
	}
	g.tempN++
	user := fmt.Sprintf("temp-%02d", g.tempN)
	busy := []string{"rcv-1", "rcv-2", "rcv-3", "mov-1", "mov-2", "cnt-1", "pck-1", "pck-2", "pck-3", "pck-4"}
	perm := g.r.Perm(len(busy))
	at := g.now.Add(time.Duration(g.r.IntN(20)) * time.Minute)
	for _, i := range perm[:4+g.r.IntN(2)] {
		dev := busy[i]
		for range 12 + g.r.IntN(4) {
			at = at.Add(time.Duration(4+g.r.IntN(12)) * time.Second)
			u := g.randomStock()
			if u == nil || !u.at.Before(g.now) {
				continue // touched this hour: leave it to the normal flow
			}
			l := &Label{Pattern: DiverterUser, User: user}
			if g.r.IntN(2) == 0 {
				l.Unit = u.key
				g.scanAs(user, at, dev, u.p, event.KindCount, u.key, event.Context{To: u.bin}, l)
				u.at = at
			} else {
				k := event.SGTIN(u.p.gtin, g.serial(u.p))
				l.Unit = k
				g.scanAs(user, at, dev, u.p, event.KindPick, k, event.Context{Order: "O-X", Line: "1"}, l)
			}
		}
		at = at.Add(time.Duration(2+g.r.IntN(4)) * time.Minute)
	}
	return true
}
