package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

type sim struct {
	o      options
	log    *slog.Logger
	out    io.Writer
	outMu  sync.Mutex
	site   *site
	plan   *plan
	hh     []*handheld
	rng    *rand.Rand
	rngMu  sync.Mutex
	rounds atomic.Int32
	start  time.Time
}

func newSim(o options, log *slog.Logger, out io.Writer) (*sim, error) {
	start := time.Now()
	pl, err := newPlan(o, start)
	if err != nil {
		return nil, err
	}
	return &sim{o: o, log: log, out: out, site: newSite(o.servers, o.user), plan: pl,
		rng: rand.New(rand.NewPCG(uint64(o.seed), 0x73696d)), start: start}, nil
}

func (s *sim) printf(format string, a ...any) {
	line := fmt.Sprintf("%6.1fs  %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, a...))
	s.outMu.Lock()
	defer s.outMu.Unlock()
	_, _ = io.WriteString(s.out, line)
}

func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + syncsite.Path
}

func (s *sim) run(ctx context.Context) (*report, error) {
	pl := s.plan
	if err := pl.load(ctx, s.site, s.printf); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var urls []string
	for _, b := range s.o.servers {
		urls = append(urls, wsURL(b))
	}
	for d := range s.o.devices {
		h, err := openHandheld(d, pl.deviceID(d), s.o.dir, urls, pl.user, s.log)
		if err != nil {
			return nil, err
		}
		s.hh = append(s.hh, h)
		h.setOffline(0, false)
	}
	defer func() {
		for _, h := range s.hh {
			h.close()
		}
	}()
	if err := s.setup(ctx); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}

	// The working phase.
	wctx, cancel := context.WithTimeout(ctx, s.o.duration)
	defer cancel()
	var wg sync.WaitGroup
	for d, h := range s.hh {
		wg.Go(func() { s.work(wctx, h, pl.work[d]) })
		wg.Go(func() { s.window(wctx, h) })
	}
	wg.Go(func() { s.conflicts(wctx) })
	wg.Go(func() { s.progress(wctx) })
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.printf("work done: every device goes online and drains its outbox")
	for _, h := range s.hh {
		h.setOffline(offWindow|offConflict, false)
	}
	if err := s.drain(ctx); err != nil {
		s.printf("drain: %v", err)
	}
	return s.check(ctx)
}

// setup signs every device in, receives the conflict units on device 0
// and picks the units of hold-vs-ship conflicts, and waits until every
// replica sees them.
func (s *sim) setup(ctx context.Context) error {
	pl := s.plan
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(s.hh))
	for i, h := range s.hh {
		wg.Go(func() { errs[i] = h.signIn(sctx, pl.pin) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	s.printf("%d devices signed in as %s", len(s.hh), pl.user)
	if len(pl.conflicts) == 0 {
		return nil
	}
	h0 := s.hh[0]
	if err := waitUntil(sctx, "device 0 to learn the conflict ASN", func() bool {
		return h0.unit(pl.conflicts[0].unit).Status == unit.StatusExpected
	}); err != nil {
		return err
	}
	for _, c := range pl.conflicts {
		st, err := h0.scan("receive "+pl.confASN, func() (engine.Step, error) { return h0.eng.StartReceive(pl.confASN) },
			demo.KeyScan(c.unit, pl.lot, pl.expiry))
		if err != nil {
			return err
		}
		if st.Verdict == engine.Refused {
			return fmt.Errorf("receiving %s: %s", c.unit, st.Reason)
		}
	}
	for _, c := range pl.conflicts {
		if c.kind != holdVsShip {
			continue
		}
		a := s.hh[c.a]
		if err := waitUntil(sctx, "the conflict unit in stock on its device", func() bool {
			return a.unit(c.unit).Status == unit.StatusInStock
		}); err != nil {
			return err
		}
		st, err := a.scan("pick "+c.orderA, func() (engine.Step, error) { return a.eng.StartPick(c.orderA) },
			demo.KeyScan(c.unit, pl.lot, pl.expiry))
		if err != nil {
			return err
		}
		if st.Verdict == engine.Refused {
			return fmt.Errorf("picking %s: %s", c.unit, st.Reason)
		}
	}
	if err := s.drain(sctx); err != nil {
		return err
	}
	return waitUntil(sctx, "every replica to see the conflict units", func() bool {
		for _, c := range pl.conflicts {
			want := unit.StatusInStock
			if c.kind == holdVsShip {
				want = unit.StatusPicked
			}
			for _, d := range []int{c.a, c.b} {
				if s.hh[d].unit(c.unit).Status != want {
					return false
				}
			}
		}
		return true
	})
}

func waitUntil(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// drain waits until every outbox is empty.
func (s *sim) drain(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return waitUntil(dctx, "every outbox to drain", func() bool {
		for _, h := range s.hh {
			r, err := h.outbox()
			if err != nil || r.Pending > 0 {
				return false
			}
		}
		return true
	})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// work is one device's shift: receive its case, then pick two units per
// order, pack them into a new container and ship it; every fourth order
// a unit goes on hold.
func (s *sim) work(ctx context.Context, h *handheld, w workPlan) {
	pl := s.plan
	do := func(mode func() string, start func() (engine.Step, error), raw []byte) engine.Step {
		if !sleep(ctx, s.o.pace) {
			return engine.Step{Verdict: engine.Refused}
		}
		h.work.Lock()
		defer h.work.Unlock()
		m := mode()
		st, err := h.scan(m, start, raw)
		if err != nil {
			s.log.Warn("scan failed", "device", h.id, "mode", m, "err", err)
			return engine.Step{Verdict: engine.Refused}
		}
		if st.Verdict == engine.Refused {
			s.log.Info("scan refused", "device", h.id, "mode", m, "reason", st.Reason)
		}
		return st
	}
	fixed := func(m string) func() string { return func() string { return m } }
	scanOf := func(k event.Key) []byte { return demo.KeyScan(k, pl.lot, pl.expiry) }

	_ = waitUntil(ctx, "the device's ASN", func() bool { return h.unit(w.caseKey).Known() })
	do(fixed("receive "+w.asn), func() (engine.Step, error) { return h.eng.StartReceive(w.asn) }, demo.KeyScan(w.caseKey, "", ""))
	s.closeShort(ctx, h, w)
	next := 0
	for k := range w.orders {
		if ctx.Err() != nil {
			return
		}
		var picked []event.Key
		for len(picked) < 2 && next < len(w.units) && ctx.Err() == nil {
			u := w.units[next]
			next++
			st := do(fixed("pick "+w.orders[k]), func() (engine.Step, error) { return h.eng.StartPick(w.orders[k]) }, scanOf(u))
			if st.Verdict != engine.Refused {
				picked = append(picked, u)
			}
		}
		if len(picked) == 0 {
			return
		}
		var box event.Key
		packMode := func() string { return "pack " + string(box) }
		packStart := func() (engine.Step, error) {
			if box != "" {
				if st, err := h.eng.PackInto(box); err != nil || st.Verdict != engine.Refused {
					return st, err
				}
			}
			st, err := h.eng.NewContainer()
			if err == nil && st.Verdict != engine.Refused {
				box = st.Container
			}
			return st, err
		}
		packed := 0
		for _, u := range picked {
			if st := do(packMode, packStart, scanOf(u)); st.Verdict != engine.Refused {
				packed++
			}
		}
		if packed > 0 && box != "" {
			do(fixed("ship "+w.shipments[k]), func() (engine.Step, error) { return h.eng.StartShip(w.shipments[k], "") },
				demo.KeyScan(box, "", ""))
		}
		if k%4 == 3 && next < len(w.units) {
			u := w.units[next]
			next++
			do(fixed("hold"), func() (engine.Step, error) { return h.eng.StartHold("damaged", "dented box"), nil }, scanOf(u))
		}
	}
}

// window takes the device offline once, for the --offline fraction of
// the run, at a random time.
func (s *sim) window(ctx context.Context, h *handheld) {
	if s.o.offline <= 0 {
		return
	}
	length := time.Duration(float64(s.o.duration) * s.o.offline)
	slack := s.o.duration - length - s.o.duration/10
	var at time.Duration
	if slack > 0 {
		at = s.o.duration/20 + time.Duration(s.rngInt64N(int64(slack)))
	}
	if !sleep(ctx, at) {
		return
	}
	h.setOffline(offWindow, true)
	sleep(ctx, length)
	h.setOffline(offWindow, false)
}

func (s *sim) rngInt64N(n int64) int64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Int64N(n)
}

// conflicts runs the conflict rounds spread over the first two thirds
// of the run: both devices of each conflict go offline, act on the same
// unit, and come back one after the other.
func (s *sim) conflicts(ctx context.Context) {
	rounds := s.plan.rounds()
	if len(rounds) == 0 {
		return
	}
	gap := s.o.duration * 2 / 3 / time.Duration(len(rounds)+1)
	for _, round := range rounds {
		if !sleep(ctx, gap) {
			return
		}
		s.round(ctx, round)
		s.rounds.Add(1)
	}
}

func (s *sim) round(ctx context.Context, round []conflict) {
	pl := s.plan
	var devs []int
	for _, c := range round {
		devs = append(devs, c.a, c.b)
	}
	slices.Sort(devs)
	for _, d := range devs {
		s.hh[d].work.Lock()
	}
	defer func() {
		for _, d := range devs {
			s.hh[d].work.Unlock()
		}
	}()
	for _, d := range devs {
		s.hh[d].setOffline(offConflict, true)
	}
	scanU := func(c conflict) []byte { return demo.KeyScan(c.unit, pl.lot, pl.expiry) }
	act := func(c conflict, first bool) {
		h, kind := s.hh[c.a], "a"
		isA := first != c.bFirst
		if !isA {
			h, kind = s.hh[c.b], "b"
		}
		var st engine.Step
		var err error
		switch {
		case isA && c.kind == holdVsShip:
			st, err = h.scan("ship "+c.ship, func() (engine.Step, error) { return h.eng.StartShip(c.ship, "") }, scanU(c))
		case isA:
			st, err = h.scan("pick "+c.orderA, func() (engine.Step, error) { return h.eng.StartPick(c.orderA) }, scanU(c))
		case c.kind == doublePick:
			st, err = h.scan("pick "+c.orderB, func() (engine.Step, error) { return h.eng.StartPick(c.orderB) }, scanU(c))
		default:
			st, err = h.scan("hold", func() (engine.Step, error) { return h.eng.StartHold("investigation", "conflict"), nil }, scanU(c))
		}
		if err != nil || st.Verdict == engine.Refused {
			s.log.Warn("conflict step refused", "conflict", c.n, "kind", c.kind, "device", kind, "reason", st.Reason, "err", err)
		}
	}
	for _, c := range round {
		act(c, true)
		act(c, false)
	}
	// The first actors come back and push; then the second.
	firsts := func(first bool) []*handheld {
		var out []*handheld
		for _, c := range round {
			if first != c.bFirst {
				out = append(out, s.hh[c.a])
			} else {
				out = append(out, s.hh[c.b])
			}
		}
		return out
	}
	for _, first := range []bool{true, false} {
		hs := firsts(first)
		for _, h := range hs {
			h.setOffline(offConflict, false)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = waitUntil(wctx, "the first actors to push", func() bool {
			for _, h := range hs {
				h.mu.Lock()
				off := h.reasons != 0
				h.mu.Unlock()
				if r, err := h.outbox(); !off && (err != nil || r.Pending > 0) {
					return false
				}
			}
			return true
		})
		cancel()
	}
	s.printf("conflict round: %d conflicts made offline and pushed", len(round))
}

// progress prints a line every few seconds from the device stores.
func (s *sim) progress(ctx context.Context) {
	every := max(s.o.duration/12, 2*time.Second)
	for sleep(ctx, every) {
		var written, acked uint64
		online, refused := 0, int64(0)
		for _, h := range s.hh {
			if r, err := h.outbox(); err == nil {
				written += r.Last
				acked += r.Acked
			}
			if h.online() {
				online++
			}
			refused += h.refusals.Load()
		}
		s.printf("online %d/%d  events %d  acked %d  refused scans %d  conflict rounds %d/%d",
			online, len(s.hh), written, acked, refused, s.rounds.Load(), len(s.plan.rounds()))
	}
}

// closeShort closes the device's ASN with its loose unit never received:
// the device raises a SHORTAGE, and the site the same one when the close
// arrives, whatever the offline windows and leader changes in between.
func (s *sim) closeShort(ctx context.Context, h *handheld, w workPlan) {
	if !sleep(ctx, s.o.pace) {
		return
	}
	h.work.Lock()
	defer h.work.Unlock()
	if h.eng.Mode() != "receive "+w.asn {
		if st, err := h.eng.StartReceive(w.asn); err != nil || st.Verdict == engine.Refused {
			s.log.Warn("close: receive refused", "device", h.id, "reason", st.Reason, "err", err)
			return
		}
	}
	st, err := h.eng.Close()
	if err != nil || st.Verdict == engine.Refused {
		s.log.Warn("close refused", "device", h.id, "reason", st.Reason, "err", err)
	}
}
