package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/custodyhq/custody/server/sitetest"
)

// A fresh node's /metrics must keep answering after writes and reads:
// a latency label that pointed into a reused request buffer turned
// "GET" into "GETT" and made two series collide, and every scrape
// failed from then on.
func TestMetricsSurviveRequests(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	c := client{t: t, base: site.Members[0].URL(), user: "admin"}
	c.ok("PUT", "/api/v1/site", map[string]any{"id": "site-1", "name": "Site", "gln": "0614141000005"}, nil)
	c.ok("GET", "/api/v1/site", nil, nil)
	c.ok("GET", "/api/v1/site", nil, nil)
	for i := range 3 {
		code, _, b := c.do("GET", "/metrics", nil)
		if code != http.StatusOK {
			t.Fatalf("scrape %d: %d %s", i, code, b)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("scrape %d does not parse: %v", i, err)
		}
		fam := fams["custody_http_request_seconds"]
		if fam == nil {
			t.Fatalf("scrape %d has no request latency", i)
		}
		methods := map[string]bool{}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
		for m := range methods {
			switch m {
			case "GET", "PUT":
			default:
				t.Errorf("scrape %d: method label %q", i, m)
			}
		}
		if !methods["GET"] || !methods["PUT"] {
			t.Errorf("scrape %d: method labels %v, want GET and PUT", i, methods)
		}
	}
}
