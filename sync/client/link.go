package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// link is one connection's state machine. Only run's goroutine touches
// its fields; a reader goroutine feeds it frames and a writer goroutine
// is the connection's only writer.
type link struct {
	c   *Client
	cn  conn.Conn
	ctx context.Context
	end context.CancelFunc

	out    chan []byte
	in     chan frameOrErr
	wg     sync.WaitGroup
	nextID uint64
	lastIn time.Time

	device string
	epoch  uint32
	lim    protocol.Limits
	ping   time.Duration

	flights []flight // pushes sent and unanswered, oldest first
	sent    uint64   // highest seq sent (or rewound to)
	pause   time.Time
	stalled error

	subID    uint64
	subUser  string
	part     uint32
	accBytes int64
	changes  *protocol.ChangeSet
	snap     *master.Snapshot
}

type flight struct {
	id          uint64
	first, last uint64
	void        bool // superseded by a rewind: NACK and BUSY for it are ignored
}

type frameOrErr struct {
	f    wire.Frame
	size int
	err  error
}

// outQueue bounds frames waiting for the writer. The link never has more
// than MaxInFlight pushes, one SUB, one PING, a few PONGs and an ERROR
// outstanding, so it never fills; a full queue means a stuck connection.
const outQueue = 32

func newLink(c *Client, cn conn.Conn) *link {
	l := &link{c: c, cn: cn, out: make(chan []byte, outQueue), in: make(chan frameOrErr, 16)}
	l.ctx, l.end = context.WithCancel(context.Background())
	return l
}

func (l *link) stop() {
	l.end()
	_ = l.cn.Close(conn.CloseNormal, "")
	l.wg.Wait()
}

// send queues a frame for the writer and returns its request id.
func (l *link) send(m wire.Message) (uint64, error) {
	l.nextID++
	return l.nextID, l.sendID(l.nextID, m)
}

func (l *link) sendID(id uint64, m wire.Message) error {
	select {
	case l.out <- wire.Encode(id, m):
		return nil
	default:
		return fmt.Errorf("%w: write queue full", ErrProtocol)
	}
}

func (l *link) writer() {
	for {
		select {
		case b := <-l.out:
			if err := l.cn.WriteMessage(l.ctx, b); err != nil {
				l.deliver(frameOrErr{err: err})
				return
			}
		case <-l.ctx.Done():
			return
		}
	}
}

func (l *link) reader() {
	for {
		data, err := l.cn.ReadMessage(l.ctx)
		if err != nil {
			l.deliver(frameOrErr{err: err})
			return
		}
		f, err := wire.Decode(data)
		if err != nil {
			l.deliver(frameOrErr{err: fmt.Errorf("%w: %w", ErrProtocol, err)})
			return
		}
		if !l.deliver(frameOrErr{f: f, size: len(data)}) {
			return
		}
	}
}

func (l *link) deliver(x frameOrErr) bool {
	select {
	case l.in <- x:
		return true
	case <-l.ctx.Done():
		return false
	}
}

// fault sends ERROR{code} and ends the connection with err.
func (l *link) fault(code uint16, err error) error {
	_ = l.sendID(0, &wire.Error{Code: code, Text: err.Error()})
	// Give the writer a moment to flush the ERROR before the close.
	deadline := time.Now().Add(200 * time.Millisecond)
	for len(l.out) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = l.cn.Close(conn.CloseApp+int(code), wire.CodeText(code))
	return err
}

func (l *link) run(ctx context.Context) (welcomed bool, err error) {
	c := l.c
	l.device, l.epoch = c.dev.Identity()
	first, last, err := l.outbox()
	if err != nil {
		return false, err
	}
	cur, err := c.dev.Cursor()
	if err != nil {
		return false, fmt.Errorf("sync: cursor: %w", err)
	}
	l.wg.Go(l.writer)
	l.wg.Go(l.reader)
	hello := &wire.Hello{Version: protocol.Version, Device: l.device, Epoch: l.epoch, OutboxFirst: first, OutboxLast: last,
		Cursor: wire.CursorToWire(cur), Agent: c.cfg.Agent}
	if c.cfg.Clock != nil {
		hello.Clock = uint64(c.cfg.Clock.Now())
	}
	helloID, err := l.send(hello)
	if err != nil {
		return false, err
	}

	// Wait for WELCOME.
	t := time.NewTimer(c.cfg.HelloTimeout)
	defer t.Stop()
	var w *wire.Welcome
	for w == nil {
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
			return false, fmt.Errorf("sync: no WELCOME within %s", c.cfg.HelloTimeout)
		case x := <-l.in:
			if x.err != nil {
				return false, l.readErr(x.err)
			}
			switch m := x.f.Msg.(type) {
			case *wire.Welcome:
				if x.f.ID != helloID {
					return false, l.fault(wire.CodeUnexpected, fmt.Errorf("%w: WELCOME for request %d", ErrProtocol, x.f.ID))
				}
				w = m
			case *wire.Busy:
				return false, &busyError{retry: time.Duration(m.RetryAfterMillis) * time.Millisecond}
			case *wire.Error:
				return false, refusal(m.Code, wire.CodeText(m.Code)+": "+m.Text)
			default:
				return false, l.fault(wire.CodeUnexpected, fmt.Errorf("%w: %s before WELCOME", ErrProtocol, m.Type()))
			}
		}
	}
	l.welcome(w, first, last)
	if err := l.subscribe(); err != nil {
		return true, err
	}
	c.update(func(s *State) {
		s.Online, s.Cluster, s.LastError, s.Refused, s.RetryAt, s.LastSync = true, w.Cluster, "", false, time.Time{}, time.Now()
		if l.stalled != nil {
			s.Problem = l.stalled.Error()
		} else {
			s.Problem = ""
		}
	})
	c.log.Info("sync online", "cluster", w.Cluster, "node", w.Node, "highWater", w.HighWater)
	return true, l.loop(ctx)
}

func (l *link) welcome(w *wire.Welcome, first, last uint64) {
	c := l.c
	l.observe(w.Clock)
	l.lim = protocol.Limits{
		MaxFrame:    min(int(w.MaxFrame), c.cfg.MaxFrame),
		MaxPush:     min(int(w.MaxPush), c.cfg.MaxPush),
		MaxInFlight: min(int(w.MaxInFlight), c.cfg.MaxInFlight),
	}.Clamp()
	l.ping = c.cfg.PingInterval
	if l.ping <= 0 {
		l.ping = time.Duration(w.PingMillis) * time.Millisecond
	}
	if l.ping <= 0 {
		l.ping = 30 * time.Second
	}
	// Resend from the first event the device holds unacknowledged, even
	// if the site has it already: its answer (a duplicate with the
	// original verdict) is how the device learns verdicts of acks lost
	// with the last connection.
	l.sent = first - 1
	switch {
	case w.HighWater > last:
		l.stalled = fmt.Errorf("%w: site high-water %d, outbox ends at %d (epoch %d)", ErrEpochReused, w.HighWater, last, l.epoch)
	case w.HighWater+1 < first:
		l.stalled = fmt.Errorf("%w: site expects seq %d, the outbox starts at %d (epoch %d)", ErrSiteBehind, w.HighWater+1, first, l.epoch)
	}
	if l.stalled != nil {
		c.log.Error("sync pushing stopped", "err", l.stalled)
	}
}

func (l *link) observe(ts uint64) {
	if l.c.cfg.Clock == nil || ts == 0 {
		return
	}
	if _, err := l.c.cfg.Clock.Update(hlc.Timestamp(ts)); err != nil {
		l.c.log.Warn("sync site clock ahead of the device", "err", err)
	}
}

// subscribe sends a SUB from the replica's cursor, superseding any
// earlier one.
func (l *link) subscribe() error {
	cur, err := l.c.dev.Cursor()
	if err != nil {
		return fmt.Errorf("sync: cursor: %w", err)
	}
	l.subUser = l.c.dev.User()
	l.part, l.accBytes, l.changes, l.snap = 0, 0, nil, nil
	l.subID, err = l.send(&wire.Sub{Cursor: wire.CursorToWire(cur), User: l.subUser})
	return err
}

func (l *link) readErr(err error) error {
	var ce *conn.CloseError
	if errors.As(err, &ce) && ce.Code >= conn.CloseApp {
		code := uint16(ce.Code - conn.CloseApp)
		return refusal(code, "closed with "+wire.CodeText(code))
	}
	return err
}

func (l *link) loop(ctx context.Context) error {
	if err := l.pump(); err != nil {
		return err
	}
	l.lastIn = time.Now()
	tick := time.NewTicker(l.ping)
	defer tick.Stop()
	resume := time.NewTimer(time.Hour)
	resume.Stop()
	defer resume.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = l.cn.Close(conn.CloseNormal, "device going offline")
			return nil
		case x := <-l.in:
			if x.err != nil {
				if errors.Is(x.err, ErrProtocol) {
					return l.fault(wire.CodeProtocol, x.err)
				}
				return l.readErr(x.err)
			}
			l.lastIn = time.Now()
			if err := l.handle(x); err != nil {
				return err
			}
			if !l.pause.IsZero() {
				resume.Reset(time.Until(l.pause))
			}
		case <-l.c.notify:
			if l.c.dev.User() != l.subUser {
				if err := l.subscribe(); err != nil {
					return err
				}
			}
			l.c.refreshQueued()
			if err := l.pump(); err != nil {
				return err
			}
		case <-resume.C:
			if err := l.pump(); err != nil {
				return err
			}
		case <-tick.C:
			if time.Since(l.lastIn) > 3*l.ping {
				return l.fault(wire.CodeIdle, fmt.Errorf("sync: nothing from the site for %s", time.Since(l.lastIn).Round(time.Second)))
			}
			var ts uint64
			if l.c.cfg.Clock != nil {
				ts = uint64(l.c.cfg.Clock.Now())
			}
			if _, err := l.send(&wire.Ping{Clock: ts}); err != nil {
				return err
			}
		}
	}
}

func (l *link) handle(x frameOrErr) error {
	switch m := x.f.Msg.(type) {
	case *wire.PushAck:
		return l.onAck(x.f.ID, m)
	case *wire.NackGap:
		return l.onNack(x.f.ID, m)
	case *wire.Busy:
		return l.onBusy(x.f.ID, m)
	case *wire.Changes:
		return l.onChanges(x.f.ID, x.size, m)
	case *wire.Resync:
		return l.onResync(x.f.ID, x.size, m)
	case *wire.Ping:
		l.observe(m.Clock)
		var ts uint64
		if l.c.cfg.Clock != nil {
			ts = uint64(l.c.cfg.Clock.Now())
		}
		_ = l.sendID(x.f.ID, &wire.Pong{Clock: ts})
	case *wire.Pong:
		l.observe(m.Clock)
	case *wire.Error:
		return refusal(m.Code, wire.CodeText(m.Code)+": "+m.Text)
	default:
		return l.fault(wire.CodeUnexpected, fmt.Errorf("%w: %s from the site", ErrProtocol, m.Type()))
	}
	return nil
}

// outbox reads the device's outbox range; seqs start at 1.
func (l *link) outbox() (first, last uint64, err error) {
	first, last, err = l.c.dev.Outbox()
	if err != nil {
		return 0, 0, fmt.Errorf("sync: outbox: %w", err)
	}
	return max(first, 1), last, nil
}

// take removes and returns the flight with request id.
func (l *link) take(id uint64) (flight, bool) {
	for i, f := range l.flights {
		if f.id == id {
			l.flights = append(l.flights[:i], l.flights[i+1:]...)
			return f, true
		}
	}
	return flight{}, false
}

// rewind voids every flight and makes the next push start after seq to.
func (l *link) rewind(to uint64) {
	for i := range l.flights {
		l.flights[i].void = true
	}
	l.sent = to
}

func (l *link) onAck(id uint64, m *wire.PushAck) error {
	f, ok := l.take(id)
	if !ok {
		return l.fault(wire.CodeUnexpected, fmt.Errorf("%w: PUSH_ACK for request %d, not in flight", ErrProtocol, id))
	}
	if m.First != f.first || uint64(len(m.Verdicts)) != f.last-f.first+1 {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: PUSH_ACK for %d+%d answers a push of %d..%d", ErrProtocol, m.First, len(m.Verdicts), f.first, f.last))
	}
	vs, err := wire.VerdictsFromWire(m.First, m.Verdicts)
	if err != nil {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	// Acks are the truth even for a voided flight: the site applied it,
	// and the outbox no longer holds it.
	if err := l.c.dev.Ack(vs); err != nil {
		return fmt.Errorf("sync: recording verdicts: %w", err)
	}
	l.sent = max(l.sent, f.last)
	l.c.refreshQueued()
	l.c.update(func(s *State) { s.LastSync = time.Now() })
	return l.pump()
}

func (l *link) onNack(id uint64, m *wire.NackGap) error {
	f, ok := l.take(id)
	if !ok {
		return l.fault(wire.CodeUnexpected, fmt.Errorf("%w: NACK_GAP for request %d, not in flight", ErrProtocol, id))
	}
	if f.void {
		return l.pump()
	}
	first, _, err := l.outbox()
	if err != nil {
		return err
	}
	if m.Expected < first {
		l.stalled = fmt.Errorf("%w: site expects seq %d, the outbox starts at %d (epoch %d)", ErrSiteBehind, m.Expected, first, l.epoch)
		l.c.log.Error("sync pushing stopped", "err", l.stalled)
		l.c.update(func(s *State) { s.Problem = l.stalled.Error() })
		l.rewind(first - 1)
		return nil
	}
	// Resend from the first unacknowledged event: anything the site has
	// already comes back as a duplicate with its verdict.
	l.c.log.Debug("sync gap, resending", "expected", m.Expected, "from", first)
	l.rewind(first - 1)
	return l.pump()
}

func (l *link) onBusy(id uint64, m *wire.Busy) error {
	f, ok := l.take(id)
	if !ok {
		return l.fault(wire.CodeUnexpected, fmt.Errorf("%w: BUSY for request %d, not in flight", ErrProtocol, id))
	}
	if f.void {
		return l.pump()
	}
	first, _, err := l.outbox()
	if err != nil {
		return err
	}
	wait := time.Duration(m.RetryAfterMillis) * time.Millisecond
	l.pause = time.Now().Add(wait)
	l.c.log.Info("sync site busy, pausing pushes", "retryAfter", wait)
	l.rewind(max(first, f.first) - 1)
	return nil
}

// pump sends pushes while the window allows and the outbox has events.
func (l *link) pump() error {
	if l.stalled != nil {
		return nil
	}
	if !l.pause.IsZero() {
		if time.Now().Before(l.pause) {
			return nil
		}
		l.pause = time.Time{}
	}
	for len(l.flights) < l.lim.MaxInFlight {
		evs, err := l.c.dev.Pending(l.sent, l.lim.MaxPush)
		if err != nil {
			return fmt.Errorf("sync: outbox: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		if err := protocol.CheckPush(l.device, l.epoch, l.sent+1, evs); err != nil {
			l.stalled = fmt.Errorf("%w: %w", ErrOutbox, err)
			l.c.update(func(s *State) { s.Problem = l.stalled.Error() })
			return nil
		}
		p := wire.PushToWire(l.epoch, l.sent+1, evs)
		p.Events = p.Events[:wire.FitPush(&p, l.lim.MaxFrame)]
		if len(p.Events) == 0 {
			l.stalled = fmt.Errorf("%w: event %d does not fit a frame", ErrOutbox, l.sent+1)
			l.c.update(func(s *State) { s.Problem = l.stalled.Error() })
			return nil
		}
		id, err := l.send(&p)
		if err != nil {
			return err
		}
		last := p.First + uint64(len(p.Events)) - 1
		l.flights = append(l.flights, flight{id: id, first: p.First, last: last})
		l.sent = last
	}
	return nil
}

// accumulate checks a feed part's place and size.
func (l *link) accumulate(id uint64, part uint32, size int) (current bool, err error) {
	if id != l.subID {
		return false, nil // answers a superseded SUB
	}
	if part != l.part {
		return false, l.fault(wire.CodeProtocol, fmt.Errorf("%w: part %d, expected %d", ErrProtocol, part, l.part))
	}
	l.part++
	l.accBytes += int64(size)
	if l.accBytes > l.c.cfg.MaxSnapshot {
		return false, l.fault(wire.CodeTooLarge, fmt.Errorf("%w: feed step over %d bytes", ErrProtocol, l.c.cfg.MaxSnapshot))
	}
	return true, nil
}

func (l *link) onChanges(id uint64, size int, m *wire.Changes) error {
	if ok, err := l.accumulate(id, m.Part, size); !ok {
		return err
	}
	if l.snap != nil {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: CHANGES inside a RESYNC", ErrProtocol))
	}
	put, removed, err := wire.RecordsFromWire(&m.Records)
	if err != nil {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	if l.changes == nil {
		l.changes = &protocol.ChangeSet{}
	}
	merge(&l.changes.Put, &put)
	l.changes.Removed = append(l.changes.Removed, removed...)
	if !m.Last {
		return nil
	}
	cs := *l.changes
	cs.To, cs.More = wire.CursorFromWire(m.To), m.More
	if cs.To.IsZero() {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: CHANGES ends with no cursor", ErrProtocol))
	}
	if err := l.c.dev.ApplyChanges(cs); err != nil {
		return fmt.Errorf("sync: applying changes: %w", err)
	}
	l.c.update(func(s *State) { s.LastSync = time.Now() })
	return l.subscribe()
}

func (l *link) onResync(id uint64, size int, m *wire.Resync) error {
	if ok, err := l.accumulate(id, m.Part, size); !ok {
		return err
	}
	if l.changes != nil {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: RESYNC inside CHANGES", ErrProtocol))
	}
	put, removed, err := wire.RecordsFromWire(&m.Records)
	if err == nil && len(removed) > 0 {
		err = errors.New("removals in a snapshot")
	}
	if err != nil {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	if l.snap == nil {
		l.snap = &master.Snapshot{}
	}
	merge(l.snap, &put)
	if !m.Last {
		return nil
	}
	cur := wire.CursorFromWire(m.Cursor)
	if cur.IsZero() {
		return l.fault(wire.CodeProtocol, fmt.Errorf("%w: RESYNC ends with no cursor", ErrProtocol))
	}
	snap := *l.snap
	snap.Cursor = cur.String()
	l.c.log.Info("sync resync", "cursor", snap.Cursor, "units", len(snap.Units))
	if err := l.c.dev.Resync(snap, cur); err != nil {
		return fmt.Errorf("sync: resync: %w", err)
	}
	l.c.update(func(s *State) { s.LastSync = time.Now() })
	return l.subscribe()
}

// merge appends the records of part to s.
func merge(s, part *master.Snapshot) {
	if part.Site.ID != "" {
		s.Site = part.Site
	}
	s.Clients = append(s.Clients, part.Clients...)
	s.Products = append(s.Products, part.Products...)
	s.Locations = append(s.Locations, part.Locations...)
	s.Partners = append(s.Partners, part.Partners...)
	s.Users = append(s.Users, part.Users...)
	s.ASNs = wire.MergeASNs(append(s.ASNs, part.ASNs...))
	s.Orders = append(s.Orders, part.Orders...)
	s.Shipments = append(s.Shipments, part.Shipments...)
	s.Holds = append(s.Holds, part.Holds...)
	s.Units = append(s.Units, part.Units...)
	s.Open = append(s.Open, part.Open...)
	s.SerialModels = append(s.SerialModels, part.SerialModels...)
}

// refusal is the error for a site's ERROR (or application close) with
// code, said as what: ErrRefused, and ErrDenied too for the codes
// reconnecting does not cure.
func refusal(code uint16, what string) error {
	switch code {
	case wire.CodeIdentity, wire.CodeForbidden, wire.CodeVersion:
		return fmt.Errorf("%w: %w: %s", ErrRefused, ErrDenied, what)
	}
	return fmt.Errorf("%w: %s", ErrRefused, what)
}
