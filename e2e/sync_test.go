package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/wire"
)

// simReport is custody-sim's last line.
type simReport struct {
	Devices         int  `json:"devices"`
	Events          int  `json:"events"`
	Acked           int  `json:"acked"`
	Lost            int  `json:"lost"`
	Duplicated      int  `json:"duplicated"`
	ConflictsMade   int  `json:"conflicts_made"`
	ExceptionsFound int  `json:"exceptions_found"`
	ExceptionsWrong int  `json:"exceptions_wrong"`
	Shortages       int  `json:"shortages"`
	ReplicasAgree   bool `json:"replicas_agree"`
	Consistent      bool `json:"consistent"`
}

func wsURL(s *procs.Server) string { return "ws://" + s.HTTP + syncsite.Path }

// dialSync opens a raw sync websocket to s.
func dialSync(s *procs.Server) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(wsURL(s), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return ws, err
}

func simLastLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "{") && strings.Contains(lines[i], `"consistent"`) {
			return lines[i]
		}
	}
	return ""
}

// TestFleetSyncThroughLeaderKill runs a 3-node cluster and custody-sim
// with 10 handhelds (offline windows, 20 deliberate conflicts) and
// SIGKILLs the leader once while they work. custody-sim reads the
// cluster and its device stores back: every acknowledged event is in
// the cluster exactly once, every outbox is empty, each conflict made
// exactly the exceptions its log order calls for, each device's close of
// its ASN short (a unit never received) raised exactly one SHORTAGE
// though the close may have crossed the leader kill, an offline window
// or a resend, and the replicas agree with the cluster. Then the three
// nodes' state hashes must be equal.
func TestFleetSyncThroughLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers and a fleet")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	simBin := procs.Build(t, dir, "github.com/custodyhq/custody/e2e/cmd/custody-sim")
	nodes := procs.StartCluster(t, srvBin, 3, "--insecure-devices")
	if ws, err := dialSync(nodes[0]); err != nil {
		t.Fatalf("custody-server does not serve %s: %v", syncsite.Path, err)
	} else {
		ws.Close()
	}
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.URL())
	}
	sim := procs.Start(t, dir, "custody-sim", simBin, "--servers", strings.Join(urls, ","), "--devices", "10",
		"--duration", "45s", "--offline", "0.3", "--conflicts", "20", "--seed", "7", "--dir", filepath.Join(dir, "devices"))
	defer func() {
		if t.Failed() {
			t.Logf("--- custody-sim:\n%s", sim.Tail(6000))
			for _, n := range nodes {
				t.Logf("--- %s log tail:\n%s", n.ID, n.Proc.Tail(2000))
			}
		}
	}()

	// Kill the leader once the fleet is at work, then bring it back.
	procs.WaitFor(t, 90*time.Second, "the fleet at work", func() bool {
		b, _ := os.ReadFile(sim.Log)
		return bytes.Contains(b, []byte("online ")) || !sim.Running()
	})
	time.Sleep(5 * time.Second)
	var st procs.Status
	if err := procs.Client(nodes[0], "admin").Get("/api/v1/cluster/status", &st); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.ID == st.Leader {
			t.Logf("SIGKILL leader %s", n.ID)
			n.Proc.Kill()
			time.Sleep(3 * time.Second)
			n.Start(t)
		}
	}
	procs.WaitFor(t, 4*time.Minute, "custody-sim to finish", func() bool { return !sim.Running() })
	b, _ := os.ReadFile(sim.Log)
	line := simLastLine(string(b))
	var rep simReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("no report from custody-sim (%v)", err)
	}
	t.Logf("custody-sim: %s", line)
	switch {
	case !rep.Consistent, rep.Devices != 10, rep.Lost != 0, rep.Duplicated != 0, rep.Events == 0, rep.Acked != rep.Events,
		rep.ConflictsMade != 20, rep.ExceptionsFound < 20, rep.ExceptionsWrong != 0, rep.Shortages != 10, !rep.ReplicasAgree:
		t.Fatalf("inconsistent run: %+v", rep)
	}
	waitSameHash(t, nodes)
}

// goodDevice speaks the protocol correctly over a raw websocket.
type goodDevice struct {
	t     *testing.T
	id    string
	epoch uint32
	seq   uint64
	clock *hlc.Clock
	req   uint64
}

func (g *goodDevice) event(site string) event.Event {
	g.seq++
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		g.t.Fatal(err)
	}
	return event.Event{ID: id, Device: g.id, Epoch: g.epoch, Seq: g.seq, HLC: g.clock.Now(), User: "admin", Site: site,
		Client: "c1", Kind: event.KindHold, Subjects: []event.Subject{{Key: event.SGTIN("09501101530003", fmt.Sprintf("G%d", g.seq))}},
		Ctx: event.Context{Hold: event.HoldSuspect}}
}

func readUntil(ws *websocket.Conn, want wire.Type) (wire.Frame, error) {
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return wire.Frame{}, err
		}
		f, err := wire.Decode(b)
		if err != nil {
			return wire.Frame{}, err
		}
		if f.Msg.Type() == want {
			return f, nil
		}
		if f.Msg.Type() == wire.TypeError {
			return f, fmt.Errorf("ERROR %+v", f.Msg)
		}
	}
}

// push opens a session, pushes one new event and waits for its ack.
func (g *goodDevice) push(s *procs.Server) {
	g.t.Helper()
	ws, err := dialSync(s)
	if err != nil {
		g.t.Fatalf("good device: dial: %v", err)
	}
	defer ws.Close()
	g.req++
	hello := &wire.Hello{Version: protocol.Version, Device: g.id, Epoch: g.epoch, OutboxFirst: g.seq + 1, OutboxLast: g.seq + 1}
	if err := ws.WriteMessage(websocket.BinaryMessage, wire.Encode(g.req, hello)); err != nil {
		g.t.Fatal(err)
	}
	f, err := readUntil(ws, wire.TypeWelcome)
	if err != nil {
		g.t.Fatalf("good device: no WELCOME: %v", err)
	}
	if hw := f.Msg.(*wire.Welcome).HighWater; hw != g.seq {
		g.t.Fatalf("good device: high water %d, want %d", hw, g.seq)
	}
	ev := g.event("SITE-E2E")
	g.req++
	p := wire.PushToWire(g.epoch, ev.Seq, []event.Event{ev})
	if err := ws.WriteMessage(websocket.BinaryMessage, wire.Encode(g.req, &p)); err != nil {
		g.t.Fatal(err)
	}
	f, err = readUntil(ws, wire.TypePushAck)
	if err != nil {
		g.t.Fatalf("good device: no PUSH_ACK: %v", err)
	}
	if a := f.Msg.(*wire.PushAck); a.First != ev.Seq || len(a.Verdicts) != 1 {
		g.t.Fatalf("good device: ack %+v", a)
	}
}

// ping opens a session, checks WELCOME and a PING/PONG, and closes.
func (g *goodDevice) ping(s *procs.Server) error {
	ws, err := dialSync(s)
	if err != nil {
		return err
	}
	defer ws.Close()
	hello := &wire.Hello{Version: protocol.Version, Device: g.id, Epoch: g.epoch, OutboxFirst: g.seq + 1, OutboxLast: g.seq}
	if err := ws.WriteMessage(websocket.BinaryMessage, wire.Encode(1, hello)); err != nil {
		return err
	}
	f, err := readUntil(ws, wire.TypeWelcome)
	if err != nil {
		return fmt.Errorf("no WELCOME: %w", err)
	}
	if hw := f.Msg.(*wire.Welcome).HighWater; hw != g.seq {
		return fmt.Errorf("high water %d, want %d", hw, g.seq)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, wire.Encode(2, &wire.Ping{Clock: uint64(g.clock.Now())})); err != nil {
		return err
	}
	if _, err := readUntil(ws, wire.TypePong); err != nil {
		return fmt.Errorf("no PONG: %w", err)
	}
	return nil
}

func stateHash(t *testing.T, s *procs.Server) hashAnswer {
	t.Helper()
	var h hashAnswer
	if err := procs.Client(s, "admin").Get("/api/v1/cluster/hash", &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// settledHash is the state's hash once it has stayed the same for a
// second (within a minute): the site's background writers are done.
func settledHash(t *testing.T, s *procs.Server) hashAnswer {
	t.Helper()
	h := stateHash(t, s)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		next := stateHash(t, s)
		if next == h {
			return h
		}
		h = next
	}
	t.Fatalf("the state kept changing with no client writing: %+v", h)
	return h
}

// mutate returns b with a few random changes: flipped bytes, a cut, a
// duplicated run, or random bytes appended.
func mutate(r *mrand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			break
		}
		switch r.IntN(4) {
		case 0:
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		case 1:
			b = b[:r.IntN(len(b))]
		case 2:
			i := r.IntN(len(b))
			b = append(b[:i:i], append(b[i:i+min(8, len(b)-i)], b[i:]...)...)
		default:
			extra := make([]byte, 1+r.IntN(16))
			for j := range extra {
				extra[j] = byte(r.IntN(256))
			}
			b = append(b, extra...)
		}
	}
	return b
}

// TestSyncProtocolFuzz throws random and mutated frames at a live
// server, many connections at once: the server stays up, its state does
// not change, and a well-behaved device on the same server keeps
// working before, during and after.
func TestSyncProtocolFuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	dir := t.TempDir()
	srvBin := procs.Build(t, dir, "github.com/custodyhq/custody/server/cmd/custody-server")
	nodes := procs.StartCluster(t, srvBin, 1, "--insecure-devices")
	n := nodes[0]
	if ws, err := dialSync(n); err != nil {
		t.Fatalf("custody-server does not serve %s: %v", syncsite.Path, err)
	} else {
		ws.Close()
	}
	api := procs.Client(n, "admin")
	ctx := context.Background()
	if err := api.Do(ctx, "PUT", "/api/v1/site", master.Site{ID: "SITE-E2E", Name: "fuzz"}, nil); err != nil {
		t.Fatal(err)
	}
	good := &goodDevice{t: t, id: "good-device", epoch: 1, clock: hlc.NewClock(nil, 0)}
	good.push(n)
	// The site's own followers (the signals analyzer's cursor, the
	// console's key) write after the push: fuzzing starts once they are
	// done, so whatever changes from here on came from the fuzzers.
	before := settledHash(t, n)

	// Valid frames to mutate: HELLOs of fuzz devices, SUBs, PINGs, and
	// PUSHes that are only ever cut short (a cut frame never decodes, so
	// no mutation can smuggle in a valid event).
	r := mrand.New(mrand.NewPCG(7, 11))
	ev := good.event("SITE-E2E")
	good.seq-- // not sent by the good device
	push := wire.PushToWire(1, 1, []event.Event{ev})
	pushFrame := wire.Encode(2, &push)
	seeds := [][]byte{
		wire.Encode(1, &wire.Sub{Cursor: wire.Cursor{Cluster: "x", Epoch: 1, Index: 3}, User: "admin"}),
		wire.Encode(1, &wire.Ping{Clock: 1}),
	}
	var wg sync.WaitGroup
	for c := range 8 {
		seed := r.Uint64()
		wg.Go(func() {
			rr := mrand.New(mrand.NewPCG(seed, uint64(c)))
			for i := range 40 {
				ws, err := dialSync(n)
				if err != nil {
					continue
				}
				dev := fmt.Sprintf("fuzz-%d-%d", c, i)
				hello := wire.Encode(1, &wire.Hello{Version: protocol.Version, Device: dev, Epoch: 1, OutboxFirst: 1})
				var frames [][]byte
				switch rr.IntN(4) {
				case 0: // garbage first
					junk := make([]byte, rr.IntN(300))
					for j := range junk {
						junk[j] = byte(rr.IntN(256))
					}
					frames = [][]byte{junk}
				case 1: // a mutated HELLO
					frames = [][]byte{mutate(rr, hello)}
				case 2: // a good HELLO, then mutated frames and cut PUSHes
					frames = [][]byte{hello}
					for range 1 + rr.IntN(5) {
						if rr.IntN(2) == 0 {
							frames = append(frames, pushFrame[:4+rr.IntN(len(pushFrame)-5)])
						} else {
							frames = append(frames, mutate(rr, seeds[rr.IntN(len(seeds))]))
						}
					}
				default: // a PUSH before any HELLO, then a text frame
					frames = [][]byte{pushFrame, []byte("hello?")}
				}
				for j, f := range frames {
					typ := websocket.BinaryMessage
					if j > 0 && rr.IntN(10) == 0 {
						typ = websocket.TextMessage
					}
					_ = ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
					if ws.WriteMessage(typ, f) != nil {
						break
					}
				}
				_ = ws.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						break
					}
				}
				ws.Close()
			}
		})
	}
	// The good device keeps working while the fuzzers run (read-only
	// sessions: its pushes come before and after, so the hashes compare).
	stop := make(chan struct{})
	var goodErr error
	var goodWG sync.WaitGroup
	goodWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if goodErr = good.ping(n); goodErr != nil {
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	goodWG.Wait()
	if goodErr != nil {
		t.Fatalf("the good device failed during fuzzing: %v (server running: %v)\n%s", goodErr, n.Proc.Running(), n.Proc.Tail(4000))
	}
	if !n.Proc.Running() || !procs.Ready(n) {
		t.Fatalf("the server did not survive:\n%s", n.Proc.Tail(3000))
	}
	after := stateHash(t, n)
	if after.Hash != before.Hash {
		t.Fatalf("fuzzing changed the state: %+v → %+v", before, after)
	}
	good.push(n)
	if again := stateHash(t, n); again.Hash == after.Hash {
		t.Fatal("the good device's push after fuzzing changed nothing")
	}

	// The node's metrics saw it all: the good device's two events
	// acknowledged, and the fuzzers' faults as refusals and sessions
	// ended with an ERROR (among them the good device's ping sessions a
	// newer one superseded).
	m := scrape(t, n)
	if got := m.sum("custody_sync_events_total", ""); got != 2 {
		t.Errorf("custody_sync_events_total sums to %v, want the good device's 2", got)
	}
	faults := m.sum("custody_sync_refused_total", "") + m.sum("custody_sync_sessions_ended_total", "") -
		m.sum("custody_sync_sessions_ended_total", `reason="closed"`)
	t.Logf("metrics: %v refusals and faulted sessions, %v sessions opened", faults, m.sum("custody_sync_sessions_opened_total", ""))
	if faults < 10 {
		t.Errorf("only %v refusals and faulted sessions counted for 320 fuzzing connections", faults)
	}
}

// metricLines are the sample lines of a Prometheus text page.
type metricLines []string

// scrape reads s's /metrics.
func scrape(t *testing.T, s *procs.Server) metricLines {
	t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	var out metricLines
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// sum adds the samples of the metric name whose labels contain label
// ("" for all).
func (m metricLines) sum(name, label string) float64 {
	total := 0.0
	for _, l := range m {
		metric, value, ok := strings.Cut(l, " ")
		base, labels, _ := strings.Cut(metric, "{")
		if !ok || base != name || !strings.Contains(labels, label) {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			total += v
		}
	}
	return total
}
