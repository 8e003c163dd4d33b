package api_test

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// newEvent builds one event as a caller would send it.
func newEvent(t *testing.T, dev string, seq uint64, user, client string, k event.Kind, ctx event.Context, key event.Key) event.Event {
	t.Helper()
	id, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{ID: id, Device: dev, Epoch: 1, Seq: seq, HLC: hlc.FromTime(time.Now()), User: user, Site: "site",
		Client: client, Kind: k, Ctx: ctx, Subjects: []event.Subject{{Key: key}}}
}

func startTenants(t *testing.T) (adm client, ga, gb *workload.Gen) {
	site := sitetest.Start(t, sitetest.Options{})
	adm = client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	ga = workload.New(workload.Options{Seed: 1, Client: "a", Prefix: "api:op-a:d", GTIN: gtinA, User: "op-a"})
	gb = workload.New(workload.Options{Seed: 2, Client: "b", Prefix: "api:op-b:d", GTIN: gtinB, User: "op-b"})
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": ga.Receive(2)}, nil)
	adm.as("op-b").ok("POST", "/api/v1/events", map[string]any{"events": gb.Receive(2)}, nil)
	return adm, ga, gb
}

func status(t *testing.T, c client, method, path string, body any) int {
	t.Helper()
	code, _, _ := c.do(method, path, body)
	return code
}

// An event acts as the request's user: naming another user (to borrow a
// lead's authority) is refused, and an event naming nobody is stamped
// with the request's user.
func TestSubmittedEventsActAsTheRequestUser(t *testing.T) {
	adm, ga, _ := startTenants(t)
	op := adm.as("op-a")
	ua := ga.Units()[0]
	op.ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{
		newEvent(t, "api:op-a", 1, "op-a", "a", event.KindHold, event.Context{Hold: event.HoldSuspect}, ua)}}, nil)
	release := newEvent(t, "api:op-a", 2, "admin", "a", event.KindRelease, event.Context{Hold: event.HoldSuspect}, ua)
	if code := status(t, op, "POST", "/api/v1/events", map[string]any{"events": []event.Event{release}}); code != http.StatusForbidden {
		t.Fatalf("an operator's event naming the admin: %d, want 403", code)
	}
	release.User = ""
	var v struct {
		Verdicts []struct {
			Status string
			Result struct{ Verdict string }
		}
	}
	op.ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{release}}, &v)
	if v.Verdicts[0].Status != "applied" || v.Verdicts[0].Result.Verdict == "applied" {
		t.Fatalf("an operator released a suspect hold: %+v", v.Verdicts)
	}
	var rec struct {
		Event struct{ User string } `json:"event"`
	}
	op.ok("GET", "/api/v1/events/"+release.ID.String(), nil, &rec)
	if rec.Event.User != "op-a" {
		t.Fatalf("stored event user %q, want op-a", rec.Event.User)
	}
}

// A user submits in device sequences of its own ("api:<user>[:name]");
// a handheld's sequence cannot be taken over, so its real events are
// never answered "duplicate" and dropped.
func TestSubmittedEventsUseTheUsersOwnDevices(t *testing.T) {
	adm, ga, _ := startTenants(t)
	op := adm.as("op-a")
	ua := ga.Units()[0]
	for _, dev := range []string{"hh-b", "api:op-b", "api:op-ab", "api:", "op-a"} {
		ev := newEvent(t, dev, 1, "op-a", "a", event.KindCount, event.Context{}, ua)
		if code := status(t, op, "POST", "/api/v1/events", map[string]any{"events": []event.Event{ev}}); code != http.StatusForbidden {
			t.Errorf("op-a under device %q: %d, want 403", dev, code)
		}
	}
	for _, dev := range []string{"api:op-a", "api:op-a:bench"} {
		op.ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{
			newEvent(t, dev, 1, "op-a", "a", event.KindCount, event.Context{}, ua)}}, nil)
	}
	// The admin may name any device; the handheld's first event is its own.
	real := newEvent(t, "hh-b", 1, "admin", "b", event.KindReceive, event.Context{To: "A-01", Lot: "L1", Expiry: "301231"},
		event.SGTIN(gtinB, "REAL1"))
	var v struct{ Verdicts []struct{ Status string } }
	adm.ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{real}}, &v)
	if v.Verdicts[0].Status != "applied" {
		t.Fatalf("the handheld's first event: %+v", v.Verdicts[0])
	}
	// A device id of the form certificates carry belongs to an enrolled
	// handheld, which pushes through the sync endpoint: not even an admin
	// may take a place in its sequence.
	key, err := certs.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := certs.DeviceIDFromPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvent(t, dev.String(), 1, "admin", "b", event.KindCount, event.Context{}, event.SGTIN(gtinB, "REAL1"))
	code, _, b := adm.do("POST", "/api/v1/events", map[string]any{"events": []event.Event{ev}})
	if code != http.StatusForbidden || !strings.Contains(string(b), "/api/v1/sync") {
		t.Fatalf("admin under a certificate device id: %d %s, want 403", code, b)
	}
}

// Orders, shipments, ASNs and holds cannot be replaced by a user of
// another client reusing their ids.
func TestRecordIDsStayWithTheirClient(t *testing.T) {
	adm, _, gb := startTenants(t)
	opA, opB := adm.as("op-a"), adm.as("op-b")
	order := func(cl, gtin string) map[string]any {
		return map[string]any{"id": "SO-1", "client": cl, "customer": "x", "lines": []map[string]any{{"id": "1", "gtin": gtin, "qty": 1}}}
	}
	opB.ok("POST", "/api/v1/orders", order("b", gtinB), nil)
	opB.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH-1", "client": "b"}, nil)
	opB.ok("POST", "/api/v1/asns", map[string]any{"id": "ASN-1", "client": "b", "items": []map[string]any{{"key": string(event.SGTIN(gtinB, "E1"))}}}, nil)
	for name, c := range map[string]struct {
		path string
		body any
	}{
		"order":    {"/api/v1/orders", order("a", gtinA)},
		"shipment": {"/api/v1/shipments", map[string]any{"id": "SH-1", "client": "a"}},
		"asn":      {"/api/v1/asns", map[string]any{"id": "ASN-1", "client": "a", "items": []map[string]any{{"key": string(event.SGTIN(gtinA, "E1"))}}}},
	} {
		if code := status(t, opA, "POST", c.path, c.body); code != http.StatusForbidden {
			t.Errorf("op-a reusing client b's %s id: %d, want 403", name, code)
		}
		// Even the admin (who sees both) cannot move a record to another client.
		if code := status(t, adm, "POST", c.path, c.body); code != http.StatusBadRequest {
			t.Errorf("admin moving client b's %s to a: %d, want 400", name, code)
		}
	}
	for path, want := range map[string]string{"/api/v1/orders/SO-1": "b", "/api/v1/shipments/SH-1": "b", "/api/v1/asns/ASN-1": "b"} {
		var rec struct{ Client string }
		opB.ok("GET", path, nil, &rec)
		if rec.Client != want {
			t.Errorf("%s now belongs to %q", path, rec.Client)
		}
	}

	// Hold ids are the server's: a lead's chosen id is not used.
	var h struct{ ID string }
	adm.as("lead-a").ok("POST", "/api/v1/holds", map[string]any{"id": "H-B", "client": "a", "scope": "lot", "gtin": gtinA, "lot": "L1", "reason": "recall"}, &h)
	if h.ID == "H-B" || !strings.HasPrefix(h.ID, "H") {
		t.Fatalf("hold id %q", h.ID)
	}
	adm.ok("POST", "/api/v1/holds", map[string]any{"id": "H-B", "client": "b", "scope": "lot", "gtin": gtinB, "lot": "L1", "reason": "suspect"}, nil)
	if code := status(t, adm, "POST", "/api/v1/holds", map[string]any{"id": "H-B", "client": "a", "scope": "lot", "gtin": gtinA, "lot": "L1", "reason": "recall"}); code != http.StatusBadRequest {
		t.Errorf("admin reusing client b's hold id for client a: %d, want 400", code)
	}
	_ = gb
}

// A lot or product hold covers its own client's product only.
func TestHoldsCoverOnlyTheirClientsProducts(t *testing.T) {
	adm, _, gb := startTenants(t)
	lead := adm.as("lead-a")
	for _, body := range []map[string]any{
		{"client": "a", "scope": "product", "gtin": gtinB, "reason": "recall"},
		{"client": "a", "scope": "lot", "gtin": gtinB, "lot": "L1", "reason": "recall"},
		{"client": "a", "scope": "product", "gtin": "00300030123459", "reason": "recall"},
	} {
		if code := status(t, lead, "POST", "/api/v1/holds", body); code != http.StatusBadRequest {
			t.Errorf("lead-a holding %v: %d, want 400", body, code)
		}
	}
	var held struct {
		Inherited string `json:"inheritedHolds"`
	}
	adm.as("op-b").ok("GET", "/api/v1/units/"+string(gb.Units()[1])+"?consistency=leader", nil, &held)
	if held.Inherited != "" {
		t.Fatalf("client b's unit inherited %q", held.Inherited)
	}
	lead.ok("POST", "/api/v1/holds", map[string]any{"client": "a", "scope": "product", "gtin": gtinA, "reason": "recall"}, nil)
}

// A shipment lists its own client's units only, and a destination the
// outbound document cannot name is refused when the shipment is written.
func TestShipmentsExportOnlyTheirClientsUnits(t *testing.T) {
	adm, ga, gb := startTenants(t)
	opA := adm.as("op-a")
	ub := gb.Units()[0]
	if code := status(t, opA, "POST", "/api/v1/shipments", map[string]any{"id": "SH-X", "client": "a",
		"destination": "urn:epc:id:sgln:0300010.00000.0", "containers": []string{string(ub)}}); code != http.StatusBadRequest {
		t.Errorf("op-a shipping client b's unit: %d, want 400", code)
	}
	if code := status(t, opA, "GET", "/api/v1/shipments/SH-X/epcis", nil); code != http.StatusNotFound {
		t.Errorf("the refused shipment exists: %d", code)
	}
	for _, d := range []string{"not a uri", "CUST-NONE", "http//x"} {
		if code := status(t, opA, "POST", "/api/v1/shipments", map[string]any{"id": "SH-D", "client": "a", "destination": d}); code != http.StatusBadRequest {
			t.Errorf("destination %q: %d, want 400", d, code)
		}
	}
	adm.ok("PUT", "/api/v1/partners/CUST-1", map[string]any{"name": "Pharmacy", "gln": "0399999999991"}, nil)
	adm.ok("PUT", "/api/v1/partners/CUST-2", map[string]any{"name": "No GLN"}, nil)
	ua := ga.Units()[0]
	opA.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH-A", "client": "a", "destination": "CUST-1", "containers": []string{string(ua)}}, nil)
	code, _, body := opA.do("GET", "/api/v1/shipments/SH-A/epcis", nil)
	if code != http.StatusOK || !strings.Contains(string(body), "https://id.gs1.org/414/0399999999991") || strings.Count(string(body), "urn:epc:id:sgtin:") != 1 {
		t.Fatalf("export %d: %s", code, body)
	}
	opA.ok("POST", "/api/v1/shipments", map[string]any{"id": "SH-B", "client": "a", "destination": "CUST-2", "containers": []string{string(ua)}}, nil)
	if code := status(t, opA, "GET", "/api/v1/shipments/SH-B/epcis", nil); code != http.StatusBadRequest {
		t.Errorf("export to a partner without a GLN: %d, want 400", code)
	}
}

// With a cluster secret, nodes still join and forward writes to the
// leader, and the node-to-node routes refuse a request without it.
func TestClusterSecretGuardsNodeRoutes(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3, ClusterSecret: "s3cret-for-the-test"})
	var follower *sitetest.Member
	for _, m := range site.Members {
		if !m.Node.IsLeader() {
			follower = m
		}
	}
	adm := client{t: t, base: follower.URL(), user: "admin"}
	g := workload.New(workload.Options{Seed: 3, Prefix: "api:admin:d"})
	var v struct{ Verdicts []struct{ Status string } }
	adm.ok("POST", "/api/v1/events", map[string]any{"events": g.Receive(3)}, &v)
	if len(v.Verdicts) != 3 || v.Verdicts[0].Status != "applied" {
		t.Fatalf("write through a follower: %+v", v)
	}
	anon := client{t: t, base: site.Members[0].URL()}
	for _, r := range []struct{ method, path string }{
		{"POST", "/internal/v1/events"}, {"POST", "/internal/v1/propose"},
		{"POST", "/api/v1/cluster/join"}, {"GET", "/api/v1/cluster/self"},
	} {
		if code := status(t, anon, r.method, r.path, "{}"); code != http.StatusUnauthorized {
			t.Errorf("%s %s without the secret: %d, want 401", r.method, r.path, code)
		}
	}
}
