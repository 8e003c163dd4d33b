package api

import (
	"fmt"
	"net/http"
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
