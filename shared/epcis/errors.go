package epcis

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps one of them,
// so callers can branch with errors.Is.
var (
	// ErrSyntax means the input is not well-formed JSON or XML, or is not
	// an EPCIS document at all.
	ErrSyntax = errors.New("epcis: malformed document")
	// ErrInvalid means the document parsed but breaks EPCIS or CBV rules;
	// the error is a *ValidationError listing every problem.
	ErrInvalid = errors.New("epcis: invalid document")
	// ErrUnknownFormat means the input is neither EPCIS JSON-LD nor XML.
	ErrUnknownFormat = errors.New("epcis: unknown document format")
	// ErrUnsupported means the model holds something the target format
	// cannot express.
	ErrUnsupported = errors.New("epcis: not expressible in target format")
	// ErrTooLarge means the input passed one of the decoder's Limits
	// (bytes, events, nesting, nodes) or was not read within the time
	// its context allowed; the decoder stopped there.
	ErrTooLarge = errors.New("epcis: document over a limit")
)

// Problem is one rule a document breaks: where, and why.
type Problem struct {
	// Path locates the offending value: a JSON path such as
	// "epcisBody.eventList[2].action" for JSON-LD, or an element path such
	// as "EPCISBody/EventList/ObjectEvent[3]/action" for 1.2 XML.
	Path string
	// Reason says what is wrong, in words an operator can act on.
	Reason string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// ValidationError lists the problems found in a document: the first
// ones, at most Limits.MaxProblems (DefaultMaxProblems), in the order
// found, and how many there are in all. It wraps ErrInvalid.
type ValidationError struct {
	Problems []Problem
	// Total counts every problem, listed or not.
	Total int
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if more := e.Total - len(e.Problems); more > 0 {
		b.WriteString("; and ")
		b.WriteString(strconv.Itoa(more))
		b.WriteString(" more (")
		b.WriteString(strconv.Itoa(e.Total))
		b.WriteString(" problems in all)")
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// problems collects Problems while a document is decoded or checked: the
// first max of them (DefaultMaxProblems when max is 0) and a count of all.
type problems struct {
	list  []Problem
	total int
	max   int
	// seen holds paths already reported by the decoder, so the validator
	// does not report the same value twice (a bad time is both
	// unparsable and, once dropped, missing).
	seen map[string]struct{}
	// checking is set once the decoder is done (mark).
	checking bool
}

func (ps *problems) limit() int {
	if ps.max <= 0 {
		return DefaultMaxProblems
	}
	return ps.max
}

func (ps *problems) add(path, reason string) {
	if ps.checking {
		if _, dup := ps.seen[path]; dup {
			return
		}
	} else if len(ps.list) >= ps.limit() {
		// Not listed, but the validator must still not count it again.
		if ps.seen == nil {
			ps.seen = make(map[string]struct{})
		}
		ps.seen[path] = struct{}{}
	}
	ps.total++
	if len(ps.list) < ps.limit() {
		ps.list = append(ps.list, Problem{Path: path, Reason: reason})
	}
}

// mark records the paths reported so far so later checks skip them.
func (ps *problems) mark() {
	ps.checking = true
	if len(ps.list) == 0 {
		return
	}
	if ps.seen == nil {
		ps.seen = make(map[string]struct{}, len(ps.list))
	}
	for _, p := range ps.list {
		ps.seen[p.Path] = struct{}{}
	}
}

func (ps *problems) err() error {
	if ps.total == 0 {
		return nil
	}
	return &ValidationError{Problems: ps.list, Total: ps.total}
}
