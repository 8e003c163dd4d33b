package session

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/conn"
	"github.com/custodyhq/custody/sync/internal/fake"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// tally is an Observer that counts what it hears.
type tally struct {
	mu       sync.Mutex
	opened   int
	ended    map[uint16]int
	refused  map[string]int // "busy" or the code's text
	outcomes map[protocol.Outcome]int
	acks     int
	took     []time.Duration
	busy     int
	gaps     int
	fed      map[bool]int // resync → change sets
	records  int
}

func newTally() *tally {
	return &tally{ended: map[uint16]int{}, refused: map[string]int{}, outcomes: map[protocol.Outcome]int{}, fed: map[bool]int{}}
}

func (t *tally) Opened() { t.mu.Lock(); t.opened++; t.mu.Unlock() }
func (t *tally) Ended(code uint16) {
	t.mu.Lock()
	t.ended[code]++
	t.mu.Unlock()
}
func (t *tally) Refused(code uint16, busy bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if busy {
		t.refused["busy"]++
		return
	}
	t.refused[wire.CodeText(code)]++
}
func (t *tally) Acked(vs []protocol.Verdict, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.acks++
	t.took = append(t.took, took)
	for _, v := range vs {
		t.outcomes[v.Outcome]++
	}
}
func (t *tally) Busy() { t.mu.Lock(); t.busy++; t.mu.Unlock() }
func (t *tally) Gap()  { t.mu.Lock(); t.gaps++; t.mu.Unlock() }
func (t *tally) Fed(resync bool, records int) {
	t.mu.Lock()
	t.fed[resync]++
	t.records += records
	t.mu.Unlock()
}

// String describes the tally; callers hold t.mu.
func (t *tally) String() string {
	return fmt.Sprintf("opened %d ended %v refused %v outcomes %v acks %d busy %d gaps %d fed %v records %d",
		t.opened, t.ended, t.refused, t.outcomes, t.acks, t.busy, t.gaps, t.fed, t.records)
}

// TestObserverHearsTheSession drives one session through every kind of
// answer and checks what the observer heard, after the session ended.
func TestObserverHearsTheSession(t *testing.T) {
	site := feedSite(3)
	site.Judge = func(ev *event.Event) protocol.Verdict {
		if ev.Seq == 2 {
			return protocol.Verdict{Outcome: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "already picked"}
		}
		return protocol.Verdict{Outcome: protocol.OutcomeApplied}
	}
	site.Delay = 20 * time.Millisecond
	obs := newTally()
	r := newRig(t, site, Config{Observer: obs}, devPeer)
	r.hello("dev-1", 1)
	r.send(pushOf("dev-1", 1, 1, 4)) // applied, conflict, applied, applied
	if _, ok := r.recv().Msg.(*wire.PushAck); !ok {
		t.Fatal("no PUSH_ACK")
	}
	r.send(pushOf("dev-1", 1, 1, 2)) // resent: duplicates
	if _, ok := r.recv().Msg.(*wire.PushAck); !ok {
		t.Fatal("no PUSH_ACK for the resend")
	}
	r.send(pushOf("dev-1", 1, 9, 1)) // beyond the mark
	if _, ok := r.recv().Msg.(*wire.NackGap); !ok {
		t.Fatal("no NACK_GAP")
	}
	site.BusyNext(time.Second)
	r.send(pushOf("dev-1", 1, 5, 1))
	if _, ok := r.recv().Msg.(*wire.Busy); !ok {
		t.Fatal("no BUSY")
	}
	id := r.send(&wire.Sub{User: "u1"}) // no cursor: a resync
	gather(t, r, id)
	r.raw([]byte("not a frame"))
	if code, _ := r.closed(); code == 0 {
		t.Fatal("no ERROR for a malformed frame")
	}
	select {
	case <-r.done:
		r.done <- nil // for the rig's cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end")
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.opened != 1 || len(obs.ended) != 1 || obs.ended[wire.CodeVersion] != 1 || len(obs.refused) != 0 {
		t.Errorf("sessions: %s", obs)
	}
	want := map[protocol.Outcome]int{protocol.OutcomeApplied: 3, protocol.OutcomeConflict: 1, protocol.OutcomeDuplicate: 2}
	if fmt.Sprint(obs.outcomes) != fmt.Sprint(want) || obs.acks != 2 {
		t.Errorf("verdicts: %s, want %v in 2 acks", obs, want)
	}
	for _, d := range obs.took {
		if d < site.Delay {
			t.Errorf("ack took %v, less than the site's %v apply", d, site.Delay)
		}
	}
	if obs.gaps != 1 || obs.busy != 1 {
		t.Errorf("gaps and busy: %s", obs)
	}
	if obs.fed[true] != 1 || obs.fed[false] != 0 || obs.records == 0 {
		t.Errorf("feed: %s", obs)
	}
}

// TestObserverHearsRefusals: connections that never got a WELCOME are
// refusals, a full hub's BUSY among them.
func TestObserverHearsRefusals(t *testing.T) {
	site := fake.NewSite("site-a")
	obs := newTally()
	hub := NewHub(site, Config{Observer: obs}, 1)

	run := func(peer conn.Peer, drive func(r *rig)) {
		t.Helper()
		dev, srv := conn.Pipe(1<<20, 64, peer, conn.Peer{Addr: "site"})
		r := &rig{t: t, site: site, dev: dev, done: make(chan error, 1)}
		go func() { r.done <- hub.Handle(t.Context(), srv) }()
		drive(r)
		dev.Close(conn.CloseNormal, "")
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end")
		}
	}
	// The first device holds the hub's only place while the others try.
	first, srv := conn.Pipe(1<<20, 64, devPeer, conn.Peer{Addr: "site"})
	r1 := &rig{t: t, site: site, dev: first, done: make(chan error, 1)}
	go func() { r1.done <- hub.Handle(t.Context(), srv) }()
	r1.hello("dev-1", 1)

	run(conn.Peer{Device: "dev-2"}, func(r *rig) {
		r.send(&wire.Hello{Version: protocol.Version, Device: "dev-2", Epoch: 1, OutboxFirst: 1})
		if _, ok := r.recv().Msg.(*wire.Busy); !ok {
			t.Error("a full hub did not answer BUSY")
		}
	})
	run(conn.Peer{Device: "dev-3"}, func(r *rig) {
		r.send(&wire.Hello{Version: protocol.Version + 1, Device: "dev-3", Epoch: 1})
		r.closed()
	})
	if hub.Devices() != 1 {
		t.Errorf("hub has %d devices, want 1", hub.Devices())
	}
	first.Close(conn.CloseNormal, "")
	<-r1.done

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.opened != 1 || obs.ended[0] != 1 || obs.refused["busy"] != 1 || obs.refused[wire.CodeText(wire.CodeVersion)] != 1 {
		t.Errorf("got %s", obs)
	}
}
