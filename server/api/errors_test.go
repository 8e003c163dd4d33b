package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/cluster"
)

// A command of unknown outcome is not answered 503 (which tells the
// caller to retry): retrying a command that is not idempotent could apply
// it twice.
func TestOutcomeUnknownIsNotServiceUnavailable(t *testing.T) {
	code, name := status(fmt.Errorf("propose: %w", cluster.ErrOutcomeUnknown))
	if code != http.StatusGatewayTimeout || name != "outcome_unknown" {
		t.Fatalf("status %d %s", code, name)
	}
}

// A forwarded write whose answer was lost may have been applied: it is
// neither a 503 "retry" nor an internal error, and the message says that
// sending it again is safe. An import that met another version of its
// ASN is a conflict.
func TestLostAnswerAndConflictStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		name string
	}{
		{fmt.Errorf("forward: %w (%w): EOF", cluster.ErrAnswerLost, cluster.ErrForward), http.StatusBadGateway, "answer_lost"},
		{fmt.Errorf("%w: ASN A1: another import", ErrConflict), http.StatusConflict, "conflict"},
		{fmt.Errorf("%w: refused", cluster.ErrForward), http.StatusServiceUnavailable, "no_leader"},
	} {
		code, name := status(tc.err)
		if code != tc.code || name != tc.name {
			t.Errorf("%v: %d %s, want %d %s", tc.err, code, name, tc.code, tc.name)
		}
	}
	if !strings.Contains(cluster.ErrAnswerLost.Error(), "may have been applied") ||
		!strings.Contains(cluster.ErrAnswerLost.Error(), "sending it again is safe") {
		t.Errorf("message %q", cluster.ErrAnswerLost)
	}
}
