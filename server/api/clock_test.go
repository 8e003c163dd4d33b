package api

import (
	"testing"
	"time"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/hlc"
)

// The 24-hour clock: time left until the Form 3911 notification is
// marked sent, then overdue with high severity; a notification stops it.
func TestInvestigationClock(t *testing.T) {
	found := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	base := state.Investigation{ID: "INV-1", Status: state.InvestigationIllegitimate, Illegitimate: hlc.FromTime(found)}
	notified := base
	notified.Notices = []state.Notice{{To: "fda", By: "lead", At: hlc.FromTime(found.Add(time.Hour))}}
	partnerOnly := base
	partnerOnly.Notices = []state.Notice{{To: "p1", By: "lead", At: hlc.FromTime(found.Add(time.Hour))}}
	for _, tc := range []struct {
		name     string
		v        state.Investigation
		now      time.Time
		left     string
		overdue  bool
		severity string
	}{
		{"open: no clock", state.Investigation{Status: state.InvestigationOpen}, found, "", false, ""},
		{"an hour in", base, found.Add(time.Hour), "23h0m0s", false, ""},
		{"a partner told, FDA not", partnerOnly, found.Add(25 * time.Hour), "-1h0m0s", true, "high"},
		{"overdue", base, found.Add(25 * time.Hour), "-1h0m0s", true, "high"},
		{"FDA notified", notified, found.Add(25 * time.Hour), "", false, ""},
	} {
		w := toInvestigationWire(tc.v, tc.now)
		if w.TimeLeft != tc.left || w.Overdue != tc.overdue || w.Severity != tc.severity {
			t.Errorf("%s: left %q overdue %v severity %q", tc.name, w.TimeLeft, w.Overdue, w.Severity)
		}
	}
}
