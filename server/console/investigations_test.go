package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/server/webui/webuitest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
)

// TestInvestigationPages: a lead sees an investigation of its client
// with the clock, declares the product illegitimate from the page (the
// clock runs), downloads the Form 3911 draft as a PDF and marks the FDA
// notice sent; another client's lead gets 404.
func TestInvestigationPages(t *testing.T) {
	e := newEnv(t)
	e.propose(command.TypeInvestigation, command.InvestigationStep{ID: "INV-1", Action: command.ActionOpen, By: "lead-a", At: hlc.New(1_790_000_000_000, 0),
		Client: "a", Scope: state.ScopeLot, GTIN: gtinA, Lot: "LOTA", Trigger: command.TriggerPartner, Note: "wholesaler reports a suspect lot"})
	b := e.browser()
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	_, _, list := b.Do("GET", "/investigations", nil)
	if !strings.Contains(list, `href="/investigations/INV-1"`) {
		t.Fatalf("list: %.2000s", list)
	}
	_, _, page := b.Do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "wholesaler reports a suspect lot") || !strings.Contains(page, "SA1") {
		t.Fatalf("page: %.3000s", page)
	}
	code, _, body := b.Do("POST", "/investigations/INV-1", url.Values{"csrf": {webuitest.CSRF(t, page)}, "action": {"illegitimate"}, "note": {"not the maker's packaging"}})
	if code != http.StatusSeeOther {
		t.Fatalf("illegitimate: %d %.500s", code, body)
	}
	_, _, page = b.Do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "<strong>illegitimate</strong>") || !strings.Contains(page, "FDA notice due") {
		t.Fatalf("after the finding: %.3000s", page)
	}
	code, h, pdf := b.Do("GET", "/investigations/INV-1/form3911.pdf", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("pdf: %d %s", code, h.Get("Content-Type"))
	}
	code, _, _ = b.Do("POST", "/investigations/INV-1", url.Values{"csrf": {webuitest.CSRF(t, page)}, "action": {"notified"}, "to": {"fda"}})
	if code != http.StatusSeeOther {
		t.Fatalf("notified: %d", code)
	}
	_, _, page = b.Do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "Notifications sent") {
		t.Fatalf("after the notice: %.3000s", page)
	}
	other := e.browser()
	if code, _ := other.Login("lead-b", "lead b password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	if code, _, _ := other.Do("GET", "/investigations/INV-1", nil); code != http.StatusNotFound {
		t.Fatalf("another client's lead: %d", code)
	}
	if _, _, l := other.Do("GET", "/investigations", nil); strings.Contains(l, "INV-1") {
		t.Fatal("another client's lead lists the investigation")
	}
}

// TestOpenInvestigationFromAnException: a lead opens an investigation
// from an exception's page; the unit is quarantined at once.
func TestOpenInvestigationFromAnException(t *testing.T) {
	e := newEnv(t)
	unknown := event.SGTIN("00300010999999", "N1")
	e.receive("hh-a", "lead-a", "a", 2, unknown, "LOTN")
	b := e.browser()
	if code, _ := b.Login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	var xid string
	err := e.site.Members[0].Node.State().View(func(r *state.Reader) error {
		page, err := r.Exceptions(state.ExceptionFilter{Limit: 100})
		for _, x := range page.Items {
			if x.Unit == unknown {
				xid = x.ID
			}
		}
		return err
	})
	if err != nil || xid == "" {
		t.Fatalf("no exception on %s: %v", unknown, err)
	}
	_, _, page := b.Do("GET", "/exceptions/"+xid, nil)
	code, h, body := b.Do("POST", "/investigations", url.Values{"csrf": {webuitest.CSRF(t, page)}, "exception": {xid}, "description": {"no such product from this supplier"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/investigations/INV-") {
		t.Fatalf("open: %d %s %.500s", code, h.Get("Location"), body)
	}
	_, _, inv := b.Do("GET", h.Get("Location"), nil)
	if !strings.Contains(inv, "no such product from this supplier") || !strings.Contains(inv, `href="/exceptions/`+xid+`"`) {
		t.Fatalf("investigation page: %.3000s", inv)
	}
	err = e.site.Members[0].Node.State().View(func(r *state.Reader) error {
		u, err := r.Unit(unknown)
		if err == nil && !u.Holds.Has(event.HoldInvestigation) {
			t.Errorf("%s holds %s", unknown, u.Holds)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
