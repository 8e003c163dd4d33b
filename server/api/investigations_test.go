package api_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/workload"
	"github.com/custodyhq/custody/shared/event"
)

// An investigation quarantines its units at once; declared illegitimate
// it starts the 24-hour clock and drafts Form 3911 from the units (JSON
// and PDF); the notification marked sent stops the clock; disposition
// closes it, with every step kept.
func TestInvestigation(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)
	adm.ok("PUT", "/api/v1/products/"+gtinA, map[string]any{"client": "a", "name": "Pill A", "ndc": "0001-0123-45", "companyPrefixLen": 7}, nil)
	adm.ok("PUT", "/api/v1/site", map[string]any{"id": "site", "name": "North DC", "gln": "0300011111215", "ssccPrefix": "030001"}, nil)
	g := workload.New(workload.Options{Seed: 5, Devices: 1, Client: "a", GTIN: gtinA, User: "op-a", Prefix: "api:op-a:d"})
	keys := []event.Key{event.SGTIN(gtinA, "S1"), event.SGTIN(gtinA, "S2"), event.SGTIN(gtinA, "S3")}
	var evs []event.Event
	for _, k := range keys {
		evs = append(evs, g.Event(event.KindReceive, event.Context{To: "A-01", Lot: "LOT7", Expiry: "301231"}, k))
	}
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": evs}, nil)

	open := map[string]any{"client": "a", "scope": "units", "keys": []string{string(keys[0]), string(keys[1])},
		"trigger": "suspicion", "description": "tamper seal broken on two packs"}
	if code, _, _ := adm.as("op-a").do("POST", "/api/v1/investigations", open); code != http.StatusForbidden {
		t.Fatalf("an operator opening an investigation: %d", code)
	}
	for name, bad := range map[string]map[string]any{
		"no description":       {"client": "a", "scope": "units", "keys": []string{string(keys[0])}, "trigger": "suspicion"},
		"an unknown trigger":   {"client": "a", "scope": "units", "keys": []string{string(keys[0])}, "trigger": "rumour", "description": "x"},
		"an unknown exception": {"client": "a", "scope": "units", "keys": []string{string(keys[0])}, "trigger": "exception", "exception": "nope", "description": "x"},
	} {
		if code, _, b := adm.as("lead-a").do("POST", "/api/v1/investigations", bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, code, b)
		}
	}
	type inv struct {
		ID, Status string
		Due        *string
		TimeLeft   string
		Overdue    bool
		Steps      []struct{ Action, By string }
	}
	var v inv
	adm.as("lead-a").ok("POST", "/api/v1/investigations", open, &v)
	if v.Status != "open" || len(v.Steps) != 1 || v.Steps[0].By != "lead-a" {
		t.Fatalf("opened %+v", v)
	}
	var unitView struct {
		Unit struct{ Holds string } `json:"unit"`
	}
	adm.as("op-a").ok("GET", "/api/v1/units/"+string(keys[0])+"?consistency=leader", nil, &unitView)
	if unitView.Unit.Holds != "investigation" {
		t.Fatalf("a unit under investigation holds %q", unitView.Unit.Holds)
	}
	if code, _, _ := adm.as("lead-a").do("POST", "/api/v1/investigations/"+v.ID+"/notified", map[string]any{"to": "fda"}); code != http.StatusBadRequest {
		t.Fatalf("a notification before the finding: %d", code)
	}
	adm.as("lead-a").ok("POST", "/api/v1/investigations/"+v.ID+"/illegitimate", map[string]any{"note": "manufacturer: not our packaging"}, &v)
	if v.Status != "illegitimate" || v.Due == nil || v.TimeLeft == "" || v.Overdue {
		t.Fatalf("illegitimate %+v", v)
	}
	var form struct {
		Reporter struct{ Name, GLN string }
		Client   string
		Products []struct {
			NDC, Lot, Expiry string
			Quantity         int
			Serials          []string
		}
		Description, TimeLeft string
	}
	adm.as("op-a").ok("GET", "/api/v1/investigations/"+v.ID+"/form3911?consistency=leader", nil, &form)
	if form.Reporter.GLN != "0300011111215" || form.Client != "a" || len(form.Products) != 1 || form.Products[0].NDC != "0001-0123-45" ||
		form.Products[0].Lot != "LOT7" || form.Products[0].Quantity != 2 || len(form.Products[0].Serials) != 2 || form.TimeLeft == "" {
		t.Fatalf("form 3911 draft %+v", form)
	}
	code, h, pdf := adm.as("op-a").do("GET", "/api/v1/investigations/"+v.ID+"/form3911?format=pdf", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("form 3911 pdf: %d %s %.20q", code, h.Get("Content-Type"), pdf)
	}
	if code, _, _ := adm.as("op-b").do("GET", "/api/v1/investigations/"+v.ID, nil); code != http.StatusNotFound {
		t.Fatalf("another client's user reading the investigation: %d", code)
	}
	var notices struct {
		Items []struct {
			To       string
			Products []struct{ Serials []string }
			Sent     *struct{ By string }
		}
	}
	adm.as("op-a").ok("GET", "/api/v1/investigations/"+v.ID+"/notices?consistency=leader", nil, &notices)
	if len(notices.Items) != 1 || notices.Items[0].To != "fda" || len(notices.Items[0].Products) != 1 || notices.Items[0].Sent != nil {
		t.Fatalf("notices before sending %+v", notices.Items)
	}
	id := v.ID
	v = inv{}
	adm.as("lead-a").ok("POST", "/api/v1/investigations/"+id+"/notified", map[string]any{"to": "fda"}, &v)
	if v.TimeLeft != "" || v.Overdue || v.Due == nil {
		t.Fatalf("after the FDA notification %+v", v)
	}
	adm.as("op-a").ok("GET", "/api/v1/investigations/"+id+"/notices?consistency=leader", nil, &notices)
	if notices.Items[0].Sent == nil || notices.Items[0].Sent.By != "lead-a" {
		t.Fatalf("notices after sending %+v", notices.Items)
	}
	adm.as("lead-a").ok("POST", "/api/v1/investigations/"+v.ID+"/dispose", map[string]any{"disposition": "destroyed"}, &v)
	if v.Status != "closed" || len(v.Steps) != 4 {
		t.Fatalf("closed %+v", v)
	}
	var list struct{ Items []inv }
	adm.as("op-a").ok("GET", "/api/v1/investigations?status=closed", nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != v.ID {
		t.Fatalf("list %+v", list.Items)
	}
}
