package cluster

import (
	"errors"
	"fmt"
	"testing"
)

// A command whose leader lost its leadership while proposing it may
// still commit: the error says "outcome unknown", never "retry", also
// after crossing from the leader to the follower that forwarded it.
func TestOutcomeUnknownIsNotRetryable(t *testing.T) {
	err := fmt.Errorf("%w: leadership lost while committing log", ErrOutcomeUnknown)
	got := fromCode(ErrorBody{Error: err.Error(), Code: ErrorCode(err)})
	if !errors.Is(got, ErrOutcomeUnknown) {
		t.Fatalf("forwarded: %v", got)
	}
	var re *RetryError
	if errors.As(got, &re) || errors.Is(got, ErrNoLeader) {
		t.Fatalf("forwarded outcome-unknown error is retryable: %v", got)
	}
}
