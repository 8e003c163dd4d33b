package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/custodyhq/custody/server/coalesce"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
)

// RetryError carries how long a caller should wait before retrying.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

func retry(err error, after time.Duration) error { return &RetryError{Err: err, After: after} }

func (n *Node) proposeAsync(data []byte) coalesce.Future {
	return n.raft.Apply(data, n.cfg.ApplyTimeout)
}

// proposeLocal proposes an entry on this node (the leader) and waits for
// its apply.
func (n *Node) proposeLocal(data []byte) (any, error) {
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return nil, raftErr(err)
	}
	if err, ok := f.Response().(error); ok {
		return nil, err
	}
	return f.Response(), nil
}

func raftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrRaftShutdown):
		return retry(fmt.Errorf("%w: %w", ErrNoLeader, err), time.Second)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return retry(fmt.Errorf("%w: %v", ErrBusy, err), time.Second)
	}
	return err
}

// SubmitEvents decides a batch of device events: on the leader through
// the coalescer, on a follower by forwarding to the leader. The verdicts
// come back after commit and apply. forwarded marks a request another
// node forwarded here; it is never forwarded again.
func (n *Node) SubmitEvents(ctx context.Context, evs []event.Event, forwarded bool) ([]command.Verdict, error) {
	if n.IsLeader() {
		vs, err := n.coal.Submit(ctx, evs)
		switch {
		case errors.Is(err, coalesce.ErrBusy):
			return nil, retry(fmt.Errorf("%w: %v", ErrBusy, err), 100*time.Millisecond)
		case err != nil:
			return nil, raftErr(err)
		}
		return vs, nil
	}
	if forwarded {
		return nil, retry(ErrNotLeader, 200*time.Millisecond)
	}
	// The leader's coalescer refuses what apply could not read; refuse
	// it here too, as the same error, rather than forward it.
	for i := range evs {
		if err := evs[i].Admit(); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", coalesce.ErrTooLarge, i, err)
		}
	}
	body := (&command.Events{Events: evs}).AppendBinary(nil)
	var vs []command.Verdict
	if err := n.forward(ctx, PathForwardEvents, body, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// Propose applies one command entry (not events) on the leader,
// forwarding from a follower. The result is the command's JSON result
// ("null" for none); a rejection comes back as an error wrapping
// command.ErrRejected or command.ErrNotFound.
func (n *Node) Propose(ctx context.Context, data []byte, forwarded bool) (json.RawMessage, error) {
	// Nothing enters the log that apply could not read: an entry apply
	// refuses as malformed is refused here, before it is proposed.
	if err := command.CheckEntry(data); err != nil {
		return nil, err
	}
	if n.IsLeader() {
		res, err := n.proposeLocal(data)
		if errors.Is(err, raft.ErrLeadershipLost) {
			// The entry may still commit under the next leader: not a
			// "retry" for a command that is not idempotent.
			return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
		}
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	if forwarded {
		return nil, retry(ErrNotLeader, 200*time.Millisecond)
	}
	var raw json.RawMessage
	if err := n.forward(ctx, PathForwardPropose, data, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// LeaderHTTP is the leader's API address (host:port).
func (n *Node) LeaderHTTP() (string, error) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return "", retry(ErrNoLeader, time.Second)
	}
	var rec state.Node
	err := n.st.View(func(r *state.Reader) error {
		var err error
		rec, err = r.Node(string(id))
		return err
	})
	if err != nil || rec.HTTP == "" {
		return "", retry(fmt.Errorf("%w: leader %s has not registered its address yet", ErrNoLeader, id), time.Second)
	}
	return rec.HTTP, nil
}

// ErrorBody is how nodes report errors to one another.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"` // rejected, not_found, no_leader, not_leader, busy, outcome_unknown
	Retry int    `json:"retryMs,omitempty"`
}

// ErrorCode classifies err for another node.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, command.ErrRejected), errors.Is(err, command.ErrPayload):
		return "rejected"
	case errors.Is(err, command.ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrNotLeader):
		return "not_leader"
	case errors.Is(err, ErrNoLeader):
		return "no_leader"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, ErrOutcomeUnknown):
		return "outcome_unknown"
	}
	return "internal"
}

func fromCode(b ErrorBody) error {
	after := time.Duration(b.Retry) * time.Millisecond
	switch b.Code {
	case "rejected":
		return fmt.Errorf("%w: %s", command.ErrRejected, b.Error)
	case "not_found":
		return fmt.Errorf("%w: %s", command.ErrNotFound, b.Error)
	case "not_leader", "no_leader":
		return retry(fmt.Errorf("%w: %s", ErrNoLeader, b.Error), max(after, 200*time.Millisecond))
	case "busy":
		return retry(fmt.Errorf("%w: %s", ErrBusy, b.Error), max(after, 100*time.Millisecond))
	case "outcome_unknown":
		return fmt.Errorf("%w: %s", ErrOutcomeUnknown, b.Error)
	}
	return fmt.Errorf("%w: %s", ErrForward, b.Error)
}

func (n *Node) forward(ctx context.Context, path string, body []byte, out any) error {
	addr, err := n.LeaderHTTP()
	if err != nil {
		return err
	}
	// What a failure means depends on whether the request reached the
	// leader. Until it is written whole (no connection, refused, reset
	// while sending) the leader cannot have acted on it: retrying is
	// safe. Once written, the leader may have applied it and only the
	// answer is lost: ErrAnswerLost, never "retry".
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
		if w.Err == nil {
			sent.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrForward, err)
	}
	req.Header.Set(HeaderForwarded, n.cfg.ID)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := n.http.Do(req)
	if err != nil {
		if sent.Load() {
			return answerLost(err)
		}
		return retry(fmt.Errorf("%w: %v", ErrForward, err), 500*time.Millisecond)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return answerLost(err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb ErrorBody
		if json.Unmarshal(b, &eb) != nil || eb.Code == "" {
			eb = ErrorBody{Error: fmt.Sprintf("leader answered %d: %s", resp.StatusCode, bytes.TrimSpace(b)), Code: "internal"}
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				eb.Code, eb.Retry = "no_leader", ra*1000
			}
		}
		return fromCode(eb)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return answerLost(fmt.Errorf("the leader's answer does not decode: %v", err))
	}
	return nil
}

// answerLost is the error of a forwarded write the leader received whose
// answer never came back. It wraps ErrForward too, so a device's push is
// still answered BUSY and resent: its events are idempotent.
func answerLost(err error) error {
	return fmt.Errorf("%w (%w): %v", ErrAnswerLost, ErrForward, err)
}
