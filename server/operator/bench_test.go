package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// fakeSite answers the API routes the operator reads with fixed
// answers of a busy site: 200 open exceptions, 100 ASNs, 100
// shipments, a unit with 20 history records. It stands in for a site
// at the protocol seam, so the benchmarks measure the operator's side
// (50 real sites do not fit the machine the benchmarks run on).
func fakeSite(tb testing.TB) *httptest.Server {
	now := hlc.FromTime(time.Now())
	var xs []unit.Exception
	for i := range 200 {
		xs = append(xs, unit.Exception{ID: fmt.Sprintf("X%04d", i), Rule: unit.RuleDuplicateSerial, Severity: unit.Severity(i%3 + 1),
			Status: unit.ExceptionOpen, Unit: event.SGTIN("00300010123455", fmt.Sprintf("S%d", i)), Client: "a", Detail: "detail", Opened: now, Updated: now})
	}
	var asns []master.ASN
	var ships []master.Shipment
	for i := range 100 {
		asns = append(asns, master.ASN{ID: fmt.Sprintf("ASN%d", i), Client: "a", Closed: i%2 == 0})
		ships = append(ships, master.Shipment{ID: fmt.Sprintf("SH%d", i), Client: "a", Destination: "0300010000014", Departed: i%3 == 0})
	}
	k := event.SGTIN("00300010123455", "S1")
	var hist []record
	for i := range 20 {
		hist = append(hist, record{Event: event.Event{Kind: event.KindMove, HLC: now, Device: "hh1", User: "u", Client: "a", Subjects: []event.Subject{{Key: k}}}, Index: uint64(i)})
	}
	answers := map[string]any{
		"/api/v1/cluster/status":     map[string]any{"leader": "n1", "nodes": []map[string]any{{"id": "n1", "state": "leader", "applied": 100}}},
		"/api/v1/asns":               map[string]any{"items": asns},
		"/api/v1/shipments":          map[string]any{"items": ships},
		"/api/v1/exceptions":         map[string]any{"items": xs},
		"/api/v1/units/" + string(k): map[string]any{"unit": unit.State{Key: k, Client: "a", Status: unit.StatusInStock, Lot: "L1"}, "history": hist},
	}
	enc := map[string][]byte{}
	for p, v := range answers {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		enc[p] = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			io.WriteString(w, "custody_sync_devices{node=\"n1\"} 4\n")
			return
		}
		b, ok := enc[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"not found"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func benchOperator(b *testing.B, n int) *Operator {
	u := User{ID: "all", Role: RoleViewer, Clients: []string{"*"}}
	u.Pass.Hash = []byte{1}
	f := File{Users: []User{u}}
	for i := range n {
		f.Sites = append(f.Sites, Site{ID: fmt.Sprintf("s%02d", i), URL: fakeSite(b).URL, User: "op", Clients: []string{"a"}})
	}
	o, err := New(Config{File: f, DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.cache.Close() })
	return o
}

// BenchmarkOverviewRound: one round of reads of 50 sites (what the
// overview shows comes from it), cached in Badger.
func BenchmarkOverviewRound(b *testing.B) {
	o := benchOperator(b, 50)
	for b.Loop() {
		o.poller.round(context.Background())
	}
	for _, s := range o.poller.snapshots() {
		if !s.Up || len(s.Exceptions) != 400 {
			b.Fatalf("site %s: up %v, %d exceptions (%s)", s.Site, s.Up, len(s.Exceptions), s.Error)
		}
	}
}

// BenchmarkSearch10: a serial search over 10 sites (each answers the
// unit and 20 history records).
func BenchmarkSearch10(b *testing.B) {
	o := benchOperator(b, 10)
	u := &o.cfg.Users[0]
	k := event.SGTIN("00300010123455", "S1")
	for b.Loop() {
		as := o.eachSite(context.Background(), u, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
			var uv struct {
				Unit    unit.State `json:"unit"`
				History []record   `json:"history"`
			}
			if err := c.get(ctx, "/api/v1/units/"+url.PathEscape(string(k)), url.Values{"history": {"100"}}, &uv); err != nil {
				return err
			}
			a.Found, a.Unit, a.History = true, uv.Unit, uv.History
			return nil
		})
		if len(as) != 10 || !as[9].Found || !strings.HasPrefix(string(as[9].Unit.Key), "01") {
			b.Fatalf("answers %+v", as[9])
		}
	}
}

// BenchmarkSearchRealSites: a serial search over 10 real one-node sites
// in this process (raft, Badger, the HTTP API), the unit at one of them
// with its history.
func BenchmarkSearchRealSites(b *testing.B) {
	var sites []Site
	var at *sitetest.Site
	for i := range 10 {
		s := sitetest.Start(b, sitetest.Options{})
		sites = append(sites, Site{ID: fmt.Sprintf("s%02d", i), URL: s.Members[0].URL(), User: "admin", Clients: []string{"a"}})
		if i == 4 {
			at = s
		}
	}
	k := event.SGTIN("00300010123455", "REAL1")
	receiveTB(b, at, k)
	u := User{ID: "all", Role: RoleViewer, Clients: []string{"*"}}
	u.Pass.Hash = []byte{1}
	o, err := New(Config{File: File{Users: []User{u}, Sites: sites}, DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { o.cache.Close() })
	for b.Loop() {
		found := 0
		for _, a := range o.eachSite(context.Background(), &u, func(ctx context.Context, c *siteClient, a *siteAnswer) error {
			var uv struct {
				Unit    unit.State `json:"unit"`
				History []record   `json:"history"`
			}
			err := c.get(ctx, "/api/v1/units/"+url.PathEscape(string(k)), url.Values{"history": {"100"}}, &uv)
			if notFound(err) {
				return nil
			}
			a.Found = err == nil
			return err
		}) {
			if a.Error != "" {
				b.Fatal(a.Error)
			}
			if a.Found {
				found++
			}
		}
		if found != 1 {
			b.Fatalf("found at %d sites", found)
		}
	}
}

// receiveTB gives a site client a and its product, and receives k.
func receiveTB(tb testing.TB, s *sitetest.Site, k event.Key) {
	n := s.Members[0].Node
	for typ, v := range map[command.Type]any{command.TypeClient: master.Client{ID: "a", Name: "A"}} {
		data, _ := command.EncodeJSON(typ, v)
		if _, err := n.Propose(context.Background(), data, false); err != nil {
			tb.Fatal(err)
		}
	}
	data, _ := command.EncodeJSON(command.TypeProduct, master.Product{GTIN: k.GTIN(), Client: "a", Name: "Pill", CompanyPrefixLen: 7})
	if _, err := n.Propose(context.Background(), data, false); err != nil {
		tb.Fatal(err)
	}
	ev := event.Event{ID: event.ID{7}, Device: "hh", Epoch: 1, Seq: 1, HLC: hlc.FromTime(time.Now()), User: "admin", Site: "site", Client: "a",
		Kind: event.KindReceive, Ctx: event.Context{To: "A-01", Lot: "L1"}, Subjects: []event.Subject{{Key: k}}}
	vs, err := n.SubmitEvents(context.Background(), []event.Event{ev}, false)
	if err != nil || vs[0].Status != command.StatusApplied {
		tb.Fatalf("receive: %v %+v", err, vs)
	}
}
