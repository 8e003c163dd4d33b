package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// Config tunes sessions. The zero Config is usable.
type Config struct {
	Limits       protocol.Limits // announced in WELCOME and enforced
	Node         string          // this node's name, sent in WELCOME
	HelloTimeout time.Duration   // for the first frame (default 10 s)
	IdleTimeout  time.Duration   // close when nothing arrives this long (default 2 min)
	PingInterval time.Duration   // asked of devices (default 30 s)
	BusyRetry    time.Duration   // retry-after when the site gives none (default 2 s)
	MaxChanges   int             // records asked of Site.Changes at once (default 2000)
	// AdvanceEvery is how often an idle feed still sends an empty
	// CHANGES to move the device's cursor forward (default 1 min).
	AdvanceEvery time.Duration
	// MaxResyncs is how many RESYNCs a Hub's sessions build and send at
	// once (default 2). A resync holds a whole replica in memory until
	// its last part is sent, so a shift's devices starting together take
	// turns; a waiting device keeps working on the replica it has.
	MaxResyncs int
	// TrustHello accepts the device id HELLO claims when the transport
	// authenticated nobody (Peer.Device empty). For tests and demos
	// without mTLS only.
	TrustHello bool
	Logger     *slog.Logger
	// Observer hears what sessions do, for metrics (nil: nobody).
	Observer Observer
}

func (c Config) withDefaults() Config {
	c.Limits = c.Limits.Clamp()
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HelloTimeout, 10*time.Second)
	def(&c.IdleTimeout, 2*time.Minute)
	def(&c.PingInterval, 30*time.Second)
	def(&c.BusyRetry, 2*time.Second)
	def(&c.AdvanceEvery, time.Minute)
	if c.MaxChanges <= 0 {
		c.MaxChanges = 2000
	}
	if c.MaxResyncs <= 0 {
		c.MaxResyncs = 2
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	return c
}

// Info describes a live session, for the console.
type Info struct {
	Device    string
	Epoch     uint32
	Addr      string
	Since     time.Time
	LastFrame time.Time
	Events    uint64 // events acknowledged on this connection
}

// Session serves one device connection. Create it with New (or let a Hub
// do it) and run Serve.
type Session struct {
	c    conn.Conn
	site Site
	cfg  Config
	log  *slog.Logger
	hub  *Hub

	since    time.Time
	lastRecv atomic.Int64 // unix nanoseconds
	acked    atomic.Uint64

	mu     sync.Mutex // guards device, epoch
	device string
	epoch  uint32

	ctx    context.Context
	cancel context.CancelFunc

	opened  bool        // HELLO admitted (written before the pusher and feeder start)
	busy    atomic.Bool // answered BUSY and closed
	endOnce sync.Once
	endCode uint16
	endText string
	endErr  error

	ctrl     chan []byte // answers: WELCOME, acks, NACK, BUSY, PONG
	bulk     chan []byte // CHANGES and RESYNC parts
	pushes   chan pushReq
	inflight atomic.Int32
	subs     chan subReq
	subMu    sync.Mutex
	subStop  context.CancelFunc
}

type pushReq struct {
	id    uint64
	first uint64
	evs   []event.Event
	read  time.Time // when the PUSH was read
}

type subReq struct {
	id   uint64
	cur  protocol.Cursor
	user string
	ctx  context.Context
}

// New returns a session for c.
func New(c conn.Conn, site Site, cfg Config) *Session {
	cfg = cfg.withDefaults()
	s := &Session{
		c: c, site: site, cfg: cfg, since: time.Now(),
		ctrl:   make(chan []byte, 2*cfg.Limits.MaxInFlight+8),
		bulk:   make(chan []byte, 2),
		pushes: make(chan pushReq, cfg.Limits.MaxInFlight),
		subs:   make(chan subReq, 1),
	}
	s.log = cfg.Logger.With("peer", c.Peer().Addr)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.lastRecv.Store(time.Now().UnixNano())
	return s
}

// Info reports the session's state.
func (s *Session) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{Device: s.device, Epoch: s.epoch, Addr: s.c.Peer().Addr, Since: s.since,
		LastFrame: time.Unix(0, s.lastRecv.Load()), Events: s.acked.Load()}
}

// Close ends the session: the device gets ERROR{code, text} and a close
// with 4000+code. Serve returns soon after.
func (s *Session) Close(code uint16, text string) { s.fail(code, text, nil) }

// fail ends the session once; later calls do nothing. code 0 ends it
// without an ERROR frame (the peer went away or ctx ended).
func (s *Session) fail(code uint16, text string, err error) {
	s.endOnce.Do(func() {
		s.endCode, s.endText, s.endErr = code, text, err
		s.cancel()
	})
}

// Serve runs the session until the connection ends, the session fails or
// ctx ends. It returns nil when the device or ctx ended it, and an error
// wrapping ErrFault when the session closed on a fault.
func (s *Session) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.fail(0, "", nil) })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(s.writer)
	if s.hello() {
		wg.Go(s.pusher)
		wg.Go(s.feeder)
		s.reader()
	}
	s.fail(0, "", nil)
	wg.Wait()
	if s.hub != nil {
		s.hub.remove(s)
	}
	switch code := s.endCode; {
	case s.opened:
		s.cfg.Observer.Ended(code)
	default:
		s.cfg.Observer.Refused(code, s.busy.Load())
	}
	switch {
	case s.endErr != nil:
		return s.endErr
	case s.endCode == wire.CodeShutdown:
		return ErrShutdown
	case s.endCode != 0:
		return fmt.Errorf("%w: %s: %s", ErrFault, wire.CodeText(s.endCode), s.endText)
	}
	return nil
}

// read reads one frame, with the idle (or hello) timeout.
func (s *Session) read(timeout time.Duration) (wire.Frame, bool) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	data, err := s.c.ReadMessage(ctx)
	cancel()
	if err != nil {
		var ce *conn.CloseError
		switch {
		case s.ctx.Err() != nil:
		case errors.Is(err, context.DeadlineExceeded):
			s.fail(wire.CodeIdle, fmt.Sprintf("nothing received for %s", timeout), nil)
		case errors.Is(err, conn.ErrTooLarge):
			s.log.Warn("sync frame over the limit", "device", s.Info().Device, "limit", s.cfg.Limits.MaxFrame)
			s.fail(wire.CodeTooLarge, fmt.Sprintf("frame over %d bytes", s.cfg.Limits.MaxFrame), nil)
		case errors.Is(err, conn.ErrNotBinary):
			s.fail(wire.CodeProtocol, "text frame: the protocol is binary", nil)
		case errors.As(err, &ce):
			s.log.Debug("sync peer closed", "code", ce.Code, "reason", ce.Reason)
			s.fail(0, "", nil)
		default:
			s.log.Debug("sync read failed", "err", err)
			s.fail(0, "", nil)
		}
		return wire.Frame{}, false
	}
	s.lastRecv.Store(time.Now().UnixNano())
	if len(data) > s.cfg.Limits.MaxFrame {
		s.fail(wire.CodeTooLarge, fmt.Sprintf("frame of %d bytes, limit %d", len(data), s.cfg.Limits.MaxFrame), nil)
		return wire.Frame{}, false
	}
	f, err := wire.Decode(data)
	if err != nil {
		code := wire.CodeProtocol
		switch {
		case errors.Is(err, wire.ErrUnknownType):
			code = wire.CodeUnknown
		case errors.Is(err, wire.ErrVersion):
			code = wire.CodeVersion
		}
		s.log.Warn("sync frame refused", "device", s.Info().Device, "err", err)
		s.fail(code, err.Error(), nil)
		return wire.Frame{}, false
	}
	return f, true
}

// hello runs the opening exchange and reports whether the session is
// admitted.
func (s *Session) hello() bool {
	f, ok := s.read(s.cfg.HelloTimeout)
	if !ok {
		return false
	}
	h, isHello := f.Msg.(*wire.Hello)
	switch {
	case !isHello:
		s.fail(wire.CodeUnexpected, fmt.Sprintf("%s before HELLO", f.Msg.Type()), nil)
		return false
	case h.Version != protocol.Version:
		s.fail(wire.CodeVersion, fmt.Sprintf("protocol version %d, the site speaks %d", h.Version, protocol.Version), nil)
		return false
	case h.Device == "":
		s.fail(wire.CodeIdentity, "HELLO names no device", nil)
		return false
	}
	peer := s.c.Peer()
	switch {
	case peer.Device != "" && peer.Device != h.Device:
		s.fail(wire.CodeIdentity, fmt.Sprintf("HELLO claims device %s, the certificate is %s", h.Device, peer.Device), nil)
		return false
	case peer.Device == "" && !s.cfg.TrustHello:
		s.fail(wire.CodeIdentity, "no client certificate", nil)
		return false
	}
	s.mu.Lock()
	s.device, s.epoch = h.Device, h.Epoch
	s.mu.Unlock()
	s.log = s.log.With("device", h.Device, "epoch", h.Epoch)
	if s.hub != nil {
		if retry, err := s.hub.admit(s); err != nil {
			if errors.Is(err, ErrShutdown) {
				s.fail(wire.CodeShutdown, "server shutting down", nil)
				return false
			}
			s.busy.Store(true)
			s.send(s.ctrl, f.ID, &wire.Busy{RetryAfterMillis: millis(retry)})
			s.fail(0, "", nil)
			return false
		}
	}
	hw, err := s.site.HighWater(s.ctx, h.Device, h.Epoch)
	if err != nil {
		s.siteFailed(f.ID, "high-water mark", err)
		return false
	}
	lim := s.cfg.Limits
	s.send(s.ctrl, f.ID, &wire.Welcome{
		Cluster: s.site.ClusterID(), Node: s.cfg.Node, Clock: uint64(s.site.Now()), HighWater: hw,
		MaxFrame: uint32(lim.MaxFrame), MaxPush: uint32(lim.MaxPush), MaxInFlight: uint32(lim.MaxInFlight),
		PingMillis: millis(s.cfg.PingInterval),
	})
	s.opened = true
	s.cfg.Observer.Opened()
	s.log.Info("sync session open", "highWater", hw, "outboxFirst", h.OutboxFirst, "outboxLast", h.OutboxLast, "agent", h.Agent)
	return true
}

func millis(d time.Duration) uint32 {
	return uint32(min(max(d.Milliseconds(), 0), 1<<32-1))
}

// siteFailed answers a site error on request id: BUSY for overload,
// ERROR forbidden or internal otherwise. It reports whether the session
// goes on (only after BUSY for a push).
func (s *Session) siteFailed(id uint64, what string, err error) {
	var be *protocol.BusyError
	switch {
	case errors.As(err, &be):
		s.busy.Store(true)
		s.send(s.ctrl, id, &wire.Busy{RetryAfterMillis: millis(be.RetryAfter)})
		s.fail(0, "", nil)
	case errors.Is(err, protocol.ErrBusy):
		s.busy.Store(true)
		s.send(s.ctrl, id, &wire.Busy{RetryAfterMillis: millis(s.cfg.BusyRetry)})
		s.fail(0, "", nil)
	case errors.Is(err, protocol.ErrForbidden):
		s.fail(wire.CodeForbidden, err.Error(), nil)
	case s.ctx.Err() != nil:
	default:
		s.log.Error("sync site call failed", "call", what, "err", err)
		s.fail(wire.CodeInternal, what+" failed", nil)
	}
}

// send queues a frame; it gives up when the session ends.
func (s *Session) send(q chan []byte, id uint64, m wire.Message) bool {
	select {
	case q <- wire.Encode(id, m):
		return true
	case <-s.ctx.Done():
		return false
	}
}

// writer is the connection's only writer. Answers go before bulk parts.
// When the session ends it sends the ERROR, if any, and closes.
func (s *Session) writer() {
	// Writes outlive the session's context by a grace period, so that an
	// answer queued just before the end (BUSY, say) still goes out.
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	stop := context.AfterFunc(s.ctx, func() { time.AfterFunc(time.Second, wcancel) })
	defer stop()
	write := func(b []byte) bool {
		if err := s.c.WriteMessage(wctx, b); err != nil {
			if s.ctx.Err() == nil {
				s.cfg.Logger.Debug("sync write failed", "peer", s.c.Peer().Addr, "err", err)
			}
			s.fail(0, "", nil)
			return false
		}
		return true
	}
	for {
		select {
		case b := <-s.ctrl:
			if !write(b) {
				goto done
			}
			continue
		default:
		}
		select {
		case b := <-s.ctrl:
			if !write(b) {
				goto done
			}
		case b := <-s.bulk:
			if !write(b) {
				goto done
			}
		case <-s.ctx.Done():
			goto done
		}
	}
done:
	// Flush answers already queued (a BUSY for a HELLO, say), then the
	// ERROR.
	ctx := wctx
	for {
		select {
		case b := <-s.ctrl:
			if s.c.WriteMessage(ctx, b) == nil {
				continue
			}
		default:
		}
		break
	}
	if s.endCode != 0 {
		_ = s.c.WriteMessage(ctx, wire.Encode(0, &wire.Error{Code: s.endCode, Text: s.endText}))
		_ = s.c.Close(conn.CloseApp+int(s.endCode), wire.CodeText(s.endCode))
		return
	}
	_ = s.c.Close(conn.CloseNormal, "")
}

// reader reads frames until the session ends and dispatches them.
func (s *Session) reader() {
	for s.ctx.Err() == nil {
		f, ok := s.read(s.cfg.IdleTimeout)
		if !ok {
			return
		}
		switch m := f.Msg.(type) {
		case *wire.Push:
			s.onPush(f.ID, m)
		case *wire.Sub:
			s.onSub(f.ID, m)
		case *wire.Ping:
			// A PONG is dropped rather than blocking the reader when
			// answers pile up: the device pings again.
			select {
			case s.ctrl <- wire.Encode(f.ID, &wire.Pong{Clock: uint64(s.site.Now())}):
			default:
			}
		case *wire.Pong:
		case *wire.Error:
			s.log.Info("sync device reported an error", "code", m.Code, "text", m.Text)
			s.fail(0, "", nil)
		default:
			s.fail(wire.CodeUnexpected, fmt.Sprintf("%s not allowed after HELLO", m.Type()), nil)
		}
	}
}

func (s *Session) onPush(id uint64, m *wire.Push) {
	lim := s.cfg.Limits
	if n := s.inflight.Add(1); int(n) > lim.MaxInFlight {
		s.fail(wire.CodeFlow, fmt.Sprintf("more than %d pushes in flight", lim.MaxInFlight), nil)
		return
	}
	switch {
	case len(m.Events) == 0:
		s.fail(wire.CodeProtocol, "empty PUSH", nil)
		return
	case len(m.Events) > lim.MaxPush:
		s.fail(wire.CodeFlow, fmt.Sprintf("PUSH of %d events, limit %d", len(m.Events), lim.MaxPush), nil)
		return
	case m.Epoch != s.epoch:
		s.fail(wire.CodeIdentity, fmt.Sprintf("PUSH for epoch %d in a session of epoch %d", m.Epoch, s.epoch), nil)
		return
	case m.First == 0:
		s.fail(wire.CodeProtocol, "PUSH from seq 0: sequences start at 1", nil)
		return
	}
	evs, err := wire.PushFromWire(m)
	if err != nil {
		s.fail(wire.CodeProtocol, err.Error(), nil)
		return
	}
	if err := protocol.CheckPush(s.device, s.epoch, m.First, evs); err != nil {
		s.fail(wire.CodeIdentity, err.Error(), nil)
		return
	}
	// An event the site's log cannot carry (event.Admit: over the event
	// limits) cannot take its place in the device's sequence, so it
	// cannot be answered "rejected" either: the push is refused whole.
	// An event within the limits that breaks a rule is proposed and
	// answered "rejected". A handheld validates before it writes an
	// event, so only a faulty device meets this.
	for i := range evs {
		if err := evs[i].Admit(); err != nil {
			s.fail(wire.CodeTooLarge, fmt.Sprintf("event %d of the push is over the event limits: %v", evs[i].Seq, err), nil)
			return
		}
	}
	// Never blocks: inflight bounds what is queued to the channel's size.
	s.pushes <- pushReq{id: id, first: m.First, evs: evs, read: time.Now()}
}

// pusher submits pushes one at a time, in arrival order, and answers
// each only after the site returns, which is after commit and apply.
func (s *Session) pusher() {
	var next uint64 // lowest seq the site may be missing; 0: ask the site
	for {
		var p pushReq
		select {
		case p = <-s.pushes:
		case <-s.ctx.Done():
			return
		}
		last := p.first + uint64(len(p.evs)) - 1
		if next != 0 && p.first > next {
			s.inflight.Add(-1)
			s.cfg.Observer.Gap()
			s.send(s.ctrl, p.id, &wire.NackGap{Epoch: s.epoch, Expected: next})
			continue
		}
		vs, err := s.site.Submit(s.ctx, s.device, s.epoch, p.evs)
		var gap *protocol.GapError
		switch {
		case errors.As(err, &gap):
			next = gap.Expected
			s.inflight.Add(-1)
			s.cfg.Observer.Gap()
			s.send(s.ctrl, p.id, &wire.NackGap{Epoch: s.epoch, Expected: gap.Expected})
			continue
		case errors.Is(err, protocol.ErrBusy):
			retry := s.cfg.BusyRetry
			var be *protocol.BusyError
			if errors.As(err, &be) && be.RetryAfter > 0 {
				retry = be.RetryAfter
			}
			s.inflight.Add(-1)
			s.cfg.Observer.Busy()
			s.send(s.ctrl, p.id, &wire.Busy{RetryAfterMillis: millis(retry)})
			continue
		case err != nil:
			s.siteFailed(p.id, "submit", err)
			return
		case len(vs) != len(p.evs):
			s.log.Error("sync site returned the wrong number of verdicts", "events", len(p.evs), "verdicts", len(vs))
			s.fail(wire.CodeInternal, "submit returned a verdict count unlike the push's", nil)
			return
		}
		next = max(next, last+1)
		s.acked.Add(uint64(len(vs)))
		s.inflight.Add(-1)
		s.cfg.Observer.Acked(vs, time.Since(p.read))
		s.send(s.ctrl, p.id, &wire.PushAck{Epoch: s.epoch, First: p.first, Verdicts: wire.VerdictsToWire(vs)})
	}
}

// onSub hands a SUB to the feeder, superseding any SUB it is serving.
func (s *Session) onSub(id uint64, m *wire.Sub) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.subStop != nil {
		s.subStop()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.subStop = cancel
	select {
	case <-s.subs:
	default:
	}
	s.subs <- subReq{id: id, cur: wire.CursorFromWire(m.Cursor), user: m.User, ctx: ctx}
}

// feeder answers SUBs: CHANGES after the cursor (waiting for some when
// there is nothing yet) or, when the cursor cannot be served, RESYNC.
// One answer per SUB: the device's next SUB is its acknowledgement.
func (s *Session) feeder() {
	for {
		var sub subReq
		select {
		case sub = <-s.subs:
		case <-s.ctx.Done():
			return
		}
		if err := s.serveSub(sub); err != nil && sub.ctx.Err() == nil {
			s.siteFailed(sub.id, "feed", err)
			return
		}
	}
}

func (s *Session) serveSub(sub subReq) error {
	cluster := s.site.ClusterID()
	switch {
	case sub.cur.IsZero():
		return s.resync(sub, wire.ResyncNoCursor)
	case sub.cur.Cluster != cluster:
		return s.resync(sub, wire.ResyncOtherCluster)
	}
	pos, lastSent := sub.cur, time.Now()
	for {
		cs, err := s.site.Changes(sub.ctx, s.device, sub.user, pos, s.cfg.MaxChanges)
		if errors.Is(err, protocol.ErrCursorTooOld) {
			return s.resync(sub, wire.ResyncTooOld)
		}
		if err != nil {
			return err
		}
		if cs.To.IsZero() {
			cs.To = pos
		}
		advanced := cs.To != sub.cur && time.Since(lastSent) >= s.cfg.AdvanceEvery
		if cs.Len() > 0 || cs.More || advanced {
			return s.sendChanges(sub, cs)
		}
		pos = cs.To
		if err := s.site.Wait(sub.ctx, pos); err != nil {
			if sub.ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// budget is what a part's records may take: the frame less the envelope
// and the part's own fields.
func (s *Session) budget(cur protocol.Cursor) int {
	return s.cfg.Limits.MaxFrame - wire.HeaderMax - len(cur.Cluster) - 48
}

func (s *Session) sendChanges(sub subReq, cs protocol.ChangeSet) error {
	recs := wire.RecordsToWire(&cs.Put, cs.Removed)
	parts, err := recs.Split(s.budget(cs.To))
	if err != nil {
		return fmt.Errorf("change set: %w", err)
	}
	for i, p := range parts {
		last := i == len(parts)-1
		m := &wire.Changes{Part: uint32(i), Last: last, More: cs.More && last, Records: p}
		if last {
			m.To = wire.CursorToWire(cs.To)
		}
		if !s.sendPart(sub, m) {
			return nil
		}
	}
	s.cfg.Observer.Fed(false, cs.Len())
	return nil
}

func (s *Session) resync(sub subReq, reason uint8) error {
	if s.hub != nil {
		select {
		case s.hub.resyncs <- struct{}{}:
			defer func() { <-s.hub.resyncs }()
		case <-sub.ctx.Done():
			return nil
		}
	}
	snap, cur, err := s.site.Snapshot(sub.ctx, s.device, sub.user)
	if err != nil {
		return err
	}
	recs := wire.RecordsToWire(&snap, nil)
	parts, err := recs.Split(s.budget(cur))
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	s.log.Info("sync resync", "reason", reason, "parts", len(parts), "cursor", cur.String())
	for i, p := range parts {
		last := i == len(parts)-1
		m := &wire.Resync{Reason: reason, Part: uint32(i), Last: last, Records: p}
		if last {
			m.Cursor = wire.CursorToWire(cur)
		}
		if !s.sendPart(sub, m) {
			return nil
		}
	}
	s.cfg.Observer.Fed(true, recs.Len())
	return nil
}

func (s *Session) sendPart(sub subReq, m wire.Message) bool {
	select {
	case s.bulk <- wire.Encode(sub.id, m):
		return true
	case <-sub.ctx.Done():
		return false
	}
}
