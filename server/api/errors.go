package api

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/coalesce"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// Errors the API raises itself.
var (
	// ErrBadInput reports a request that is malformed or breaks a rule.
	ErrBadInput = errors.New("bad input")
	// ErrUnauthenticated reports a request that names no known user.
	ErrUnauthenticated = errors.New("unknown user")
	// ErrForbidden reports a user without the role or client grant the request needs.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound reports a record that does not exist or that the user may not see.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable reports a feature this build cannot serve yet.
	ErrUnavailable = errors.New("not available")
	// ErrConflict reports a write that met a concurrent one: sending it
	// again makes it take effect.
	ErrConflict = errors.New("conflict")
	// errProxied tells a handler the response was already written by
	// forwarding the request to the leader.
	errProxied = errors.New("proxied to the leader")
)

// fieldError is a bad input with the field it is about.
type fieldError struct {
	Field  string
	Reason string
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Reason }
func (e *fieldError) Unwrap() error { return ErrBadInput }

func badField(field, format string, a ...any) error {
	return &fieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	// Problems and ProblemCount: a document that breaks the rules, its
	// first problems and how many there are in all.
	Problems     []problemWire `json:"problems,omitempty"`
	ProblemCount int           `json:"problemCount,omitempty"`
}

// status maps an error to its HTTP status and code: the one place that
// knows how every package's sentinel errors look on the wire.
func status(err error) (int, string) {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "too_large"
		case fiber.StatusNotFound:
			return fe.Code, "not_found"
		case fiber.StatusMethodNotAllowed:
			return fe.Code, "method_not_allowed"
		case fiber.StatusUnauthorized:
			return fe.Code, "unauthenticated"
		case fiber.StatusForbidden:
			return fe.Code, "forbidden"
		case fiber.StatusTooManyRequests:
			return fe.Code, "rate_limited"
		}
		return fe.Code, "bad_request"
	case errors.Is(err, certs.ErrTokenMalformed), errors.Is(err, certs.ErrBadCSR), errors.Is(err, certs.ErrBadDeviceID):
		return fiber.StatusBadRequest, "bad_request"
	case errors.Is(err, certs.ErrTokenUnknown), errors.Is(err, certs.ErrTokenUsed), errors.Is(err, certs.ErrTokenExpired),
		errors.Is(err, certs.ErrRevoked):
		return fiber.StatusForbidden, "forbidden"
	case errors.Is(err, cluster.ErrJoinUnanswered):
		return fiber.StatusServiceUnavailable, "join_unanswered"
	case errors.Is(err, ErrBadInput), errors.Is(err, event.ErrInvalid), errors.Is(err, event.ErrKey),
		errors.Is(err, event.ErrEncoding), errors.Is(err, event.ErrUnknownKind), errors.Is(err, master.ErrInvalid),
		errors.Is(err, command.ErrRejected), errors.Is(err, command.ErrPayload), errors.Is(err, cluster.ErrMembership):
		return fiber.StatusBadRequest, "bad_request"
	case errors.Is(err, coalesce.ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, ErrUnauthenticated):
		return fiber.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, ErrForbidden):
		return fiber.StatusForbidden, "forbidden"
	case errors.Is(err, ErrNotFound), errors.Is(err, state.ErrNotFound), errors.Is(err, command.ErrNotFound):
		return fiber.StatusNotFound, "not_found"
	case errors.Is(err, cluster.ErrOutcomeUnknown):
		return fiber.StatusGatewayTimeout, "outcome_unknown"
	case errors.Is(err, cluster.ErrAnswerLost):
		// Not 503: the write may have been applied. Sending it again is
		// safe (events, ASN items and records are idempotent), which the
		// message says.
		return fiber.StatusBadGateway, "answer_lost"
	case errors.Is(err, ErrConflict):
		return fiber.StatusConflict, "conflict"
	case errors.Is(err, cluster.ErrBusy), errors.Is(err, coalesce.ErrBusy):
		return fiber.StatusServiceUnavailable, "busy"
	case errors.Is(err, cluster.ErrStale):
		return fiber.StatusServiceUnavailable, "stale"
	case errors.Is(err, cluster.ErrNoLeader), errors.Is(err, cluster.ErrNotLeader), errors.Is(err, cluster.ErrForward),
		errors.Is(err, coalesce.ErrStopped):
		return fiber.StatusServiceUnavailable, "no_leader"
	case errors.Is(err, ErrUnavailable):
		return fiber.StatusNotImplemented, "not_available"
	}
	return fiber.StatusInternalServerError, "internal"
}

// notFoundText is the whole body of every record's 404.
const notFoundText = "not found"

// recordNotFound reports a record that does not exist or that the user
// may not see. Both answer the very same body: how the state or the
// check worded it would tell another client's record from no record.
func recordNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, state.ErrNotFound) || errors.Is(err, command.ErrNotFound)
}

// errorHandler is Fiber's error handler: JSON bodies, Retry-After on 503.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code, name := status(err)
	body := errorBody{Error: err.Error(), Code: name}
	var fe *fieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
	}
	var de *documentError
	if errors.As(err, &de) {
		body.Field, body.ProblemCount = "body", de.ve.Total
		for _, p := range de.ve.Problems {
			body.Problems = append(body.Problems, problemWire{Path: p.Path, Reason: p.Reason})
		}
	}
	if recordNotFound(err) {
		body = errorBody{Error: notFoundText, Code: name}
	}
	if code == fiber.StatusServiceUnavailable {
		after := time.Second
		var re *cluster.RetryError
		if errors.As(err, &re) && re.After > 0 {
			after = re.After
		}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int((after+time.Second-1)/time.Second))))
	}
	if code == fiber.StatusInternalServerError {
		s.log.Error("request failed", "path", c.Path(), "err", err)
	}
	return c.Status(code).JSON(body)
}

// internalError answers another node in the cluster's own error form.
func internalError(c *fiber.Ctx, err error) error {
	code, _ := status(err)
	body := cluster.ErrorBody{Error: err.Error(), Code: cluster.ErrorCode(err)}
	var re *cluster.RetryError
	if errors.As(err, &re) {
		body.Retry = int(re.After / time.Millisecond)
	}
	return c.Status(code).JSON(body)
}
