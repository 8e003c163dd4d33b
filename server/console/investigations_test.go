package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
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
	if code, _ := b.login("lead-a", "lead a password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	_, _, list := b.do("GET", "/investigations", nil)
	if !strings.Contains(list, `href="/investigations/INV-1"`) {
		t.Fatalf("list: %.2000s", list)
	}
	_, _, page := b.do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "wholesaler reports a suspect lot") || !strings.Contains(page, "SA1") {
		t.Fatalf("page: %.3000s", page)
	}
	code, _, body := b.do("POST", "/investigations/INV-1", url.Values{"csrf": {csrfOf(t, page)}, "action": {"illegitimate"}, "note": {"not the maker's packaging"}})
	if code != http.StatusSeeOther {
		t.Fatalf("illegitimate: %d %.500s", code, body)
	}
	_, _, page = b.do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "<strong>illegitimate</strong>") || !strings.Contains(page, "FDA notice due") {
		t.Fatalf("after the finding: %.3000s", page)
	}
	code, h, pdf := b.do("GET", "/investigations/INV-1/form3911.pdf", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("pdf: %d %s", code, h.Get("Content-Type"))
	}
	code, _, _ = b.do("POST", "/investigations/INV-1", url.Values{"csrf": {csrfOf(t, page)}, "action": {"notified"}, "to": {"fda"}})
	if code != http.StatusSeeOther {
		t.Fatalf("notified: %d", code)
	}
	_, _, page = b.do("GET", "/investigations/INV-1", nil)
	if !strings.Contains(page, "Notifications sent") {
		t.Fatalf("after the notice: %.3000s", page)
	}
	other := e.browser()
	if code, _ := other.login("lead-b", "lead b password"); code != http.StatusSeeOther {
		t.Fatal(code)
	}
	if code, _, _ := other.do("GET", "/investigations/INV-1", nil); code != http.StatusNotFound {
		t.Fatalf("another client's lead: %d", code)
	}
	if _, _, l := other.do("GET", "/investigations", nil); strings.Contains(l, "INV-1") {
		t.Fatal("another client's lead lists the investigation")
	}
}
