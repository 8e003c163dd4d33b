package syncsite_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/syncsite"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/client"
	"github.com/custodyhq/custody/sync/protocol"
)

// rig is one real site node (raft on loopback, Badger in a temp dir)
// with the sync endpoint on a real Fiber listener.
type rig struct {
	node *cluster.Node
	site *syncsite.Site
	ep   *syncsite.Endpoint
	url  string
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := cluster.Open(cluster.Config{ID: "n1", Dir: t.TempDir(), RaftAddr: freeAddr(t), HTTPAddr: ln.Addr().String(),
		Bootstrap: true, Logger: log, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	site := syncsite.New(node, syncsite.Config{FeedInterval: 100 * time.Millisecond})
	ep := syncsite.NewEndpoint(site, syncsite.EndpointConfig{TrustHello: true})
	serveSync(t, node, ep, ln)
	r := &rig{node: node, site: site, ep: ep, url: "ws://" + ln.Addr().String() + syncsite.Path}
	waitFor(t, "leader and seed records", func() bool {
		ok := false
		_ = node.State().View(func(rd *state.Reader) error {
			_, err := rd.Site()
			ok = err == nil && node.IsLeader()
			return nil
		})
		return ok
	})
	return r
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) propose(t testing.TB, typ command.Type, v any) {
	t.Helper()
	data, err := command.EncodeJSON(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.node.Propose(context.Background(), data, false); err != nil {
		t.Fatalf("propose %d: %v", typ, err)
	}
}

const gtin = "09501101530003"

// seed loads a client, a product, a user and an ASN of n loose units.
func (r *rig) seed(t testing.TB, n int) []event.Key {
	r.propose(t, command.TypeSite, master.Site{ID: "S1", Name: "test"})
	r.propose(t, command.TypeClient, master.Client{ID: "c1", Name: "Client One"})
	r.propose(t, command.TypeClient, master.Client{ID: "c2", Name: "Client Two"})
	r.propose(t, command.TypeProduct, master.Product{GTIN: gtin, Client: "c1", Name: "Pills", CompanyPrefixLen: 7})
	r.propose(t, command.TypeUser, master.User{ID: "op", Name: "Op", Role: master.RoleOperator, Clients: []string{"c1"}})
	a := command.ASN{ASN: master.ASN{ID: "A1", Client: "c1", Supplier: "sup"}, User: "admin", At: hlc.NewClock(nil, 0).Now()}
	var keys []event.Key
	for i := range n {
		k := event.SGTIN(gtin, fmt.Sprintf("S%04d", i))
		keys = append(keys, k)
		a.ASN.Items = append(a.ASN.Items, master.ASNItem{Key: k, Lot: "L1", Expiry: "301231"})
		id, err := event.NewID(time.Now(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		a.IDs = append(a.IDs, id)
	}
	r.propose(t, command.TypeASN, a)
	return keys
}

// device is an in-memory handheld at the protocol seam: an outbox
// pruned by acks, the verdicts it was given and a replica of units.
type device struct {
	id    string
	epoch uint32
	user  string

	mu       sync.Mutex
	outbox   []event.Event
	last     uint64
	verdicts map[uint64]protocol.Verdict
	cursor   protocol.Cursor
	units    map[event.Key]unit.State
	asns     map[string]int // ASN id → items announced
	resyncs  int
}

func newDevice(id, user string) *device {
	return &device{id: id, epoch: 7, user: user, verdicts: map[uint64]protocol.Verdict{}, units: map[event.Key]unit.State{},
		asns: map[string]int{}}
}

func (d *device) write(t *testing.T, kind event.Kind, keys []event.Key, ctx event.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last++
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{ID: id, Device: d.id, Epoch: d.epoch, Seq: d.last, HLC: hlc.NewClock(nil, 0).Now(), User: d.user,
		Site: "S1", Client: "c1", Kind: kind, Ctx: ctx}
	for _, k := range keys {
		ev.Subjects = append(ev.Subjects, event.Subject{Key: k, BaseVersion: d.units[k].Version})
	}
	d.outbox = append(d.outbox, ev)
}

func (d *device) Identity() (string, uint32) { return d.id, d.epoch }
func (d *device) User() string               { return d.user }
func (d *device) Outbox() (uint64, uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.outbox) == 0 {
		return d.last + 1, d.last, nil
	}
	return d.outbox[0].Seq, d.last, nil
}
func (d *device) Pending(after uint64, max int) ([]event.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []event.Event
	for _, e := range d.outbox {
		if e.Seq > after && len(out) < max {
			out = append(out, e)
		}
	}
	return out, nil
}
func (d *device) Ack(vs []protocol.Verdict) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, v := range vs {
		if _, ok := d.verdicts[v.Seq]; !ok {
			d.verdicts[v.Seq] = v
		}
		for len(d.outbox) > 0 && d.outbox[0].Seq <= v.Seq {
			d.outbox = d.outbox[1:]
		}
	}
	return nil
}
func (d *device) Cursor() (protocol.Cursor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cursor, nil
}
func (d *device) ApplyChanges(cs protocol.ChangeSet) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range cs.Put.Units {
		d.units[u.Key] = u
	}
	for _, a := range cs.Put.ASNs {
		d.asns[a.ID] = len(a.Items)
	}
	d.cursor = cs.To
	return nil
}
func (d *device) Resync(snap master.Snapshot, cur protocol.Cursor) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.units = map[event.Key]unit.State{}
	for _, u := range snap.Units {
		d.units[u.Key] = u
	}
	d.asns = map[string]int{}
	for _, a := range snap.ASNs {
		d.asns[a.ID] = len(a.Items)
	}
	d.cursor = cur
	d.resyncs++
	return nil
}
func (d *device) asnItems(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asns[id]
}
func (d *device) unit(k event.Key) unit.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.units[k]
}
func (d *device) verdict(seq uint64) (protocol.Verdict, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.verdicts[seq]
	return v, ok
}

func (r *rig) run(t *testing.T, d *device) *client.Client {
	c, err := client.New(d, client.Config{URL: r.url, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// TestSyncOverWebsocket: a device receives and picks over a real
// websocket; the pushes are applied in the cluster, the verdicts come
// back, a double pick by a second device is a conflict with a message
// for the person, and both replicas follow the site.
func TestSyncOverWebsocket(t *testing.T) {
	r := newRig(t)
	keys := r.seed(t, 3)
	r.propose(t, command.TypeOrder, master.Order{ID: "O1", Client: "c1", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 3}}})
	r.propose(t, command.TypeOrder, master.Order{ID: "O2", Client: "c1", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 3}}})

	a, b := newDevice("dev-a", "op"), newDevice("dev-b", "op")
	ca, cb := r.run(t, a), r.run(t, b)
	waitFor(t, "replicas with the ASN's units", func() bool {
		return a.unit(keys[0]).Status == unit.StatusExpected && b.unit(keys[0]).Status == unit.StatusExpected
	})
	a.write(t, event.KindReceive, keys, event.Context{ASN: "A1", To: "DOCK"})
	ca.Notify()
	waitFor(t, "receive acknowledged", func() bool { _, ok := a.verdict(1); return ok })
	if v, _ := a.verdict(1); v.Final() != protocol.OutcomeApplied {
		t.Fatalf("receive verdict %+v", v)
	}
	waitFor(t, "both replicas see the units in stock", func() bool {
		return a.unit(keys[0]).Status == unit.StatusInStock && b.unit(keys[0]).Status == unit.StatusInStock
	})
	// Both pick keys[0] from the version they saw in stock: the pick
	// later in the log is a double pick.
	b.write(t, event.KindPick, keys[:1], event.Context{Order: "O2", Line: "1"})
	a.write(t, event.KindPick, keys[:1], event.Context{Order: "O1", Line: "1"})
	ca.Notify()
	waitFor(t, "a's pick acknowledged", func() bool { _, ok := a.verdict(2); return ok })
	cb.Notify()
	waitFor(t, "b's pick acknowledged", func() bool { _, ok := b.verdict(1); return ok })
	v, _ := b.verdict(1)
	if v.Final() != protocol.OutcomeConflict || len(v.Exceptions) != 1 || !strings.Contains(v.Message, "already picked for order O1") {
		t.Fatalf("double pick verdict: %+v", v)
	}
	var x unit.Exception
	if err := r.node.State().View(func(rd *state.Reader) error { var err error; x, err = rd.Exception(v.Exceptions[0]); return err }); err != nil {
		t.Fatal(err)
	}
	if x.Rule != unit.RuleDoublePick || x.Unit != keys[0] {
		t.Fatalf("exception %+v", x)
	}
	// The site's marks are what the devices were acknowledged.
	for _, d := range []*device{a, b} {
		hw, err := r.site.HighWater(context.Background(), d.id, d.epoch)
		if err != nil || hw != d.last {
			t.Fatalf("%s: high water %d, %v; device wrote %d", d.id, hw, err, d.last)
		}
		first, last, _ := d.Outbox()
		if first != last+1 {
			t.Fatalf("%s: outbox not empty: %d..%d", d.id, first, last)
		}
	}
	waitFor(t, "b's replica shows the unit picked for O1", func() bool {
		s := b.unit(keys[0])
		return s.Status == unit.StatusPicked && s.Order == "O1"
	})
}

// TestSnapshotFollowsTheUser: a user sees only the clients granted; a
// device nobody is signed in on, none.
func TestSnapshotFollowsTheUser(t *testing.T) {
	r := newRig(t)
	r.seed(t, 2)
	r.propose(t, command.TypeProduct, master.Product{GTIN: "09501101530010", Client: "c2", Name: "Other", CompanyPrefixLen: 7})
	r.propose(t, command.TypeUser, master.User{ID: "op2", Name: "Op2", Role: master.RoleOperator, Clients: []string{"c2"}})
	for _, tc := range []struct {
		user     string
		products int
		units    int
	}{{"op", 1, 2}, {"op2", 1, 0}, {"", 0, 0}, {"nobody", 0, 0}} {
		snap, cur, err := r.site.Snapshot(context.Background(), "d", tc.user)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Products) != tc.products || len(snap.Units) != tc.units {
			t.Errorf("user %q: %d products, %d units; want %d, %d", tc.user, len(snap.Products), len(snap.Units), tc.products, tc.units)
		}
		if cur.Cluster != r.site.ClusterID() || cur.Index != r.node.Applied() && cur.Index > r.node.Applied() || snap.Cursor != cur.String() {
			t.Errorf("cursor %v / %q", cur, snap.Cursor)
		}
	}
	_, cur, err := r.site.Snapshot(context.Background(), "d", "op")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.site.Changes(context.Background(), "d", "op", cur, 100)
	if err != nil || cs.Len() != 0 || cs.To != cur {
		t.Fatalf("changes at the head: %+v, %v", cs, err)
	}
	// A change of a visible and of an invisible product.
	r.propose(t, command.TypeProduct, master.Product{GTIN: gtin, Client: "c1", Name: "Pills 2", CompanyPrefixLen: 7})
	r.propose(t, command.TypeProduct, master.Product{GTIN: "09501101530010", Client: "c2", Name: "Other 2", CompanyPrefixLen: 7})
	cs, err = r.site.Changes(context.Background(), "d", "op", cur, 100)
	if err != nil || len(cs.Put.Products) != 1 || cs.Put.Products[0].Name != "Pills 2" || len(cs.Removed) != 1 ||
		cs.Removed[0] != (protocol.Removal{Kind: protocol.KindProduct, ID: "09501101530010"}) || cs.To.Index != r.node.Applied() {
		t.Fatalf("changes: %+v, %v", cs, err)
	}
	// Another user's grants: the cursor does not fit, resync.
	if _, err := r.site.Changes(context.Background(), "d", "op2", cur, 100); !errors.Is(err, protocol.ErrCursorTooOld) {
		t.Fatalf("another user's cursor was served: %v", err)
	}
}

// TestEndpointRefusesWithoutIdentity: without a certificate and without
// trusted HELLOs nobody is admitted; plain HTTP gets 426.
func TestEndpointRefusesWithoutIdentity(t *testing.T) {
	ep := syncsite.NewEndpoint(nil, syncsite.EndpointConfig{})
	app := fiber.New()
	ep.Mount(app)
	for _, tc := range []struct {
		name    string
		upgrade bool
		want    int
	}{{"plain GET", false, fiber.StatusUpgradeRequired}, {"upgrade without identity", true, fiber.StatusUnauthorized}} {
		req := httptestRequest(tc.upgrade)
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

func TestVerdicts(t *testing.T) {
	evs := []event.Event{{Seq: 5}, {Seq: 6}, {Seq: 7}, {Seq: 8}}
	conflict := unit.Result{Verdict: unit.VerdictConflict, Reason: "put it back",
		Subjects: []unit.SubjectResult{{Verdict: unit.VerdictConflict, Exceptions: []string{"X1"}}}}
	applied := unit.Result{Verdict: unit.VerdictApplied}
	vs := []command.Verdict{
		{Seq: 5, Status: command.StatusApplied, Result: &applied},
		{Seq: 6, Status: command.StatusApplied, Result: &conflict},
		{Seq: 7, Status: command.StatusDuplicate, Result: &conflict},
		{Seq: 8, Status: command.StatusRejected, Reason: "no subject"},
	}
	got, err := syncsite.Verdicts(evs, vs)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Verdict{
		{Seq: 5, Outcome: protocol.OutcomeApplied},
		{Seq: 6, Outcome: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "put it back"},
		{Seq: 7, Outcome: protocol.OutcomeDuplicate, Original: protocol.OutcomeConflict, Exceptions: []string{"X1"}, Message: "put it back"},
		{Seq: 8, Outcome: protocol.OutcomeRejected, Message: "no subject"},
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("verdicts\n got %s\nwant %s", gb, wb)
	}
	if _, err := syncsite.Verdicts(evs[:1], []command.Verdict{{Seq: 5, Status: command.StatusGap, Expected: 3}}); err == nil {
		t.Fatal("gap not reported")
	} else if ge, ok := err.(*protocol.GapError); !ok || ge.Expected != 3 {
		t.Fatalf("gap: %v", err)
	}
	if _, err := syncsite.Verdicts(evs, vs[:2]); err == nil {
		t.Fatal("short verdicts accepted")
	}
}

// serveSync mounts ep on a Fiber app listening on ln and runs the node,
// the endpoint and the app until the test ends.
func serveSync(t testing.TB, node *cluster.Node, ep *syncsite.Endpoint, ln net.Listener) {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	ep.Mount(app)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = node.Serve(ctx) })
	wg.Go(func() { _ = ep.Serve(ctx) })
	wg.Go(func() { _ = app.Listener(ln) })
	t.Cleanup(func() {
		cancel()
		_ = app.ShutdownWithTimeout(5 * time.Second)
		wg.Wait()
	})
}

// A device nobody is signed in on holds no client's data (see viewer):
// what sign-in needs, the site, locations, partners and the users with
// their PIN verifiers, and nothing of any client, neither in a snapshot
// nor in the changes that follow. Signing in is a new view: the cursor
// does not fit, and the device is resent its user's clients whole.
func TestNobodySignedInHoldsNoClientData(t *testing.T) {
	r := newRig(t)
	r.seed(t, 2)
	r.propose(t, command.TypeLocation, master.Location{ID: "DOCK"})
	r.propose(t, command.TypePartner, master.Partner{ID: "P1", Name: "Pharmacy", GLN: "0614141000005"})
	r.propose(t, command.TypeOrder, master.Order{ID: "O1", Client: "c1", Customer: "x", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 1}}})
	r.propose(t, command.TypeHold, master.Hold{ID: "H1", Client: "c1", Scope: master.ScopeProduct, GTIN: gtin, Reason: event.HoldRecall, Active: true, At: 1})
	snap, cur, err := r.site.Snapshot(context.Background(), "d", "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Site.ID != "S1" || len(snap.Locations) != 1 || len(snap.Partners) != 1 || len(snap.Users) < 2 {
		t.Fatalf("what sign-in needs: site %+v, %d locations, %d partners, %d users", snap.Site, len(snap.Locations), len(snap.Partners), len(snap.Users))
	}
	if n := len(snap.Clients) + len(snap.Products) + len(snap.ASNs) + len(snap.Orders) + len(snap.Shipments) + len(snap.Holds) + len(snap.Units) + len(snap.Open); n != 0 {
		t.Fatalf("client data with nobody signed in: %+v", snap)
	}
	// Changes after that cursor: a client's new records reach the device
	// only as removals.
	r.propose(t, command.TypeProduct, master.Product{GTIN: gtin, Client: "c1", Name: "Pills 2", CompanyPrefixLen: 7})
	r.propose(t, command.TypeOrder, master.Order{ID: "O2", Client: "c1", Customer: "x", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 1}}})
	cs, err := r.site.Changes(context.Background(), "d", "", cur, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Put.Products)+len(cs.Put.Orders)+len(cs.Put.Units) != 0 || len(cs.Removed) != 2 {
		t.Fatalf("changes with nobody signed in: %+v", cs)
	}
	// A user signs in: the nobody cursor is not served for the user.
	if _, err := r.site.Changes(context.Background(), "d", "op", cur, 100); !errors.Is(err, protocol.ErrCursorTooOld) {
		t.Fatalf("the nobody cursor was served for a signed-in user: %v", err)
	}
}
