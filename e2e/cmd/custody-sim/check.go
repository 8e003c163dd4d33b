package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// report is the run's result, every figure read back from the cluster
// and the device stores.
type report struct {
	Devices         int  `json:"devices"`
	Events          int  `json:"events"`
	Acked           int  `json:"acked"`
	Lost            int  `json:"lost"`
	Duplicated      int  `json:"duplicated"`
	ConflictsMade   int  `json:"conflicts_made"`
	ExceptionsFound int  `json:"exceptions_found"`
	ExceptionsWrong int  `json:"exceptions_wrong"`
	Shortages       int  `json:"shortages"` // SHORTAGE exceptions of the devices' closes, one each
	ReplicasAgree   bool `json:"replicas_agree"`
	Consistent      bool `json:"consistent"`
}

func (r *report) json() string {
	b, _ := json.Marshal(r)
	return string(b)
}

type deviceMark struct {
	Device string `json:"device"`
	Epoch  uint32 `json:"epoch"`
	Seq    uint64 `json:"seq"`
}

type record struct {
	Event event.Event `json:"event"`
	Index uint64      `json:"index"`
}

type unitView struct {
	Unit    unit.State `json:"unit"`
	History []record   `json:"history"`
}

type clusterStatus struct {
	Leader string `json:"leader"`
	Nodes  []struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Applied uint64 `json:"applied"`
		Hash    string `json:"hash"`
	} `json:"nodes"`
}

// ownEvents lists the events a device wrote, from its store: every
// unit's local history, kept across resyncs.
func ownEvents(h *handheld) (map[event.ID]event.Event, error) {
	out := map[event.ID]event.Event{}
	err := h.st.View(func(tx *store.Tx) error {
		var keys []event.Key
		if err := tx.EachUnit(func(s unit.State) error { keys = append(keys, s.Key); return nil }); err != nil {
			return err
		}
		for _, k := range keys {
			evs, err := tx.History(k, 0)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if e.Device == h.id {
					out[e.ID] = e
				}
			}
		}
		return nil
	})
	return out, err
}

func (s *sim) check(ctx context.Context) (*report, error) {
	pl := s.plan
	rep := &report{Devices: len(s.hh), ReplicasAgree: true}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	// Wait until every replica reflects the cluster's last entry.
	var st clusterStatus
	if err := s.site.get(cctx, "/api/v1/cluster/status", &st); err != nil {
		return nil, err
	}
	var head uint64
	for _, n := range st.Nodes {
		head = max(head, n.Applied)
	}
	if err := waitUntil(cctx, "every replica to catch up", func() bool {
		for _, h := range s.hh {
			c, err := h.dev.Cursor()
			if err != nil || c.Index < head {
				return false
			}
		}
		return true
	}); err != nil {
		s.printf("%v", err)
		rep.ReplicasAgree = false
	}

	marks, err := all[deviceMark](cctx, s.site, "/api/v1/devices")
	if err != nil {
		return nil, err
	}
	mark := map[string]deviceMark{}
	for _, m := range marks {
		if cur, ok := mark[m.Device]; !ok || m.Epoch > cur.Epoch {
			mark[m.Device] = m
		}
	}
	byID := map[event.ID]event.Event{}
	for _, h := range s.hh {
		r, err := h.outbox()
		if err != nil {
			return nil, err
		}
		rep.Events += int(r.Last)
		rep.Acked += int(r.Acked)
		m := mark[h.id]
		if m.Epoch == r.Epoch && m.Seq > r.Last {
			rep.Duplicated += int(m.Seq - r.Last)
		}
		if r.Pending > 0 {
			s.printf("%s: %d events still pending", h.id, r.Pending)
		}
		own, err := ownEvents(h)
		if err != nil {
			return nil, err
		}
		if len(own) != int(r.Last) {
			s.printf("%s: the store holds %d of its %d events", h.id, len(own), r.Last)
		}
		for id, e := range own {
			byID[id] = e
			if e.Seq > r.Acked {
				continue
			}
			var rec record
			err := s.site.get(cctx, "/api/v1/events/"+id.String()+"?consistency=leader", &rec)
			switch {
			case isStatus(err, 404):
				rep.Lost++
				s.printf("lost: %s seq %d (%s)", h.id, e.Seq, id)
			case err != nil:
				return nil, err
			case rec.Event.Device != e.Device || rec.Event.Epoch != e.Epoch || rec.Event.Seq != e.Seq:
				rep.Duplicated++
				s.printf("event %s of %s seq %d is in the cluster as %s seq %d", id, h.id, e.Seq, rec.Event.Device, rec.Event.Seq)
			}
		}
	}

	// Each unit's cluster history holds each event once.
	units, err := all[unit.State](cctx, s.site, "/api/v1/units")
	if err != nil {
		return nil, err
	}
	touched := map[event.Key]bool{}
	for _, e := range byID {
		for _, sub := range e.Subjects {
			touched[sub.Key] = true
		}
	}
	index := map[event.ID]uint64{}
	for k := range touched {
		var v unitView
		if err := s.site.get(cctx, "/api/v1/units/"+url.PathEscape(string(k))+"?consistency=leader&history=100000", &v); err != nil {
			return nil, fmt.Errorf("unit %s: %w", k, err)
		}
		seen := map[event.ID]bool{}
		for _, r := range v.History {
			if seen[r.Event.ID] {
				rep.Duplicated++
			}
			seen[r.Event.ID] = true
			index[r.Event.ID] = r.Index
		}
	}

	// Conflicts: both events in the cluster, and the right exceptions.
	xs, err := all[unit.Exception](cctx, s.site, "/api/v1/exceptions")
	if err != nil {
		return nil, err
	}
	// Each device closed its ASN short: one SHORTAGE on its missing unit,
	// none anywhere else.
	shortages := map[event.Key]int{}
	for _, x := range xs {
		if x.Rule == unit.RuleShortage {
			shortages[x.Unit]++
		}
	}
	for _, w := range pl.work {
		n := shortages[w.missing]
		rep.Shortages += n
		if n != 1 {
			s.printf("%d SHORTAGE exceptions on %s, want 1", n, w.missing)
			rep.ExceptionsWrong += abs(n - 1)
		}
		delete(shortages, w.missing)
	}
	for k, n := range shortages {
		s.printf("SHORTAGE on %s, which no close explains", k)
		rep.ExceptionsWrong += n
	}
	rules := conflictRules()
	got := map[event.Key]map[unit.Rule]int{}
	for _, x := range xs {
		if !slices.Contains(rules, x.Rule) {
			continue
		}
		rep.ExceptionsFound++
		if got[x.Unit] == nil {
			got[x.Unit] = map[unit.Rule]int{}
		}
		got[x.Unit][x.Rule]++
	}
	explained := map[event.Key]bool{}
	for _, c := range pl.conflicts {
		explained[c.unit] = true
		ea, oka := s.conflictEvent(byID, c, true)
		eb, okb := s.conflictEvent(byID, c, false)
		ia, ib := index[ea], index[eb]
		if !oka || !okb || ia == 0 || ib == 0 {
			s.printf("conflict %d (%s) was not made: events in the cluster a=%v b=%v", c.n, c.kind, ia != 0, ib != 0)
			for _, r := range rules {
				rep.ExceptionsWrong += got[c.unit][r]
			}
			continue
		}
		rep.ConflictsMade++
		want := c.expected(ia < ib)
		for _, r := range rules {
			n := got[c.unit][r]
			if slices.Contains(want, r) {
				n--
			}
			if n != 0 {
				s.printf("conflict %d (%s, a first %v) on %s: %d exceptions %s too many", c.n, c.kind, ia < ib, c.unit, n, r)
				rep.ExceptionsWrong += abs(n)
			}
		}
	}
	for k, m := range got {
		if explained[k] {
			continue
		}
		for r, n := range m {
			s.printf("exception %s on %s, which no conflict explains", r, k)
			rep.ExceptionsWrong += n
		}
	}

	// Replicas agree with the cluster: on the fleet's own clients with
	// --clients (the devices' user is granted those only), else on all.
	site := map[event.Key]unit.State{}
	for _, u := range units {
		if !pl.own || slices.Contains(pl.clients, u.Client) {
			site[u.Key] = u
		}
	}
	for _, h := range s.hh {
		diffs, n := 0, 0
		err := h.st.View(func(tx *store.Tx) error {
			return tx.EachUnit(func(u unit.State) error {
				n++
				c, ok := site[u.Key]
				if !ok || !sameUnit(c, u) {
					if diffs < 3 {
						s.printf("%s: replica has %s as %+v; the cluster %+v", h.id, u.Key, u, c)
					}
					diffs++
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		if diffs > 0 || n != len(site) {
			s.printf("%s: %d units differ; replica %d units, cluster %d", h.id, diffs, n, len(site))
			rep.ReplicasAgree = false
		}
	}
	rep.Consistent = rep.Lost == 0 && rep.Duplicated == 0 && rep.Acked == rep.Events && rep.ConflictsMade == len(pl.conflicts) &&
		rep.ExceptionsWrong == 0 && rep.ReplicasAgree
	return rep, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func sameUnit(a, b unit.State) bool {
	return a.Key == b.Key && a.Client == b.Client && a.Lot == b.Lot && a.Expiry == b.Expiry && a.Status == b.Status &&
		a.Holds == b.Holds && a.Location == b.Location && a.Parent == b.Parent && a.Order == b.Order && a.Line == b.Line &&
		a.Shipment == b.Shipment && a.Version == b.Version
}

// conflictEvent finds, among the devices' own events, the one the
// conflict's device a (or b) made on its unit.
func (s *sim) conflictEvent(byID map[event.ID]event.Event, c conflict, isA bool) (event.ID, bool) {
	dev := s.plan.deviceID(c.b)
	if isA {
		dev = s.plan.deviceID(c.a)
	}
	for id, e := range byID {
		if e.Device != dev || len(e.Subjects) == 0 || e.Subjects[0].Key != c.unit {
			continue
		}
		switch {
		case isA && c.kind == holdVsShip && e.Kind == event.KindShip,
			isA && c.kind != holdVsShip && e.Kind == event.KindPick && e.Ctx.Order == c.orderA,
			!isA && c.kind == doublePick && e.Kind == event.KindPick && e.Ctx.Order == c.orderB,
			!isA && c.kind != doublePick && e.Kind == event.KindHold:
			return id, true
		}
	}
	return event.ID{}, false
}
