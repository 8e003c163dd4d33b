package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// The floor: one goroutine per node follows the state's change feed
// every Config.Tick and keeps a summary for every client (scans per
// minute, recent activity, devices, open exceptions by severity, ASN and
// order progress). Each open floor page gets, at most once a tick and
// only when something changed, the part of the summary its user may
// see, rendered as HTML: a thousand events in a tick are one message.

const (
	floorWindow    = 60   // seconds of scan counts kept
	floorRecent    = 12   // activity lines shown
	floorPlans     = 8    // ASNs and orders shown
	floorOrders    = 200  // orders counted (the outbound page shows them too)
	floorFeedBatch = 5000 // feed references read per step
	floorPlanEvery = 2 * time.Second
)

type activity struct {
	Key    event.Key
	Client string
	Status unit.Status
	Holds  event.Holds
	Device string
	At     time.Time
}

type deviceSeen struct {
	User, Client string
	Last         time.Time
}

type sevCount struct{ High, Medium, Low int }

// excInfo is what the floor counts of an open exception.
type excInfo struct {
	client string
	sev    unit.Severity
}

func (n *sevCount) add(s unit.Severity, d int) {
	switch s {
	case unit.SeverityHigh:
		n.High += d
	case unit.SeverityMedium:
		n.Medium += d
	default:
		n.Low += d
	}
}

type planRow struct {
	ID, Client, Who       string
	Expected, Received    int
	Picked, Packed, Ships int
	Ordered               int
}

type floor struct {
	c *Console

	mu       sync.Mutex
	after    uint64
	started  bool
	version  uint64
	changed  chan struct{} // closed and replaced at each new version
	buckets  [floorWindow]map[string]int
	bucketAt [floorWindow]int64
	recent   []activity
	devices  map[string]deviceSeen
	excs     map[string]*sevCount // client → open exceptions
	excOf    map[string]excInfo   // id → client and severity of each open one
	asns     []planRow
	orders   []planRow
	plansAt  time.Time
	dirty    bool // units or plans changed since the plans were counted
	excDirty bool
	events   uint64 // unit changes seen (for benchmarks)
}

func newFloor(c *Console) *floor {
	return &floor{c: c, changed: make(chan struct{}), devices: map[string]deviceSeen{}, excs: map[string]*sevCount{}, excOf: map[string]excInfo{}}
}

func (f *floor) run(ctx context.Context) {
	t := time.NewTicker(f.c.cfg.Tick)
	defer t.Stop()
	for {
		if err := f.step(); err != nil {
			f.c.log.Warn("console floor", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step reads what changed since the last step and publishes a new
// version when anything did.
func (f *floor) step() error {
	now := f.c.cfg.Now()
	st := f.c.node.State()
	f.mu.Lock()
	after, started := f.after, f.started
	f.mu.Unlock()
	var touched bool
	err := st.View(func(r *state.Reader) error {
		if !started {
			applied, err := r.Applied()
			if err != nil {
				return err
			}
			after = applied
			touched = true
			f.mu.Lock()
			f.excDirty, f.dirty = true, true
			f.mu.Unlock()
			return nil
		}
		for {
			refs, to, more, err := r.Feed(after, floorFeedBatch)
			if errors.Is(err, state.ErrFeedGone) {
				after, err = r.Applied()
				f.mu.Lock()
				f.excDirty, f.dirty = true, true
				f.mu.Unlock()
				touched = true
				return err
			}
			if err != nil {
				return err
			}
			if len(refs) > 0 {
				touched = true
			}
			if err := f.note(r, refs, now); err != nil {
				return err
			}
			after = to
			if !more {
				return nil
			}
		}
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.after, f.started = after, true
	needExc := f.excDirty
	needPlans := f.dirty && now.Sub(f.plansAt) >= floorPlanEvery
	f.mu.Unlock()
	if needExc {
		if err := f.countExceptions(); err != nil {
			return err
		}
		touched = true
	}
	if needPlans {
		if err := f.countPlans(now); err != nil {
			return err
		}
		touched = true
	}
	if touched {
		f.publish()
	}
	return nil
}

func (f *floor) publish() {
	f.mu.Lock()
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// wait returns the current version and a channel closed at the next.
func (f *floor) wait() (uint64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, f.changed
}

// note counts the records one read of the feed names.
func (f *floor) note(r *state.Reader, refs []state.FeedRef, now time.Time) error {
	sec := now.Unix()
	slot := int(sec % floorWindow)
	var acts []activity
	for _, ref := range refs {
		switch ref.Kind {
		case state.FeedUnit:
			u, err := r.Unit(event.Key(ref.ID))
			if err != nil {
				return err
			}
			if !u.Known() || u.Status == unit.StatusExpected {
				continue
			}
			acts = append(acts, activity{Key: u.Key, Client: u.Client, Status: u.Status, Holds: u.Holds, Device: u.LastDevice, At: u.Updated.Time()})
		case state.FeedException:
			x, err := r.Exception(ref.ID)
			if err != nil && !errors.Is(err, state.ErrNotFound) {
				return err
			}
			f.mu.Lock()
			f.noteException(ref.ID, x, err == nil && x.Active())
			f.mu.Unlock()
		case state.MasterASN, state.MasterOrder, state.MasterShipment:
			f.mu.Lock()
			f.dirty = true
			f.mu.Unlock()
		}
	}
	// Who worked each device: the user of its latest event here.
	users := map[string]string{}
	for i := len(acts) - 1; i >= 0; i-- {
		a := acts[i]
		if _, ok := users[a.Device]; ok || a.Device == "" {
			continue
		}
		u, err := r.Unit(a.Key)
		if err != nil {
			return err
		}
		rec, err := r.Event(u.LastEvent)
		if err == nil {
			users[a.Device] = rec.Event.User
		} else if !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bucketAt[slot] != sec {
		f.buckets[slot], f.bucketAt[slot] = map[string]int{}, sec
	}
	for _, a := range acts {
		f.buckets[slot][a.Client]++
		f.events++
		if a.Device != "" {
			d := f.devices[a.Device]
			d.Last, d.Client = now, a.Client
			if u := users[a.Device]; u != "" {
				d.User = u
			}
			f.devices[a.Device] = d
		}
	}
	if len(acts) > 0 {
		f.dirty = true
	}
	// Keep the newest few per client is more than needed: keep the
	// newest floorRecent*8 overall, filtered per page.
	f.recent = append(f.recent, acts...)
	if n := len(f.recent) - floorRecent*8; n > 0 {
		f.recent = slices.Clone(f.recent[n:])
	}
	return nil
}

// noteException keeps the open counts as exception id changes (f.mu
// held).
func (f *floor) noteException(id string, x unit.Exception, active bool) {
	if old, ok := f.excOf[id]; ok {
		f.excs[old.client].add(old.sev, -1)
		delete(f.excOf, id)
	}
	if !active {
		return
	}
	n := f.excs[x.Client]
	if n == nil {
		n = &sevCount{}
		f.excs[x.Client] = n
	}
	n.add(x.Severity, 1)
	f.excOf[id] = excInfo{client: x.Client, sev: x.Severity}
}

// countExceptions counts the open exceptions from the start (the first
// step, or after the feed moved past this node's position); later
// steps follow the changes (noteException).
func (f *floor) countExceptions() error {
	counts := map[string]*sevCount{}
	of := map[string]excInfo{}
	err := f.c.node.State().View(func(r *state.Reader) error {
		for _, st := range []unit.ExceptionStatus{unit.ExceptionOpen, unit.ExceptionAcknowledged} {
			page, err := r.Exceptions(state.ExceptionFilter{Status: st})
			if err != nil {
				return err
			}
			for _, x := range page.Items {
				n := counts[x.Client]
				if n == nil {
					n = &sevCount{}
					counts[x.Client] = n
				}
				n.add(x.Severity, 1)
				of[x.ID] = excInfo{client: x.Client, sev: x.Severity}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.excs, f.excOf, f.excDirty = counts, of, false
	f.mu.Unlock()
	return nil
}

// countPlans counts the receiving progress of the newest ASNs and the
// pick, pack and ship progress of the newest orders.
func (f *floor) countPlans(now time.Time) error {
	var asns, orders []planRow
	err := f.c.node.State().View(func(r *state.Reader) error {
		var err error
		if asns, err = asnRows(r, nil, floorPlans); err != nil {
			return err
		}
		orders, err = orderRows(r, nil, floorOrders)
		return err
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.asns, f.orders, f.plansAt, f.dirty = asns, orders, now, false
	f.mu.Unlock()
	return nil
}

// asnRows is the receiving progress of the last n ASNs (by id) keep
// accepts (every one when keep is nil).
func asnRows(r *state.Reader, keep func(string) bool, n int) ([]planRow, error) {
	all, err := r.ASNs(func(a *master.ASN) bool { return keep == nil || keep(a.Client) })
	if err != nil {
		return nil, err
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	out := make([]planRow, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		a := &all[i]
		row := planRow{ID: a.ID, Client: a.Client, Who: a.Supplier, Expected: len(a.Items)}
		for _, it := range a.Items {
			u, err := r.Unit(it.Key)
			if err != nil {
				return nil, err
			}
			if u.Known() && u.Status != unit.StatusExpected {
				row.Received++
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// orderRows is the progress of the last n orders keep accepts: units
// picked, packed (in the building) and shipped, from the order counters
// the state keeps.
func orderRows(r *state.Reader, keep func(string) bool, n int) ([]planRow, error) {
	all, err := r.Orders(func(o *master.Order) bool { return keep == nil || keep(o.Client) })
	if err != nil {
		return nil, err
	}
	if len(all) > n {
		all = all[len(all)-n:]
	}
	out := make([]planRow, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		o := &all[i]
		row := planRow{ID: o.ID, Client: o.Client, Who: o.Customer}
		for _, l := range o.Lines {
			row.Ordered += l.Qty
		}
		out = append(out, row)
	}
	for i := range out {
		c, err := r.OrderCounts(out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Picked, out[i].Packed, out[i].Ships = c.Picked, c.Packed, c.Shipped
	}
	return out, nil
}

// walk visits units and their contents, depth levels down.
func walk(r *state.Reader, keys []event.Key, depth int, fn func(unit.State)) error {
	for _, k := range keys {
		u, err := r.Unit(k)
		if err != nil {
			return err
		}
		if !u.Known() {
			continue
		}
		fn(u)
		if depth > 0 && k.IsContainer() {
			kids, err := r.Children(k)
			if err != nil {
				return err
			}
			if err := walk(r, kids, depth-1, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// ordersFor is the progress of the newest orders user u may see, at
// most n, as the floor counted them last (at most floorPlanEvery ago).
func (f *floor) ordersFor(u *master.User, n int) []planRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []planRow
	for _, o := range f.orders {
		if u.Sees(o.Client) && len(out) < n {
			out = append(out, o)
		}
	}
	return out
}

// floorView is what one user sees of the floor.
type floorView struct {
	ScansPerMin int
	Exceptions  sevCount
	Recent      []activity
	Devices     []deviceRow
	ShowDevices bool
	ASNs        []planRow
	Orders      []planRow
	Updated     time.Time
}

type deviceRow struct {
	ID, User   string
	Online     bool
	Last       time.Time
	Acked      uint64
	Connection string
}

// view is the floor as user u may see it.
func (f *floor) view(u *master.User) (floorView, error) {
	now := f.c.cfg.Now()
	f.mu.Lock()
	v := floorView{Updated: now, ShowDevices: u.Role == master.RoleAdmin}
	for i := range floorWindow {
		if now.Unix()-f.bucketAt[i] < floorWindow {
			for client, n := range f.buckets[i] {
				if u.Sees(client) {
					v.ScansPerMin += n
				}
			}
		}
	}
	for client, n := range f.excs {
		if u.Sees(client) {
			v.Exceptions.High += n.High
			v.Exceptions.Medium += n.Medium
			v.Exceptions.Low += n.Low
		}
	}
	for i := len(f.recent) - 1; i >= 0 && len(v.Recent) < floorRecent; i-- {
		if u.Sees(f.recent[i].Client) {
			v.Recent = append(v.Recent, f.recent[i])
		}
	}
	for _, a := range f.asns {
		if u.Sees(a.Client) {
			v.ASNs = append(v.ASNs, a)
		}
	}
	for _, o := range f.orders {
		if u.Sees(o.Client) && len(v.Orders) < floorPlans {
			v.Orders = append(v.Orders, o)
		}
	}
	seen := map[string]deviceSeen{}
	if v.ShowDevices {
		for id, d := range f.devices {
			seen[id] = d
		}
	}
	f.mu.Unlock()
	if v.ShowDevices {
		rows, err := f.c.deviceRows(seen)
		if err != nil {
			return v, err
		}
		v.Devices = rows
	}
	return v, nil
}

// deviceRows lists the devices the site has heard from, online ones
// (with a session on this node) first.
func (c *Console) deviceRows(seen map[string]deviceSeen) ([]deviceRow, error) {
	byID := map[string]*deviceRow{}
	var marks []state.DeviceMark
	if err := c.node.State().View(func(r *state.Reader) error { var err error; marks, err = r.Devices(); return err }); err != nil {
		return nil, err
	}
	for _, m := range marks {
		d := byID[m.Device]
		if d == nil {
			d = &deviceRow{ID: m.Device}
			byID[m.Device] = d
		}
		d.Acked += m.Seq
	}
	if c.cfg.Sessions != nil {
		for _, s := range c.cfg.Sessions() {
			d := byID[s.Device]
			if d == nil {
				d = &deviceRow{ID: s.Device}
				byID[s.Device] = d
			}
			d.Online, d.Connection = true, s.Addr
			if s.LastFrame.After(d.Last) {
				d.Last = s.LastFrame
			}
		}
	}
	for id, s := range seen {
		d := byID[id]
		if d == nil {
			continue
		}
		d.User = s.User
		if s.Last.After(d.Last) {
			d.Last = s.Last
		}
	}
	out := make([]deviceRow, 0, len(byID))
	for _, d := range byID {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Online != out[j].Online {
			return out[i].Online
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (c *Console) floorPage(x *fiber.Ctx) error {
	v, err := c.floor.view(currentUser(x))
	if err != nil {
		return err
	}
	return c.render(x, "floor", "Floor", v)
}

// floorStream is the floor's server-sent events: an "floor" event with
// the live part's HTML when the floor changed (at most once a tick), the
// same again every few seconds for the "… ago" times, and a comment
// every 15 s to keep proxies from closing the stream.
func (c *Console) floorStream(x *fiber.Ctx) error {
	u := currentUser(x)
	sess, _ := x.Locals("session").(*sessionData)
	x.Set(fiber.HeaderContentType, "text/event-stream")
	x.Set(fiber.HeaderCacheControl, "no-store")
	x.Set("X-Accel-Buffering", "no")
	done := c.done
	x.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		fmt.Fprint(w, "retry: 2000\n\n")
		if w.Flush() != nil {
			return
		}
		refresh := time.NewTicker(5 * time.Second)
		defer refresh.Stop()
		var sent uint64
		lastSent := time.Time{}
		for {
			ver, ch := c.floor.wait()
			if ver != sent || time.Since(lastSent) >= 5*time.Second {
				v, err := c.floor.view(u)
				if err != nil {
					c.log.Warn("console floor view", "err", err)
					return
				}
				html, err := c.pages.fragment("floor", "live", v)
				if err != nil {
					c.log.Warn("console floor render", "err", err)
					return
				}
				fmt.Fprint(w, "event: floor\n")
				for _, line := range strings.Split(html, "\n") {
					fmt.Fprintf(w, "data: %s\n", line)
				}
				fmt.Fprint(w, "\n")
				if w.Flush() != nil {
					return
				}
				sent, lastSent = ver, time.Now()
			}
			select {
			case <-done:
				return
			case <-ch:
				// Batch: wait out the rest of a tick before reading.
				time.Sleep(c.cfg.Tick / 2)
			case <-refresh.C:
				if sess == nil || !c.stillValid(sess) {
					fmt.Fprint(w, "event: ended\ndata: signed out\n\n")
					_ = w.Flush()
					return
				}
			}
		}
	}))
	return nil
}
