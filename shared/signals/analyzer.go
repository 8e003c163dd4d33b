package signals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Config sets the analyzer's thresholds. The zero value takes the
// defaults.
type Config struct {
	// MinSupport is how many strings a format model must have learned
	// (and how many units a lot must have) before it judges.
	MinSupport int64
	// Thresholds: a learned score at or above its threshold is a finding.
	FormatThreshold float64 // serial format
	LotThreshold    float64 // lot format or supplier
	ExpiryThreshold float64 // lot expiry
	WorkThreshold   float64 // device (and user) work shape
	// SupplierThreshold is the supplier profile's threshold, and
	// MinShipments how many ASNs of a supplier its profile needs before
	// it judges.
	SupplierThreshold float64
	MinShipments      int64
	// MinTransit is the least time a unit needs to be scanned by another
	// device in another place; less is TWO_PLACES.
	MinTransit time.Duration
	// WorkWindow is how many of a device's (or user's) scans one
	// work-shape window holds; windows are judged every WorkWindow/2 scans.
	WorkWindow int
	// MinWindows is how many windows a work model needs.
	MinWindows int
	// RetrainEvery is how many events pass between refits of the work
	// model and of the staff's share of left look-ups (the format and
	// lot models learn as data arrives).
	RetrainEvery int
	// Look-ups: a look-up is handled when the user's next LookupWindow
	// events name the unit; a user's last LookupRing resolved look-ups
	// are judged against the staff's share, learned from at least
	// MinLookups look-ups, and a score at or above LookupThreshold is a
	// finding.
	LookupWindow    int
	LookupRing      int
	MinLookups      int64
	LookupThreshold float64
}

func (c *Config) defaults() {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.MinSupport == 0 {
		c.MinSupport = 200
	}
	def(&c.FormatThreshold, 0.75)
	def(&c.LotThreshold, 0.75)
	def(&c.ExpiryThreshold, 0.9)
	def(&c.WorkThreshold, 0.9)
	def(&c.SupplierThreshold, 0.9)
	if c.MinShipments == 0 {
		c.MinShipments = 30
	}
	if c.MinTransit == 0 {
		c.MinTransit = time.Minute
	}
	if c.WorkWindow == 0 {
		c.WorkWindow = 40
	}
	if c.MinWindows == 0 {
		c.MinWindows = 50
	}
	if c.RetrainEvery == 0 {
		c.RetrainEvery = 5000
	}
	if c.LookupWindow == 0 {
		c.LookupWindow = 20
	}
	if c.LookupRing == 0 {
		c.LookupRing = 16
	}
	if c.MinLookups == 0 {
		c.MinLookups = 200
	}
	def(&c.LookupThreshold, 0.999999)
}

// unitInfo is what the analyzer remembers of one unit.
type unitInfo struct {
	status    unit.Status
	announced bool
	lot       string // supplier data
	expiry    string
	supplier  string
	asn       string
	shipment  string
	place     string // last place a scan put it
	device    string // device of that scan
	at        hlc.Timestamp
	last      event.ID // that scan
	raised    uint16   // rules already raised for this unit (bit per Rules() index)
	// What the models learned of the unit's supplier data: an item the
	// models already found odd is not learned, so forged data does not
	// teach the models that it is normal.
	learnedSerial bool
}

// workTrack follows the work of every device, or of every user: each
// one's recent scans, the windows they gave, and the model fitted to
// those windows. Devices and users are tracked by the same code.
type workTrack struct {
	of      WorkOf
	each    map[string]*workInfo
	windows []Window // windows of all of them, newest last, bounded
	model   *WorkModel
}

func newWorkTrack(of WorkOf) *workTrack {
	return &workTrack{of: of, each: map[string]*workInfo{}, model: &WorkModel{}}
}

// workInfo is one device's (or user's) recent scans.
type workInfo struct {
	ring    []scan
	next    int
	n       int // scans seen
	flagged bool
}

type scan struct {
	at      hlc.Timestamp
	kind    event.Kind
	refused bool
	place   string
}

// Analyzer keeps the derived state the signals need, fed the committed
// log in order: supplier data (ObserveASN) and events with what the
// rules decided (ObserveEvent). It is deterministic: the same log gives
// the same findings. Not safe for concurrent use.
type Analyzer struct {
	cfg      Config
	units    map[event.Key]*unitInfo
	serials  map[string]*FormatModel // gtin → serial format
	lots     *LotModel
	supply   *SupplierModel
	asns     map[string]*asnInfo // ASN id → what it carries, until its first receipt judges it
	work     [2]*workTrack       // by WorkOf: devices, users
	look     *lookupTrack        // users' look-ups
	suppress map[string]bool
	events   int
	hours    Hours    // the site's scans by hour of the day
	quiet    [24]bool // quiet hours, as of the last retrain
	first    hlc.Timestamp
	last     hlc.Timestamp
}

// maxWindows bounds the windows a work track keeps for training.
const maxWindows = 8192

// NewAnalyzer returns an analyzer with no history.
func NewAnalyzer(cfg Config) *Analyzer {
	cfg.defaults()
	return &Analyzer{cfg: cfg, units: map[event.Key]*unitInfo{}, serials: map[string]*FormatModel{},
		lots: NewLotModel(), supply: NewSupplierModel(), asns: map[string]*asnInfo{},
		work: [2]*workTrack{newWorkTrack(WorkDevice), newWorkTrack(WorkUser)}, look: newLookupTrack(), suppress: map[string]bool{}}
}

// Suppress silences a cause: a person judged a finding with it a false
// alarm.
func (a *Analyzer) Suppress(cause string) { a.suppress[cause] = true }

// SerialModel is the serial format model of a product (nil when none).
func (a *Analyzer) SerialModel(gtin string) *FormatModel { return a.serials[gtin] }

// SerialModels lists the products with a serial model, in order.
func (a *Analyzer) SerialModels() []string {
	out := make([]string, 0, len(a.serials))
	for g := range a.serials {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

func (a *Analyzer) unit(k event.Key) *unitInfo {
	u := a.units[k]
	if u == nil {
		u = &unitInfo{}
		a.units[k] = u
	}
	return u
}

// learn is an ASN item being learned: whether its serial and its lot
// may teach the product's models.
type learn struct {
	it            *master.ASNItem
	u             *unitInfo
	serial, lotOK bool
}

// ObserveASN learns an ASN's supplier data: each item is announced, and
// its serial, lot and expiry teach the product's models, unless the
// models already find them odd (judged before any item of the ASN is
// learned, so a batch of forged items does not vouch for itself).
func (a *Analyzer) ObserveASN(asn *master.ASN) {
	var todo []learn
	for i := range asn.Items {
		it := &asn.Items[i]
		u := a.unit(it.Key)
		if u.announced && u.asn == asn.ID {
			continue // a retried import
		}
		u.announced, u.asn, u.supplier = true, asn.ID, asn.Supplier
		u.lot, u.expiry = it.Lot, it.Expiry
		if u.status == unit.StatusNone {
			u.status = unit.StatusExpected
		}
		g := it.Key.GTIN()
		if g == "" {
			continue
		}
		l := learn{it: it, u: u, serial: true, lotOK: true}
		if m := a.serials[g]; m != nil && m.Score(it.Key.Serial(), a.cfg.MinSupport).Score >= a.cfg.FormatThreshold {
			l.serial = false
		}
		if it.Lot != "" && (a.lots.JudgeLot(g, it.Lot, asn.Supplier, a.cfg.MinSupport).Score >= a.cfg.LotThreshold ||
			a.lots.JudgeExpiry(g, it.Lot, it.Expiry, a.cfg.MinSupport/4).Score >= a.cfg.ExpiryThreshold) {
			l.lotOK = false
		}
		todo = append(todo, l)
	}
	a.carries(asn, todo)
	for _, l := range todo {
		g := l.it.Key.GTIN()
		if l.serial {
			m := a.serials[g]
			if m == nil {
				m = &FormatModel{}
				a.serials[g] = m
			}
			m.Learn(l.it.Key.Serial())
			l.u.learnedSerial = true
		}
		if l.lotOK {
			a.lots.Learn(g, l.it.Lot, l.it.Expiry, asn.Supplier)
		}
	}
}

// Retrain refits the work models from the windows seen so far.
func (a *Analyzer) Retrain() {
	// Quiet hours need a whole day of the site's work to tell.
	if a.last.Ahead(a.first) >= 24*time.Hour {
		a.quiet = a.hours.Quiet(int64(a.cfg.RetrainEvery))
	}
	for _, t := range a.work {
		t.model = FitWork(t.windows, a.cfg.MinWindows)
	}
	a.look.retrain()
}

// ObserveEvent takes one committed event and what the rules decided
// (res is nil for an event the site rejected) and returns the findings
// it raises, in a fixed order.
func (a *Analyzer) ObserveEvent(ev *event.Event, res *unit.Result) []Finding {
	if ev.Kind == event.KindExpect {
		return nil
	}
	if ev.Kind == event.KindLookup {
		// A look-up is not work on a unit: it feeds the look-up signal
		// only, not the unit signals, the work shapes or the schedule.
		if res == nil {
			return nil // rejected: no look-up to follow
		}
		return a.lookups(nil, ev)
	}
	a.events++
	if a.events%a.cfg.RetrainEvery == 0 {
		a.Retrain()
	}
	out := a.lookups(nil, ev)
	refused := res == nil || res.Verdict == unit.VerdictRefused || res.Verdict == unit.VerdictConflict
	if res != nil {
		for i := range res.Subjects {
			out = a.subject(out, ev, &res.Subjects[i])
		}
	}
	var first event.Key
	if len(ev.Subjects) > 0 {
		first = ev.Subjects[0].Key
	}
	if first == "" {
		return out
	}
	a.hours[ev.HLC.Time().Hour()]++
	if a.first.IsZero() || ev.HLC < a.first {
		a.first = ev.HLC
	}
	a.last = max(a.last, ev.HLC)
	for _, t := range a.work {
		out = a.workShape(out, t, ev, first, refused)
	}
	return out
}

func (a *Analyzer) raise(out []Finding, u *unitInfo, f Finding) []Finding {
	bit := uint16(1) << ruleIndex(f.Rule)
	if u.raised&bit != 0 || a.suppress[f.Cause] {
		return out
	}
	u.raised |= bit
	return append(out, f)
}

func ruleIndex(r unit.Rule) int {
	for i, x := range Rules() {
		if x == r {
			return i
		}
	}
	return 15
}

func (a *Analyzer) finding(r unit.Rule, k event.Key, ev *event.Event, score float64, cause, detail string) Finding {
	return Finding{Rule: r, Unit: k, Event: ev.ID, Client: ev.Client, Site: ev.Site, Device: ev.Device,
		At: ev.HLC, Score: score, Cause: cause, Detail: detail}
}

// subject runs the unit signals for one subject the event reached.
func (a *Analyzer) subject(out []Finding, ev *event.Event, sr *unit.SubjectResult) []Finding {
	k := sr.Key
	u := a.unit(k)
	pre := u.status
	place := ev.Ctx.To
	direct := sr.Via == ""
	cloned := false
	// Cloned serial: the same identity where the site knows it cannot be.
	if why := a.cloneReason(ev, u, place); why != "" {
		f := a.finding(RuleClonedSerial, k, ev, 1, cause(RuleClonedSerial, string(k)),
			fmt.Sprintf("%s %s: two packs carry this identity; quarantine both and call the supplier", k, why))
		f.Certain = true
		if !u.last.IsZero() {
			f.Events = []event.ID{u.last}
		}
		out = a.raise(out, u, f)
		cloned = true
	}
	switch ev.Kind {
	case event.KindReceive:
		if pre == unit.StatusNone {
			out = a.raise(out, u, a.finding(RuleNoSupplierData, k, ev, 1, cause(RuleNoSupplierData, k.GTIN()),
				fmt.Sprintf("%s was received but no supplier announced it (no ASN, no commissioning data): hold it until the supplier confirms the serial", k)))
		}
		if pre == unit.StatusNone || pre == unit.StatusExpected {
			out = a.learned(out, ev, k, u)
		}
		if pre == unit.StatusExpected {
			out = a.shipment(out, ev, k, u)
		}
	case event.KindReturn:
		if pre == unit.StatusNone || pre == unit.StatusExpected {
			out = a.raise(out, u, a.finding(RuleReturnNotShipped, k, ev, 1, cause(RuleReturnNotShipped, k.GTIN()),
				fmt.Sprintf("%s was returned here but never shipped from here: a diverted or counterfeit return, keep it apart and ask who sent it", k)))
		}
	}
	// Two places at once: another device, another place, too soon.
	if direct && place != "" && !cloned && u.place != "" && u.place != place && u.device != ev.Device && !u.at.IsZero() {
		gap := ev.HLC.Ahead(u.at)
		if gap < 0 {
			gap = -gap
		}
		moved := ev.Kind == event.KindMove && ev.Ctx.From == u.place
		if gap < a.cfg.MinTransit && !moved {
			ps := []string{u.place, place}
			slices.Sort(ps)
			f := a.finding(RuleTwoPlaces, k, ev, 1, cause(RuleTwoPlaces, ps...),
				fmt.Sprintf("%s was scanned at %s by %s and %s later at %s by %s: one pack cannot be in two places; look for a second pack with this code",
					k, u.place, u.device, gap.Round(time.Second), place, ev.Device))
			f.Events = []event.ID{u.last}
			out = a.raise(out, u, f)
		}
	}
	a.update(ev, sr, u, place)
	return out
}

// cloneReason says why the event shows a second pack with the unit's
// identity, or "".
func (a *Analyzer) cloneReason(ev *event.Event, u *unitInfo, place string) string {
	gone := u.status.Inactive()
	switch ev.Kind {
	case event.KindReceive:
		switch {
		case gone:
			return fmt.Sprintf("was received but it was %s here", u.status)
		case u.status == unit.StatusShipped:
			return fmt.Sprintf("was received but it left on shipment %s", u.shipment)
		case u.status == unit.StatusPicked || u.status == unit.StatusPacked:
			return fmt.Sprintf("was received while it is %s for an order here", u.status)
		case u.status == unit.StatusInStock && place != "" && u.place != "" && place != u.place:
			return fmt.Sprintf("was received at %s while it is in stock at %s", place, u.place)
		case u.status == unit.StatusInStock && ev.Ctx.ASN != "" && u.asn != "" && ev.Ctx.ASN != u.asn:
			return fmt.Sprintf("was received on ASN %s but it was already received on ASN %s", ev.Ctx.ASN, u.asn)
		}
	case event.KindReturn:
		switch {
		case gone:
			return fmt.Sprintf("was returned but it was %s here", u.status)
		case u.status == unit.StatusInStock || u.status == unit.StatusPicked || u.status == unit.StatusPacked:
			return fmt.Sprintf("was returned while it is %s here", strings.ReplaceAll(u.status.String(), "_", " "))
		}
	case event.KindCount, event.KindPick, event.KindMove:
		switch {
		case gone:
			return fmt.Sprintf("was scanned (%s) but it was %s here", ev.Kind, u.status)
		case u.status == unit.StatusShipped:
			return fmt.Sprintf("was scanned (%s) but it left on shipment %s", ev.Kind, u.shipment)
		}
	}
	return ""
}

// learned runs the learned unit signals at a unit's first receipt.
func (a *Analyzer) learned(out []Finding, ev *event.Event, k event.Key, u *unitInfo) []Finding {
	g := k.GTIN()
	if g == "" {
		return out
	}
	if m := a.serials[g]; m != nil {
		if j, words, ok := SuspectSerial(m, k, u.learnedSerial, a.cfg.MinSupport, a.cfg.FormatThreshold); ok {
			out = a.raise(out, u, a.finding(RuleSerialFormat, k, ev, j.Score, cause(RuleSerialFormat, g, j.Cause), words))
		}
	}
	lot, exp := ev.Ctx.Lot, ev.Ctx.Expiry
	if lot == "" {
		lot = u.lot
	}
	if exp == "" {
		exp = u.expiry
	}
	if lot != "" {
		if j := a.lots.JudgeLot(g, lot, u.supplier, a.cfg.MinSupport); j.Score >= a.cfg.LotThreshold {
			out = a.raise(out, u, a.finding(RuleUnknownLot, k, ev, j.Score, cause(RuleUnknownLot, g, lot),
				strings.Join(j.Reasons, ", ")+": a forged lot is likely; hold the lot's packs and ask the manufacturer"))
		}
		if j := a.lots.JudgeExpiry(g, lot, exp, a.cfg.MinSupport/4); j.Score >= a.cfg.ExpiryThreshold {
			out = a.raise(out, u, a.finding(RuleLotExpiry, k, ev, j.Score, cause(RuleLotExpiry, g, lot, exp),
				strings.Join(j.Reasons, ", ")+": one lot has one expiry; hold this pack and check its print"))
		}
	}
	return out
}

// update moves the analyzer's picture of the unit as the rules did.
func (a *Analyzer) update(ev *event.Event, sr *unit.SubjectResult, u *unitInfo, place string) {
	if sr.Via == "" && place != "" {
		u.place, u.device, u.at, u.last = place, ev.Device, ev.HLC, ev.ID
	}
	if sr.Verdict == unit.VerdictRefused || sr.Verdict == unit.VerdictMerged {
		return
	}
	s := u.status
	switch ev.Kind {
	case event.KindReceive:
		if s == unit.StatusNone || s == unit.StatusExpected {
			u.status = unit.StatusInStock
			if ev.Ctx.ASN != "" {
				u.asn = ev.Ctx.ASN
			}
		}
	case event.KindReturn:
		if s == unit.StatusShipped {
			u.status, u.shipment = unit.StatusInStock, ""
		}
	case event.KindPick:
		if s == unit.StatusInStock {
			u.status = unit.StatusPicked
		}
	case event.KindUnpick:
		if s == unit.StatusPicked {
			u.status = unit.StatusInStock
		}
	case event.KindPack:
		if s == unit.StatusPicked {
			u.status = unit.StatusPacked
		}
	case event.KindUnpack:
		if s == unit.StatusPacked {
			u.status = unit.StatusPicked
		}
	case event.KindShip:
		if s == unit.StatusInStock || s == unit.StatusPicked || s == unit.StatusPacked {
			u.status, u.shipment, u.place = unit.StatusShipped, ev.Ctx.Shipment, ""
		}
	case event.KindVoidShip:
		if s == unit.StatusShipped {
			u.status, u.shipment = unit.StatusPicked, ""
		}
	case event.KindDecommission:
		if s == unit.StatusInStock || s == unit.StatusPicked || s == unit.StatusPacked {
			u.status = unit.StatusDecommissioned
		}
	case event.KindDestroy:
		if s != unit.StatusNone && s != unit.StatusExpected && s != unit.StatusShipped {
			u.status = unit.StatusDestroyed
		}
	case event.KindRevert:
		if s == unit.StatusDecommissioned {
			u.status = unit.StatusInStock
		}
	}
}

// workShape runs the work-shape signal of t (devices or users) for ev.
func (a *Analyzer) workShape(out []Finding, t *workTrack, ev *event.Event, first event.Key, refused bool) []Finding {
	key := t.of.Key(ev)
	d := t.each[key]
	if d == nil {
		d = &workInfo{ring: make([]scan, a.cfg.WorkWindow)}
		t.each[key] = d
	}
	d.ring[d.next] = scan{at: ev.HLC, kind: ev.Kind, refused: refused, place: ev.Ctx.To}
	d.next = (d.next + 1) % len(d.ring)
	d.n++
	w := len(d.ring)
	if d.n < w || d.n%(w/2) != 0 {
		return out
	}
	win := d.window(&a.quiet)
	if len(t.windows) == maxWindows {
		copy(t.windows, t.windows[1:])
		t.windows = t.windows[:maxWindows-1]
	}
	t.windows = append(t.windows, win)
	if d.flagged {
		return out
	}
	rule := t.of.Rule()
	j := t.model.Judge(t.of, key, win, w)
	if j.Score < a.cfg.WorkThreshold || a.suppress[cause(rule, key)] {
		return out
	}
	d.flagged = true
	f := a.finding(rule, first, ev, j.Score, cause(rule, key), strings.Join(j.Reasons, ", ")+": "+t.of.Advice())
	f.Units = []event.Key{first}
	return append(out, f)
}

// window computes the features over the ring.
func (d *workInfo) window(quiet *[24]bool) Window {
	var w Window
	n := float64(len(d.ring))
	lo, hi := d.ring[0].at, d.ring[0].at
	places := map[string]bool{}
	for _, s := range d.ring {
		lo, hi = min(lo, s.at), max(hi, s.at)
		if s.refused {
			w[featRefused]++
		}
		if quiet[s.at.Time().Hour()] {
			w[featNight]++
		}
		switch s.kind {
		case event.KindCount:
			w[featCount]++
		case event.KindReturn:
			w[featReturn]++
		}
		if s.place != "" {
			places[s.place] = true
		}
	}
	for j := featRefused; j <= featReturn; j++ {
		w[j] /= n
	}
	w[featPlaces] = float64(len(places)) / n
	minutes := max(hi.Ahead(lo).Minutes(), 1)
	w[featRate] = log1p(n / minutes)
	return w
}
