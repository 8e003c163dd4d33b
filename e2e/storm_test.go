package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodyhq/custody/e2e/procs"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
)

// Bounds of the storm: it runs in the normal test command.
const (
	stormRequests = 2400
	stormTime     = 90 * time.Second
	stormWorkers  = 8
)

// TestRequestStormLeavesTheClusterWhole: an operator with admin rights
// fires generated and mutated requests at every route of a three-node
// cluster — valid-looking events, events over every limit, identifiers
// a scan would refuse, wrong JSON types, garbage, raw bytes at the
// node-to-node endpoints — at the leader and at followers. Afterwards
// every process is alive, the state hashes agree, and a control write
// works. No request is answered 500.
func TestRequestStormLeavesTheClusterWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	bin := procs.Build(t, t.TempDir(), "github.com/custodyhq/custody/server/cmd/custody-server")
	nodes := procs.StartCluster(t, bin, 3)
	defer func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("--- %s log tail:\n%s", n.ID, n.Proc.Tail(3000))
			}
		}
	}()
	adm := procs.Client(nodes[0], "admin")
	ctx := context.Background()
	gtin := workload.GTIN(0)
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/api/v1/clients/acme", map[string]any{"name": "Acme"}},
		{"PUT", "/api/v1/products/" + gtin, map[string]any{"client": "acme", "name": "Pill"}},
		{"PUT", "/api/v1/partners/CUST-1", map[string]any{"name": "Pharmacy", "gln": "0614141000005"}},
		{"PUT", "/api/v1/locations/A-01", map[string]any{"zone": "A"}},
	} {
		if err := adm.Do(ctx, r.method, r.path, r.body, nil); err != nil {
			t.Fatalf("setup %s %s: %v", r.method, r.path, err)
		}
	}

	var (
		sent     atomic.Int64
		mu       sync.Mutex
		statuses = map[int]int{}
		failures []string
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(stormTime)
	hc := &http.Client{Timeout: 20 * time.Second}
	for w := range stormWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &storm{r: rand.New(rand.NewPCG(uint64(w), 99)), gtin: gtin,
				g: workload.New(workload.Options{Seed: uint64(w + 1), Client: "acme", User: "admin", GTIN: gtin,
					Prefix: fmt.Sprintf("api:admin:storm%d", w)})}
			for sent.Add(1) <= stormRequests && time.Now().Before(deadline) {
				n := nodes[s.r.IntN(len(nodes))]
				method, path, body := s.request()
				code, answer, err := send(hc, n, method, path, body)
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%s %s to %s: %v", method, path, n.ID, err))
				case code >= 500 && code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout && code != http.StatusBadGateway:
					failures = append(failures, fmt.Sprintf("%s %s to %s: %d %.300s (body %.200q)", method, path, n.ID, code, answer, body))
				}
				statuses[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	codes := make([]int, 0, len(statuses))
	total := 0
	for c, k := range statuses {
		codes = append(codes, c)
		total += k
	}
	sort.Ints(codes)
	var summary []string
	for _, c := range codes {
		summary = append(summary, fmt.Sprintf("%d×%d", c, statuses[c]))
	}
	t.Logf("%d requests: %s", total, strings.Join(summary, " "))
	for i, f := range failures {
		if i == 20 {
			t.Errorf("… and %d more", len(failures)-20)
			break
		}
		t.Error(f)
	}
	for _, n := range nodes {
		if !n.Proc.Running() {
			t.Fatalf("%s is not running after the storm", n.ID)
		}
	}
	// A control write through every node, then all three agree.
	g := workload.New(workload.Options{Seed: 1000, Client: "acme", User: "admin", GTIN: gtin, Prefix: "api:admin:control"})
	for _, n := range nodes {
		var ans submitAnswer
		evs := g.Receive(1)
		err := retry503(func() error {
			return procs.Client(n, "admin").Do(ctx, "POST", "/api/v1/events", map[string]any{"events": evs}, &ans)
		})
		if err != nil || len(ans.Verdicts) != 1 || ans.Verdicts[0].Status != "applied" {
			t.Fatalf("control write through %s: %v %+v", n.ID, err, ans)
		}
	}
	waitSameHash(t, nodes)
}

// retry503 retries f while the cluster answers 503 (between leaders).
func retry503(f func() error) error {
	for range 100 {
		err := f()
		var he *procs.HTTPError
		if err == nil || !(asHTTP(err, &he) && he.Status == http.StatusServiceUnavailable) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return f()
}

func asHTTP(err error, he **procs.HTTPError) bool {
	e, ok := err.(*procs.HTTPError)
	if ok {
		*he = e
	}
	return ok
}

// send sends one raw request as admin and returns the status and body.
func send(hc *http.Client, n *procs.Server, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, n.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Custody-User", "admin")
	if strings.HasPrefix(path, "/internal/") {
		req.Header.Set("Content-Type", "application/octet-stream")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// storm generates requests for one worker.
type storm struct {
	r    *rand.Rand
	g    *workload.Gen
	gtin string
}

func (s *storm) pick(xs ...string) string { return xs[s.r.IntN(len(xs))] }

// id is a record id: mostly plain, sometimes hostile. It goes into
// paths too, so it stays under the request-line limit (a 70 KB path is
// refused by the HTTP server before any handler runs).
func (s *storm) id() string {
	if s.r.IntN(4) == 0 {
		h := s.hostile().(string)
		return url.PathEscape(h[:min(len(h), 2000)])
	}
	return fmt.Sprintf("R-%d", s.r.IntN(50))
}

// hostile is a value a careless or hostile client might send.
func (s *storm) hostile() any {
	switch s.r.IntN(12) {
	case 0:
		return strings.Repeat("x", 1100)
	case 1:
		return strings.Repeat("y", 70000)
	case 2:
		return "L1\x1d21SN9"
	case 3:
		return "javascript:alert(1)"
	case 4:
		return "<script>alert(1)</script>"
	case 5:
		return "281301"
	case 6:
		return "00300010123454"
	case 7:
		return "\x00\xff\xfe"
	case 8:
		return "../../etc/passwd"
	case 9:
		return ""
	case 10:
		return "ABCDEF"
	}
	return "999999"
}

// wrongType is a JSON value of an unexpected type.
func (s *storm) wrongType() any {
	switch s.r.IntN(7) {
	case 0:
		return nil
	case 1:
		return -1
	case 2:
		return 1e308
	case 3:
		return true
	case 4:
		return []any{1, "a", nil}
	case 5:
		return map[string]any{"x": []any{map[string]any{}}}
	}
	return s.hostile()
}

// mutate changes one field of m (recursively, sometimes deeper).
func (s *storm) mutate(m map[string]any) {
	if len(m) == 0 {
		m["x"] = s.wrongType()
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	k := keys[s.r.IntN(len(keys))]
	if sub, ok := m[k].(map[string]any); ok && s.r.IntN(2) == 0 {
		s.mutate(sub)
		return
	}
	if arr, ok := m[k].([]any); ok && len(arr) > 0 && s.r.IntN(2) == 0 {
		if sub, ok := arr[s.r.IntN(len(arr))].(map[string]any); ok {
			s.mutate(sub)
			return
		}
	}
	switch s.r.IntN(3) {
	case 0:
		m[k] = s.hostile()
	case 1:
		m[k] = s.wrongType()
	default:
		delete(m, k)
	}
}

// asMap turns v into generic JSON.
func asMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// body encodes m, sometimes broken as bytes.
func (s *storm) body(m map[string]any) []byte {
	b, _ := json.Marshal(m)
	switch s.r.IntN(10) {
	case 0:
		return b[:s.r.IntN(len(b)+1)]
	case 1:
		if len(b) > 0 {
			b[s.r.IntN(len(b))] ^= byte(1 + s.r.IntN(255))
		}
	case 2:
		return []byte(strings.Repeat("[", 20000))
	}
	return b
}

// events is a valid-looking submission, mutated more often than not.
func (s *storm) events() map[string]any {
	evs := s.g.Receive(1 + s.r.IntN(3))
	if s.r.IntN(3) == 0 {
		evs = s.g.Mixed(1 + s.r.IntN(5))
	}
	if s.r.IntN(4) != 0 {
		e := &evs[s.r.IntN(len(evs))]
		switch s.r.IntN(8) {
		case 0:
			e.Subjects = make([]event.Subject, event.MaxSubjects+1)
			for i := range e.Subjects {
				e.Subjects[i].Key = event.SGTIN(s.gtin, fmt.Sprintf("Z%d", i))
			}
		case 1:
			e.Ctx.Lot = strings.Repeat("L", 1100)
		case 2:
			e.Device = "api:admin:" + strings.Repeat("d", 1100)
		case 3:
			e.Subjects[0].Key = event.Key("01" + strings.Repeat("0", 1100))
		case 4:
			e.Ctx.Expiry = s.pick("281301", "ABCDEF", "999999", "000000")
		case 5:
			e.Subjects[0].Key = event.SGTIN("00300010123454", "SN1")
		default:
			m := map[string]any{"events": []any{asMap(e)}}
			s.mutate(m["events"].([]any)[0].(map[string]any))
			return m
		}
	}
	out := make([]any, len(evs))
	for i := range evs {
		out[i] = asMap(&evs[i])
	}
	return map[string]any{"events": out}
}

// request is the next request: a route and a body, valid-looking or not.
func (s *storm) request() (method, path string, body []byte) {
	valid := s.r.IntN(3) == 0
	fix := func(m map[string]any) []byte {
		if !valid {
			s.mutate(m)
			return s.body(m)
		}
		b, _ := json.Marshal(m)
		return b
	}
	key := string(event.SGTIN(s.gtin, fmt.Sprintf("S%d", s.r.IntN(100))))
	switch s.r.IntN(20) {
	case 0, 1, 2, 3, 4, 5:
		return "POST", "/api/v1/events", s.body(s.events())
	case 6:
		return "PUT", "/api/v1/site", fix(map[string]any{"id": "site", "name": "Main", "gln": "0614141000005"})
	case 7:
		return "PUT", "/api/v1/clients/" + s.pick("acme", "globex"), fix(map[string]any{"name": "C", "policy": map[string]any{"fefo": "warn"}})
	case 8:
		return "PUT", "/api/v1/products/" + s.pick(s.gtin, "00300010123454", workload.GTIN(1)), fix(map[string]any{"client": s.pick("acme", "nobody"), "name": "P", "companyPrefixLen": 7})
	case 9:
		return "PUT", "/api/v1/locations/" + s.pick("A-02", "B-01"), fix(map[string]any{"zone": "B"})
	case 10:
		return "PUT", "/api/v1/partners/" + s.pick("CUST-2", "SUP-1"), fix(map[string]any{"name": "P", "gln": "0614141000005"})
	case 11:
		return "PUT", "/api/v1/users/" + s.pick("op-1", "lead-1"), fix(map[string]any{"name": "U", "role": "operator", "clients": []any{"acme"}})
	case 12:
		return "POST", "/api/v1/asns", fix(map[string]any{"id": s.id(), "client": "acme", "supplier": "SUP-1",
			"items": []any{map[string]any{"key": key, "lot": "L1", "expiry": "301231"}}})
	case 13:
		return "POST", "/api/v1/asns/epcis", []byte(s.pick(`<?xml version="1.0"?><epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1"><EPCISBody><EventList><ObjectEvent/></EventList></EPCISBody></epcis:EPCISDocument>`,
			`{"@context":"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld","type":"EPCISDocument","epcisBody":{"eventList":[{"type":"ObjectEvent"}]}}`, `{"garbage":`))
	case 14:
		return "POST", "/api/v1/orders", fix(map[string]any{"id": s.id(), "client": "acme", "customer": "CUST-1",
			"lines": []any{map[string]any{"id": "1", "gtin": s.gtin, "qty": 1 + s.r.IntN(3), "lot": "L1"}}})
	case 15:
		return "POST", "/api/v1/shipments", fix(map[string]any{"id": s.id(), "client": "acme",
			"destination": s.pick("CUST-1", "0614141000005", "javascript:alert(1)"), "orders": []any{"R-1"}})
	case 16:
		if s.r.IntN(2) == 0 {
			return "POST", "/api/v1/holds/" + s.id() + "/release", fix(map[string]any{"note": "n"})
		}
		return "POST", "/api/v1/holds", fix(map[string]any{"client": "acme", "scope": s.pick("lot", "product"), "gtin": s.gtin, "lot": "L1", "reason": "recall"})
	case 17:
		return "POST", "/api/v1/exceptions/" + s.id() + "/" + s.pick("acknowledge", "resolve"), fix(map[string]any{"note": "n"})
	case 18:
		return "GET", s.pick("/api/v1/units?limit=5", "/api/v1/units/"+key, "/api/v1/exceptions", "/api/v1/orders", "/api/v1/shipments",
			"/api/v1/asns", "/api/v1/holds", "/api/v1/cluster/status", "/api/v1/cluster/hash", "/api/v1/products",
			"/api/v1/units/"+s.id(), "/api/v1/lots/"+s.gtin+"/L1/units?consistency=leader"), nil
	}
	// The node-to-node endpoints (open without a cluster secret): raw
	// bytes behind a valid envelope, as a faulty or hostile node might.
	if s.r.IntN(2) == 0 {
		b := make([]byte, s.r.IntN(300))
		for i := range b {
			b[i] = byte(s.r.UintN(256))
		}
		return "POST", "/internal/v1/events", b
	}
	typ := []uint64{1, 3, 4, 5, 6, 9, 10, 11, 12, 19}[s.r.IntN(10)]
	env := binary.AppendUvarint([]byte{1}, typ)
	payload := fix(map[string]any{"id": s.id(), "client": "acme", "gtin": s.gtin, "events": []any{}})
	if typ == 1 {
		payload = payload[:min(len(payload), 9)]
	}
	return "POST", "/internal/v1/propose", append(env, payload...)
}
