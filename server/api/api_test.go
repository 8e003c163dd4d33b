package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
)

type client struct {
	t    *testing.T
	base string
	user string
}

func (c client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.Header.Set("X-Custody-User", c.user)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

func (c client) ok(method, path string, body any, out any) {
	c.t.Helper()
	code, _, b := c.do(method, path, body)
	if code != http.StatusOK && code != http.StatusCreated {
		c.t.Fatalf("%s %s as %s: %d %s", method, path, c.user, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func (c client) as(user string) client { c.user = user; return c }

func setupTenants(t *testing.T, adm client) {
	for _, cl := range []string{"a", "b"} {
		adm.ok("PUT", "/api/v1/clients/"+cl, map[string]any{"name": "Client " + cl}, nil)
		adm.ok("PUT", "/api/v1/users/op-"+cl, map[string]any{"name": "Op", "role": "operator", "clients": []string{cl}}, nil)
	}
	adm.ok("PUT", "/api/v1/users/lead-a", map[string]any{"name": "Lead", "role": "lead", "clients": []string{"a"}}, nil)
	adm.ok("PUT", "/api/v1/products/"+gtinA, map[string]any{"client": "a", "name": "Pill A", "companyPrefixLen": 7}, nil)
	adm.ok("PUT", "/api/v1/products/"+gtinB, map[string]any{"client": "b", "name": "Pill B", "companyPrefixLen": 7}, nil)
}

// The tenants' products.
const (
	gtinA = "00300010123455"
	gtinB = "00300020123452"
)

type verdicts struct {
	Verdicts []struct {
		Status string `json:"status"`
		Result struct {
			Verdict string `json:"verdict"`
		} `json:"result"`
	} `json:"verdicts"`
}

func TestClientIsolation(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	ga := workload.New(workload.Options{Seed: 1, Client: "a", Prefix: "api:op-a:d", GTIN: "00300010123455", User: "op-a"})
	gb := workload.New(workload.Options{Seed: 2, Client: "b", Prefix: "api:op-b:d", GTIN: "00300020123452", User: "op-b"})
	var v verdicts
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": ga.Receive(5)}, &v)
	if len(v.Verdicts) != 5 || v.Verdicts[0].Status != "applied" || v.Verdicts[0].Result.Verdict != "applied" {
		t.Fatalf("verdicts %+v", v)
	}
	adm.as("op-b").ok("POST", "/api/v1/events", map[string]any{"events": gb.Receive(3)}, nil)

	ua := ga.Units()[0]
	// Its own client's unit: found with history; another client's: 404.
	var view struct {
		Unit    struct{ Client string } `json:"unit"`
		History []json.RawMessage       `json:"history"`
	}
	adm.as("op-a").ok("GET", "/api/v1/units/"+string(ua), nil, &view)
	if view.Unit.Client != "a" || len(view.History) != 1 {
		t.Fatalf("unit view %+v", view)
	}
	if code, _, _ := adm.as("op-b").do("GET", "/api/v1/units/"+string(ua), nil); code != http.StatusNotFound {
		t.Fatalf("op-b reading client a's unit: %d", code)
	}
	// Lists are filtered.
	var page struct{ Items []struct{ Client string } }
	adm.as("op-b").ok("GET", "/api/v1/units", nil, &page)
	if len(page.Items) != 3 {
		t.Fatalf("op-b sees %d units", len(page.Items))
	}
	for _, u := range page.Items {
		if u.Client != "b" {
			t.Fatalf("op-b sees a unit of %s", u.Client)
		}
	}
	adm.ok("GET", "/api/v1/units", nil, &page)
	if len(page.Items) != 8 {
		t.Fatalf("admin sees %d units", len(page.Items))
	}
	var clients struct{ Items []struct{ ID string } }
	adm.as("op-a").ok("GET", "/api/v1/clients", nil, &clients)
	if len(clients.Items) != 1 || clients.Items[0].ID != "a" {
		t.Fatalf("op-a clients %+v", clients)
	}
	// Writing for a client not granted is refused; so is an unknown user.
	if code, _, _ := adm.as("op-b").do("POST", "/api/v1/events", map[string]any{"events": ga.Receive(1)}); code != http.StatusForbidden {
		t.Fatalf("op-b writing client a's events: %d", code)
	}
	if code, _, _ := adm.as("nobody").do("GET", "/api/v1/units", nil); code != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", code)
	}
	if code, _, _ := adm.as("op-a").do("PUT", "/api/v1/clients/c", map[string]any{}); code != http.StatusForbidden {
		t.Fatalf("operator writing master data: %d", code)
	}
	// Lot query (recall) and lot hold.
	var lot struct{ Items []struct{ Key string } }
	lotName := "L1"
	adm.as("op-a").ok("GET", "/api/v1/lots/00300010123455/"+lotName+"/units", nil, &lot)
	adm.as("op-b").ok("GET", "/api/v1/lots/00300010123455/"+lotName+"/units", nil, &page)
	if len(page.Items) != 0 {
		t.Fatalf("op-b sees client a's lot: %d", len(page.Items))
	}
	if code, _, _ := adm.as("op-a").do("POST", "/api/v1/holds", map[string]any{"client": "a", "scope": "lot", "gtin": "00300010123455", "lot": lotName, "reason": "recall"}); code != http.StatusForbidden {
		t.Fatalf("operator recall: %d", code)
	}
	adm.as("lead-a").ok("POST", "/api/v1/holds", map[string]any{"client": "a", "scope": "lot", "gtin": "00300010123455", "lot": lotName, "reason": "recall"}, nil)
	var held struct {
		Inherited string `json:"inheritedHolds"`
	}
	if len(lot.Items) > 0 {
		adm.as("op-a").ok("GET", "/api/v1/units/"+lot.Items[0].Key+"?consistency=leader", nil, &held)
		if held.Inherited != "recall" {
			t.Fatalf("unit of the recalled lot inherits %q", held.Inherited)
		}
		// The recall view: every unit carries its holds by name, and
		// ?held=1 finds the units held through the lot hold.
		var recall struct {
			Items []struct {
				Key          string
				Holds        any    `json:"holds"`
				Inherited    string `json:"inheritedHolds"`
				Completeness any    `json:"completeness"`
			}
		}
		adm.as("op-a").ok("GET", "/api/v1/lots/00300010123455/"+lotName+"/units?held=1&consistency=leader", nil, &recall)
		if len(recall.Items) != len(lot.Items) {
			t.Fatalf("held units of the recalled lot: %d of %d", len(recall.Items), len(lot.Items))
		}
		for _, u := range recall.Items {
			if u.Inherited != "recall" {
				t.Fatalf("unit %s in the recall view inherits %q", u.Key, u.Inherited)
			}
			if _, number := u.Holds.(float64); number {
				t.Fatalf("unit %s holds as a number: %v", u.Key, u.Holds)
			}
			if _, number := u.Completeness.(float64); number {
				t.Fatalf("unit %s completeness as a number: %v", u.Key, u.Completeness)
			}
		}
	}
	// Exceptions: op-b sees none of client a's.
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": ga.Mixed(200)}, nil)
	var xs struct {
		Items []struct{ ID, Client, Status string }
	}
	adm.as("op-a").ok("GET", "/api/v1/exceptions?status=open", nil, &xs)
	if len(xs.Items) == 0 {
		t.Fatal("no exceptions raised")
	}
	id := xs.Items[0].ID
	if code, _, _ := adm.as("op-b").do("GET", "/api/v1/exceptions/"+id, nil); code != http.StatusNotFound {
		t.Fatalf("op-b reading client a's exception: %d", code)
	}
	adm.as("op-a").ok("POST", "/api/v1/exceptions/"+id+"/acknowledge", nil, nil)
	if code, _, _ := adm.as("op-a").do("POST", "/api/v1/exceptions/"+id+"/resolve", map[string]any{"note": "x"}); code != http.StatusForbidden {
		t.Fatalf("operator resolving: %d", code)
	}
	var x struct{ Status, By, Note string }
	adm.as("lead-a").ok("POST", "/api/v1/exceptions/"+id+"/resolve", map[string]any{"note": "checked"}, &x)
	if x.Status != "resolved" || x.By != "lead-a" {
		t.Fatalf("resolved %+v", x)
	}
	if code, _, _ := adm.as("lead-a").do("POST", "/api/v1/exceptions/"+id+"/resolve", nil); code != http.StatusBadRequest {
		t.Fatalf("resolving twice: %d", code)
	}
}

func TestBadInput(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	// Orders and shipments too large to reach handhelds in a sync frame.
	var lines, containers []string
	for i := range 8000 {
		lines = append(lines, fmt.Sprintf(`{"id":"L%d","gtin":"00300010123455","qty":1}`, i))
	}
	for i := range 12000 {
		containers = append(containers, `"`+string(event.SGTIN("00300010123455", fmt.Sprintf("C%d", i)))+`"`)
	}
	bigOrder := `{"id":"SO-BIG","client":"acme","customer":"c","lines":[` + strings.Join(lines, ",") + `]}`
	bigShipment := `{"id":"SH-BIG","client":"acme","destination":"x","containers":[` + strings.Join(containers, ",") + `]}`
	cases := []struct {
		method, path string
		body         any
		code         int
		field        string
	}{
		{"POST", "/api/v1/orders", bigOrder, 400, "lines"},
		{"POST", "/api/v1/shipments", bigShipment, 400, "containers"},
		{"POST", "/api/v1/events", `{"events": 3}`, 400, "events"},
		{"POST", "/api/v1/events", `{`, 400, "body"},
		{"POST", "/api/v1/events", `{"events": []}`, 400, "events"},
		{"PUT", "/api/v1/products/123", `{"client":"x"}`, 400, ""},
		{"PUT", "/api/v1/users/u1", `{"role":"boss"}`, 400, "role"},
		{"GET", "/api/v1/units/0123", nil, 400, "key"},
		{"GET", "/api/v1/units?status=lost", nil, 400, "status"},
		{"GET", "/api/v1/units?consistency=eventual", nil, 400, "consistency"},
		{"GET", "/api/v1/units/010030001012345521NOPE", nil, 404, ""},
		{"POST", "/api/v1/asns", `{"id":"A1","client":"acme","items":[{"key":"0100300010123455219","parent":"00123"}]}`, 400, ""},
	}
	for _, c := range cases {
		code, _, b := adm.do(c.method, c.path, c.body)
		var eb struct{ Error, Code, Field string }
		json.Unmarshal(b, &eb)
		if code != c.code || eb.Field != c.field || eb.Error == "" {
			t.Errorf("%s %s: %d %s, want %d field %q", c.method, c.path, code, b, c.code, c.field)
		}
	}
	// An event that breaks an envelope rule is refused with 400 naming
	// the field; nothing of the request is proposed, so the device's
	// sequence is untouched and the corrected request applies whole.
	g := workload.New(workload.Options{Seed: 3})
	evs := g.Receive(2)
	evs[0].Kind = event.KindPick // a pick without an order
	code, _, b := adm.do("POST", "/api/v1/events", map[string]any{"events": evs})
	var eb struct{ Field string }
	json.Unmarshal(b, &eb)
	if code != http.StatusBadRequest || eb.Field != "events[0].ctx.order" {
		t.Fatalf("pick without an order: %d %s", code, b)
	}
	evs[0].Ctx.Order, evs[0].Ctx.Line = "SO-1", "1"
	var v struct {
		Verdicts []struct{ Status, Reason string }
	}
	adm.ok("POST", "/api/v1/events", map[string]any{"events": evs}, &v)
	if len(v.Verdicts) != 2 || v.Verdicts[0].Status != "applied" || v.Verdicts[1].Status != "applied" {
		t.Fatalf("%+v", v)
	}
	// Too many events: 413.
	many := fmt.Sprintf(`{"events":[%s{}]}`, strings.Repeat(`{},`, 10000))
	if code, _, b := adm.do("POST", "/api/v1/events", many); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("10,001 events: %d %s", code, b)
	}
	// A body over the limit: 413 as soon as the headers are read.
	conn, err := net.Dial("tcp", site.Members[0].HTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Custody-User: admin\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 9<<20)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
}

func TestNoLeaderAnswers503WithRetryAfter(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(10 * time.Second)
	var last *sitetest.Member
	for _, m := range site.Members {
		if m != leader {
			last = m
		}
	}
	for _, m := range site.Members {
		if m != last {
			site.Stop(m)
		}
	}
	c := client{t: t, base: last.URL(), user: "admin"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, h, b := c.do("PUT", "/api/v1/clients/z", map[string]any{"name": "Z"})
		if code == http.StatusServiceUnavailable {
			if h.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After: %s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lone node still answers %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The write can fail while the node still holds its leader lease;
	// readyz turns once it steps down.
	for {
		code, _, _ := c.do("GET", "/readyz", nil)
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz without a quorum: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Local reads still work; leader reads do not.
	if code, _, _ := c.do("GET", "/api/v1/clients", nil); code != http.StatusOK {
		t.Fatalf("local read: %d", code)
	}
	if code, _, _ := c.do("GET", "/api/v1/clients?consistency=leader", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("leader read without a leader: %d", code)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	c := client{t: t, base: site.Members[0].URL()}
	if code, _, _ := c.do("GET", "/healthz", nil); code != 200 {
		t.Fatal(code)
	}
	if code, _, _ := c.do("GET", "/readyz", nil); code != 200 {
		t.Fatal(code)
	}
	c.as("admin").ok("GET", "/api/v1/units", nil, nil)
	_, _, b := c.do("GET", "/metrics", nil)
	if !strings.Contains(string(b), `custody_state_log_bytes{node="n1"}`) || strings.Contains(string(b), `custody_state_log_bytes{node="n1"} 0`+"\n") {
		t.Errorf("the state's logs take no room on disk:\n%s", b)
	}
	for _, want := range []string{"custody_http_request_seconds_bucket", `route="/api/v1/units"`, "custody_raft_leader", "custody_coalescer_queued_events",
		"custody_raft_last_contact_seconds", "custody_state_lsm_bytes", "custody_state_log_bytes"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
