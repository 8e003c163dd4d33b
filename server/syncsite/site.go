// Package syncsite is the site's side of handheld sync on a cluster node:
// Site implements session.Site over a cluster.Node (pushes go through the
// node's write path and are answered after commit and apply; the
// down-feed reads the node's replicated state), and Endpoint serves the
// websocket on the node's Fiber app through a session.Hub that closes
// every socket at shutdown.
package syncsite

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"slices"
	"time"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/protocol"
)

// Errors returned by this package.
var (
	// ErrVerdicts reports a write path that answered with a verdict
	// count or order unlike the events submitted.
	ErrVerdicts = errors.New("syncsite: verdicts do not match the events")
)

// FeedEpoch numbers the down-feed: cursor indexes are raft indexes of
// this cluster. It changes only if the feed's numbering ever restarts.
// A cursor's epoch is FeedEpoch<<32 | a digest of the user's grants.
const FeedEpoch = 1

// Config tunes a Site.
type Config struct {
	// SubmitTimeout bounds one push's wait for commit and apply, even
	// when the session that asked has gone (default 30 s).
	SubmitTimeout time.Duration
	// FeedInterval is the shortest pause between two answers of one
	// device's feed: a device is told of changes at most this often, in
	// one set (default 250 ms).
	FeedInterval time.Duration
	// CatchUp bounds how long HighWater waits for this node to apply
	// what it knows to be committed (default 3 s).
	CatchUp time.Duration
	// A push of BulkEvents or more (default 200) is a device catching up:
	// at most BulkSlots of them (default 1) are submitted at once, in
	// parts of at most Part events (default 250), so devices working
	// online are not queued behind reconciling ones.
	BulkEvents, BulkSlots, Part int
	Logger                      *slog.Logger
}

func (c *Config) defaults() {
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = 30 * time.Second
	}
	if c.FeedInterval <= 0 {
		c.FeedInterval = 250 * time.Millisecond
	}
	if c.CatchUp <= 0 {
		c.CatchUp = 3 * time.Second
	}
	if c.BulkEvents <= 0 {
		c.BulkEvents = 200
	}
	if c.BulkSlots <= 0 {
		c.BulkSlots = 1
	}
	if c.Part <= 0 {
		c.Part = 250
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Site implements session.Site over one cluster node.
type Site struct {
	node  *cluster.Node
	cfg   Config
	clock *hlc.Clock
	bulk  chan struct{} // slots for catching-up pushes
}

// New returns the sync site of node.
func New(node *cluster.Node, cfg Config) *Site {
	cfg.defaults()
	return &Site{node: node, cfg: cfg, clock: hlc.NewClock(nil, 0), bulk: make(chan struct{}, cfg.BulkSlots)}
}

// ClusterID names the site's feed: the site record's id and the
// cluster's incarnation. A device whose replica came from another site,
// or from this site before it was restored from a backup (whose log
// restarted at the backup's index), resyncs.
func (s *Site) ClusterID() string {
	id := ""
	_ = s.node.State().View(func(r *state.Reader) error {
		var err error
		id, err = feedID(r)
		return err
	})
	return id
}

// feedID is the cluster id of the feed a view belongs to:
// "site:<site id>", with "@<incarnation>" once the cluster has one.
func feedID(r *state.Reader) (string, error) {
	site, err := r.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	inc, err := r.Incarnation()
	if err != nil {
		return "", err
	}
	if inc == "" {
		return "site:" + site.ID, nil
	}
	return "site:" + site.ID + "@" + inc, nil
}

// Now is the site's clock.
func (s *Site) Now() hlc.Timestamp { return s.clock.Now() }

// HighWater is the committed and applied mark of (device, epoch). The
// node first applies what it knows to be committed, so a device that
// moves from the leader to a follower is not told of a mark below what
// it was acknowledged.
func (s *Site) HighWater(ctx context.Context, device string, epoch uint32) (uint64, error) {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.CatchUp)
	defer cancel()
	if err := s.node.WaitApplied(wctx, s.node.Raft().CommitIndex()); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &protocol.BusyError{RetryAfter: time.Second}
	}
	var mark uint64
	err := s.node.State().View(func(r *state.Reader) error {
		var err error
		mark, err = r.Mark(device, epoch)
		return err
	})
	return mark, err
}

// Submit sends evs through the node's write path (the leader's
// coalescer, or forwarded to the leader) and maps the verdicts.
func (s *Site) Submit(ctx context.Context, device string, epoch uint32, evs []event.Event) ([]protocol.Verdict, error) {
	if len(evs) >= s.cfg.BulkEvents {
		select {
		case s.bulk <- struct{}{}:
			defer func() { <-s.bulk }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// A proposal completes even when the session goes: its verdicts are
	// then answered to the device's next connection as duplicates. A
	// part that fails fails the push; the device resends it whole and
	// the parts already applied come back as duplicates.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SubmitTimeout)
	defer cancel()
	out := make([]protocol.Verdict, 0, len(evs))
	for len(evs) > 0 {
		part := evs[:min(len(evs), s.cfg.Part)]
		evs = evs[len(part):]
		vs, err := s.node.SubmitEvents(sctx, part, false)
		if err != nil {
			return nil, submitErr(err)
		}
		pv, err := Verdicts(part, vs)
		if err != nil {
			return nil, err
		}
		out = append(out, pv...)
	}
	return out, nil
}

// submitErr turns write-path errors into what the session answers:
// BUSY (with the node's retry-after) for anything a retry cures.
func submitErr(err error) error {
	var re *cluster.RetryError
	if errors.As(err, &re) {
		return &protocol.BusyError{RetryAfter: max(re.After, 100*time.Millisecond)}
	}
	switch {
	case errors.Is(err, cluster.ErrBusy), errors.Is(err, cluster.ErrNoLeader), errors.Is(err, cluster.ErrNotLeader),
		errors.Is(err, cluster.ErrForward), errors.Is(err, cluster.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &protocol.BusyError{RetryAfter: time.Second}
	}
	return fmt.Errorf("submit: %w", err)
}

// Verdicts maps the write path's verdicts for evs to protocol verdicts:
// applied events by their rules' result, duplicates with the original
// outcome, rejections with their reason. A gap on the first event is a
// *protocol.GapError.
func Verdicts(evs []event.Event, vs []command.Verdict) ([]protocol.Verdict, error) {
	if len(vs) != len(evs) {
		return nil, fmt.Errorf("%w: %d events, %d verdicts", ErrVerdicts, len(evs), len(vs))
	}
	out := make([]protocol.Verdict, len(vs))
	for i := range vs {
		v := &vs[i]
		if v.Seq != evs[i].Seq {
			return nil, fmt.Errorf("%w: event %d has seq %d, its verdict %d", ErrVerdicts, i, evs[i].Seq, v.Seq)
		}
		switch v.Status {
		case command.StatusGap:
			if i == 0 {
				return nil, &protocol.GapError{Expected: v.Expected}
			}
			return nil, fmt.Errorf("%w: gap inside a contiguous push at seq %d", ErrVerdicts, v.Seq)
		case command.StatusApplied:
			if v.Result == nil {
				out[i] = protocol.Verdict{Seq: v.Seq, Outcome: protocol.OutcomeApplied}
				continue
			}
			out[i] = protocol.VerdictFromResult(v.Seq, *v.Result)
		case command.StatusDuplicate:
			d := protocol.Verdict{Seq: v.Seq, Outcome: protocol.OutcomeDuplicate, Message: v.Reason}
			if v.Result != nil {
				orig := protocol.VerdictFromResult(v.Seq, *v.Result)
				d.Original, d.Exceptions = orig.Outcome, orig.Exceptions
				if d.Message == "" {
					d.Message = orig.Message
				}
			} else if v.Reason != "" && v.Index != 0 {
				d.Original = protocol.OutcomeRejected
			}
			out[i] = d
		case command.StatusRejected:
			out[i] = protocol.Verdict{Seq: v.Seq, Outcome: protocol.OutcomeRejected, Message: v.Reason}
		default:
			return nil, fmt.Errorf("%w: status %q", ErrVerdicts, v.Status)
		}
	}
	return out, nil
}

// viewer is who the feed is for: the signed-in user's clients. A device
// nobody is signed in on holds no client's data at all: only what
// sign-in needs (the site, locations, partners and users with their PIN
// verifiers, so sign-in works offline); a handheld left on a dock, or
// lost from one, carries no client's stock, orders or records. When a
// user signs in, the device's next SUB names the user and, the grants
// differing, its replica is rebuilt with that user's clients. epoch is
// the cursor epoch for that view: the feed epoch and a digest of the
// grants, so a replica filtered for other grants is resent whole.
func viewer(r *state.Reader, user string) (sees func(string) bool, epoch uint64, err error) {
	var grants []string
	sees = func(string) bool { return false }
	if user != "" {
		u, err := r.User(user)
		switch {
		case errors.Is(err, state.ErrNotFound):
			grants, sees = nil, func(string) bool { return false }
		case err != nil:
			return nil, 0, err
		default:
			grants, sees = slices.Sorted(slices.Values(u.Clients)), u.Sees
		}
	}
	h := crc32.NewIEEE()
	for _, g := range grants {
		h.Write([]byte(g))
		h.Write([]byte{0})
	}
	return sees, FeedEpoch<<32 | uint64(h.Sum32()), nil
}

// Snapshot is everything the device's replica holds for its site and
// user: site, the user's clients and their products, locations,
// partners, users (for offline sign-in), ASNs, orders, shipments, lot
// and product holds, unit states, active exceptions and the products'
// published serial models.
func (s *Site) Snapshot(ctx context.Context, device, user string) (master.Snapshot, protocol.Cursor, error) {
	var snap master.Snapshot
	var cur protocol.Cursor
	err := s.node.State().View(func(r *state.Reader) error {
		idx, err := r.Applied()
		if err != nil {
			return err
		}
		site, err := r.Site()
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		sees, epoch, err := viewer(r, user)
		if err != nil {
			return err
		}
		cluster, err := feedID(r)
		if err != nil {
			return err
		}
		cur = protocol.Cursor{Cluster: cluster, Epoch: epoch, Index: idx}
		snap, err = readSnapshot(r, site, sees)
		return err
	})
	if err != nil {
		return master.Snapshot{}, protocol.Cursor{}, fmt.Errorf("snapshot: %w", err)
	}
	snap.Cursor = cur.String()
	return snap, cur, nil
}

func readSnapshot(r *state.Reader, site master.Site, sees func(string) bool) (master.Snapshot, error) {
	snap := master.Snapshot{Site: site}
	var err error
	if snap.Clients, err = r.Clients(func(c *master.Client) bool { return sees(c.ID) }); err != nil {
		return snap, err
	}
	if snap.Products, err = r.Products(func(p *master.Product) bool { return sees(p.Client) }); err != nil {
		return snap, err
	}
	if snap.Locations, err = r.Locations(); err != nil {
		return snap, err
	}
	if snap.Partners, err = r.Partners(); err != nil {
		return snap, err
	}
	if snap.Users, err = r.Users(); err != nil {
		return snap, err
	}
	if snap.ASNs, err = r.ASNs(func(a *master.ASN) bool { return sees(a.Client) }); err != nil {
		return snap, err
	}
	if snap.Orders, err = r.Orders(func(o *master.Order) bool { return sees(o.Client) }); err != nil {
		return snap, err
	}
	if snap.Shipments, err = r.Shipments(func(x *master.Shipment) bool { return sees(x.Client) }); err != nil {
		return snap, err
	}
	if snap.Holds, err = r.Holds(func(h *master.Hold) bool { return sees(h.Client) }); err != nil {
		return snap, err
	}
	if snap.SerialModels, err = r.SerialModels(func(m *master.SerialModel) bool { return sees(m.Client) }); err != nil {
		return snap, err
	}
	units, err := r.Units(state.UnitFilter{Client: sees})
	if err != nil {
		return snap, err
	}
	snap.Units = units.Items
	for _, st := range []unit.ExceptionStatus{unit.ExceptionOpen, unit.ExceptionAcknowledged} {
		xs, err := r.Exceptions(state.ExceptionFilter{Status: st, Client: sees})
		if err != nil {
			return snap, err
		}
		snap.Open = append(snap.Open, xs.Items...)
	}
	return snap, nil
}

// Changes reads the state's change feed after the cursor: the records
// the entries since then wrote, as they are now. A record the user may
// not see (or that is gone) is sent as a removal, which costs a device
// that never had it nothing. A cursor older than the feed's window, or
// taken for a user with other grants, makes the device resync.
func (s *Site) Changes(ctx context.Context, device, user string, after protocol.Cursor, limit int) (protocol.ChangeSet, error) {
	var cs protocol.ChangeSet
	err := s.node.State().View(func(r *state.Reader) error {
		sees, epoch, err := viewer(r, user)
		if err != nil {
			return err
		}
		if after.Epoch != epoch {
			return protocol.ErrCursorTooOld
		}
		refs, to, more, err := r.Feed(after.Index, limit)
		if errors.Is(err, state.ErrFeedGone) {
			return protocol.ErrCursorTooOld
		}
		if err != nil {
			return err
		}
		cs.To, cs.More = after, more
		cs.To.Index = max(to, after.Index)
		for _, ref := range refs {
			if err := changed(r, sees, ref, &cs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return protocol.ChangeSet{}, err
	}
	return cs, nil
}

// changed adds the record ref names, as it is now, to cs: a put when
// the user may see it, a removal otherwise.
func changed(r *state.Reader, sees func(string) bool, ref state.FeedRef, cs *protocol.ChangeSet) error {
	p := &cs.Put
	remove := func(k protocol.Kind) { cs.Removed = append(cs.Removed, protocol.Removal{Kind: k, ID: ref.ID}) }
	gone := func(err error) (bool, error) {
		if errors.Is(err, state.ErrNotFound) {
			return true, nil
		}
		return false, err
	}
	switch ref.Kind {
	case state.FeedUnit:
		u, err := r.Unit(event.Key(ref.ID))
		if err != nil {
			return err
		}
		if !u.Known() || !sees(u.Client) {
			remove(protocol.KindUnit)
			return nil
		}
		p.Units = append(p.Units, u)
	case state.FeedException:
		x, err := r.Exception(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindException)
			return nil
		}
		p.Open = append(p.Open, x)
	case state.MasterSite:
		site, err := r.Site()
		if err != nil {
			return err
		}
		p.Site = site
	case state.MasterClient:
		c, err := r.Client(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(c.ID) {
			remove(protocol.KindClient)
			return nil
		}
		p.Clients = append(p.Clients, c)
	case state.MasterProduct:
		x, err := r.Product(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindProduct)
			return nil
		}
		p.Products = append(p.Products, x)
	case state.MasterLocation:
		x, err := r.Location(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g {
			remove(protocol.KindLocation)
			return nil
		}
		p.Locations = append(p.Locations, x)
	case state.MasterPartner:
		x, err := r.Partner(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g {
			remove(protocol.KindPartner)
			return nil
		}
		p.Partners = append(p.Partners, x)
	case state.MasterUser:
		x, err := r.User(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g {
			remove(protocol.KindUser)
			return nil
		}
		p.Users = append(p.Users, x)
	case state.MasterASN:
		x, err := r.ASN(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindASN)
			return nil
		}
		p.ASNs = append(p.ASNs, x)
	case state.MasterOrder:
		x, err := r.Order(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindOrder)
			return nil
		}
		p.Orders = append(p.Orders, x)
	case state.MasterShipment:
		x, err := r.Shipment(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindShipment)
			return nil
		}
		p.Shipments = append(p.Shipments, x)
	case state.MasterHold:
		x, err := r.Hold(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindHold)
			return nil
		}
		p.Holds = append(p.Holds, x)
	case state.MasterSerial:
		x, err := r.SerialModel(ref.ID)
		if g, err := gone(err); err != nil {
			return err
		} else if g || !sees(x.Client) {
			remove(protocol.KindSerialModel)
			return nil
		}
		p.SerialModels = append(p.SerialModels, x)
	}
	return nil
}

// Wait returns once this node has applied entries past after, at the
// earliest FeedInterval from now, so a busy site tells each device of
// its changes at most that often.
func (s *Site) Wait(ctx context.Context, after protocol.Cursor) error {
	t := time.NewTimer(s.cfg.FeedInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for s.node.Applied() <= after.Index {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
