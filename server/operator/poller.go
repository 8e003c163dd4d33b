package operator

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Snapshot is what the operator last read from a site. Up says whether
// the last read worked; when it did not, the rest is the last known
// state, as of Contact.
type Snapshot struct {
	Site    string        `json:"site"`
	Up      bool          `json:"up"`
	Error   string        `json:"error,omitempty"`
	Tried   time.Time     `json:"tried"`   // the last read, good or not
	Contact time.Time     `json:"contact"` // the last good read
	Took    time.Duration `json:"took"`
	Leader  string        `json:"leader"`
	Nodes   int           `json:"nodes"`
	NodesUp int           `json:"nodesUp"`
	Applied uint64        `json:"applied"`
	// Online is the devices with a sync session on the node read (-1:
	// not known).
	Online int `json:"online"`
	// Clients counts inbound and outbound records per granted client.
	Clients map[string]Counts `json:"clients"`
	// Day is the operator's day ("2006-01-02" in its time zone) the
	// Today counts are of: the read asked the site for what was received
	// and shipped from that day's midnight to the next. "" when the site
	// did not answer that (a site without GET /api/v1/activity).
	Day string `json:"day,omitempty"`
	// Shipments are the granted clients' shipments (up to
	// ShipmentLimit), for the exports page.
	Shipments []shipmentRow `json:"shipments,omitempty"`
	// Exceptions are the open and acknowledged ones of the granted
	// clients (up to ExceptionLimit; More when there were more).
	Exceptions []unit.Exception `json:"exceptions"`
	More       bool             `json:"more,omitempty"`
}

// shipmentRow is a shipment as the exports page lists it.
type shipmentRow struct {
	ID          string `json:"id"`
	Client      string `json:"client"`
	Destination string `json:"destination"`
	Departed    bool   `json:"departed,omitempty"`
	Containers  int    `json:"containers,omitempty"` // shipped on it
}

// Counts are a client's records at a site.
type Counts struct {
	ASNs       int `json:"asns,omitempty"`
	ASNsClosed int `json:"asnsClosed,omitempty"` // fully received
	Shipments  int `json:"shipments,omitempty"`
	Loaded     int `json:"loaded,omitempty"`   // with containers shipped on them
	Departed   int `json:"departed,omitempty"` // marked departed (PUT /shipments by the site's systems)
	// Today is what was received and shipped on Snapshot.Day.
	Today Activity `json:"today"`
}

// Activity is what a client received and shipped in a window, by the
// time the site's devices recorded the work (a receipt made offline in
// the morning counts in the morning, whenever it reached the site).
type Activity struct {
	// Receipts are receive scans; ReceivedUnits the saleable units they
	// took in (through cases and pallets); ASNs the distinct ASNs.
	Receipts      int `json:"receipts,omitempty"`
	ReceivedUnits int `json:"receivedUnits,omitempty"`
	ASNs          int `json:"asns,omitempty"`
	// Shipping are ship scans; ShippedUnits the saleable units they
	// shipped; Shipments the distinct shipments.
	Shipping     int `json:"shipping,omitempty"`
	ShippedUnits int `json:"shippedUnits,omitempty"`
	Shipments    int `json:"shipments,omitempty"`
}

func (a *Activity) add(b Activity) {
	a.Receipts += b.Receipts
	a.ReceivedUnits += b.ReceivedUnits
	a.ASNs += b.ASNs
	a.Shipping += b.Shipping
	a.ShippedUnits += b.ShippedUnits
	a.Shipments += b.Shipments
}

// ShipmentLimit bounds the shipments kept per site.
const ShipmentLimit = 1000

// ExceptionLimit bounds the exceptions kept per site and status.
const ExceptionLimit = 2000

// poller reads every site every Poll, each read bounded by Timeout, and
// keeps the snapshots in the cache. A site that does not answer keeps
// its last known state; nothing at a site waits on the operator.
type poller struct {
	o *Operator
	// mu guards last (the snapshots in memory, for pages).
	mu   sync.RWMutex
	last map[string]Snapshot
	// kick asks for a round now.
	kick chan struct{}
}

func newPoller(o *Operator) (*poller, error) {
	p := &poller{o: o, last: map[string]Snapshot{}, kick: make(chan struct{}, 1)}
	for _, s := range o.cfg.Sites {
		snap, ok, err := o.cache.snapshot(s.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			snap = Snapshot{Site: s.ID, Online: -1}
		}
		// Known from before this process: not up until read again.
		snap.Up = false
		if snap.Error == "" {
			snap.Error = "not read yet since the operator started"
		}
		p.last[s.ID] = snap
	}
	return p, nil
}

func (p *poller) run(ctx context.Context) {
	t := time.NewTicker(p.o.cfg.Poll)
	defer t.Stop()
	for {
		p.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
	}
}

// round reads every site at once and waits for all of them.
func (p *poller) round(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range p.o.sites {
		wg.Add(1)
		go func(c *siteClient) {
			defer wg.Done()
			p.readSite(ctx, c)
		}(s)
	}
	wg.Wait()
	if p.o.digests != nil {
		p.o.digests.round(ctx)
	}
}

// readSite reads one site and records the outcome.
func (p *poller) readSite(ctx context.Context, c *siteClient) {
	start := p.o.cfg.Now()
	rctx, cancel := context.WithTimeout(ctx, p.o.cfg.Timeout)
	defer cancel()
	from, to := p.o.day(start)
	snap, err := read(rctx, c, from, to)
	now := p.o.cfg.Now()
	p.mu.Lock()
	if err != nil {
		prev := p.last[c.site.ID]
		prev.Up, prev.Error, prev.Tried = false, readError(err), now
		if errors.Is(rctx.Err(), context.DeadlineExceeded) {
			prev.Error = "no answer within " + p.o.cfg.Timeout.String()
		}
		snap = prev
	} else {
		snap.Site, snap.Up, snap.Tried, snap.Contact, snap.Took = c.site.ID, true, now, now, now.Sub(start)
		if prev := p.last[c.site.ID]; snap.Online < 0 && prev.Online >= 0 {
			// The metrics did not answer this time: the last count.
			snap.Online = prev.Online
		}
	}
	p.last[c.site.ID] = snap
	p.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if err := p.o.cache.putSnapshot(snap); err != nil {
		p.o.log.Warn("operator: cache a site's state", "site", c.site.ID, "err", err)
	}
	if err != nil {
		p.o.log.Info("operator: site unreachable", "site", c.site.ID, "err", err)
	}
}

// readError says for people why a read failed: the last part of a
// connection error ("connection refused"), or the site's own answer.
func readError(err error) string {
	if errors.Is(err, ErrUnreachable) {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return "unreachable: " + msg
	}
	return err.Error()
}

// day is the operator's day of t (in its time zone): its midnight and
// the next one (23 or 25 hours later on a change of summer time).
func (o *Operator) day(t time.Time) (from, to time.Time) {
	y, m, d := t.In(o.cfg.Location).Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, o.cfg.Location)
	return from, from.AddDate(0, 0, 1)
}

// read is one site's state now, with what was received and shipped in
// [from, to).
func read(ctx context.Context, c *siteClient, from, to time.Time) (Snapshot, error) {
	s := Snapshot{Online: -1}
	var st struct {
		Leader string `json:"leader"`
		Nodes  []struct {
			ID      string `json:"id"`
			State   string `json:"state"`
			Applied uint64 `json:"applied"`
		} `json:"nodes"`
	}
	if err := c.get(ctx, "/api/v1/cluster/status", nil, &st); err != nil {
		return s, err
	}
	s.Leader, s.Nodes = st.Leader, len(st.Nodes)
	for _, n := range st.Nodes {
		if n.State != "unreachable" && n.State != "" {
			s.NodesUp++
		}
		if n.ID == st.Leader {
			s.Applied = n.Applied
		}
	}
	if v, ok, err := c.metric(ctx, "custody_sync_devices"); err != nil {
		return s, err
	} else if ok {
		s.Online = int(v)
	}
	var asns struct {
		Items []master.ASN `json:"items"`
	}
	if err := c.get(ctx, "/api/v1/asns", nil, &asns); err != nil {
		return s, err
	}
	s.Clients = map[string]Counts{}
	for _, cl := range c.site.Clients {
		if cl != "*" {
			s.Clients[cl] = Counts{}
		}
	}
	for _, a := range asns.Items {
		if c.grants(a.Client) {
			n := s.Clients[a.Client]
			n.ASNs++
			if a.Closed {
				n.ASNsClosed++
			}
			s.Clients[a.Client] = n
		}
	}
	var ships struct {
		Items []master.Shipment `json:"items"`
	}
	if err := c.get(ctx, "/api/v1/shipments", nil, &ships); err != nil {
		return s, err
	}
	for _, x := range ships.Items {
		if c.grants(x.Client) {
			if len(s.Shipments) < ShipmentLimit {
				s.Shipments = append(s.Shipments, shipmentRow{ID: x.ID, Client: x.Client, Destination: x.Destination, Departed: x.Departed, Containers: len(x.Containers)})
			}
			n := s.Clients[x.Client]
			n.Shipments++
			if len(x.Containers) > 0 {
				n.Loaded++
			}
			if x.Departed {
				n.Departed++
			}
			s.Clients[x.Client] = n
		}
	}
	if err := readActivity(ctx, c, &s, from, to); err != nil {
		return s, err
	}
	s.Exceptions = []unit.Exception{}
	for _, status := range []string{"open", "acknowledged"} {
		var page struct {
			Items []unit.Exception `json:"items"`
			Next  string           `json:"next"`
		}
		q := url.Values{"status": {status}, "limit": {strconv.Itoa(ExceptionLimit)}}
		if err := c.get(ctx, "/api/v1/exceptions", q, &page); err != nil {
			return s, err
		}
		for _, x := range page.Items {
			if c.grants(x.Client) {
				s.Exceptions = append(s.Exceptions, x)
			}
		}
		s.More = s.More || page.Next != ""
	}
	return s, nil
}

// readActivity reads what each granted client received and shipped in
// [from, to) into s (Day set when the site answered them; a site that
// answers anything else leaves them unknown).
func readActivity(ctx context.Context, c *siteClient, s *Snapshot, from, to time.Time) error {
	var act struct {
		Clients []struct {
			Client string `json:"client"`
			Activity
		} `json:"clients"`
	}
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if err := c.get(ctx, "/api/v1/activity", q, &act); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			// The site answered, without the day's figures (a version
			// without the route, a fault of its own): the rest of its
			// state stands, and the page says "not read today".
			return nil
		}
		return err
	}
	s.Day = from.Format(time.DateOnly)
	for _, a := range act.Clients {
		if c.grants(a.Client) {
			n := s.Clients[a.Client]
			n.Today = a.Activity
			s.Clients[a.Client] = n
		}
	}
	return nil
}

// grants reports whether the configuration lets the operator see
// client cl at this site (the site's own grants filtered already).
func (c *siteClient) grants(cl string) bool {
	for _, g := range c.site.Clients {
		if g == cl || g == "*" {
			return true
		}
	}
	return false
}

// snapshots are the last known states, in the configuration's order.
func (p *poller) snapshots() []Snapshot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Snapshot, 0, len(p.o.cfg.Sites))
	for _, s := range p.o.cfg.Sites {
		out = append(out, p.last[s.ID])
	}
	return out
}
