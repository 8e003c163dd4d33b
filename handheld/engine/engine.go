// Package engine runs the handheld's workflows — sign-in, receiving,
// picking, packing, shipping, quarantine, look-up and returns — against
// the local replica, offline. Each scan gets a verdict (accepted, warning
// or refused) with a reason a person understands and a sound cue; an
// accepted scan writes its event, the unit state changes, any exceptions
// and the outbox entry in one durable transaction. A refused scan writes
// nothing.
//
// The engine evaluates every event with unit.Evaluate against the local
// replica, the same code the site runs in its FSM, so most conflicts are
// caught at the scan.
package engine

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Errors returned by this package. Business refusals are not errors:
// they are Steps with VerdictRefused. Errors mean the device itself
// failed (storage, configuration).
var (
	// ErrConfig reports an engine configuration that cannot work.
	ErrConfig = errors.New("engine: bad configuration")
	// ErrStorage reports a failure of the local store.
	ErrStorage = errors.New("engine: storage failure")
)

// Verdict is what became of a scan or command.
type Verdict string

// Verdicts.
const (
	Accepted Verdict = "accepted" // done
	Warning  Verdict = "warning"  // done, but look: an exception was raised or a rule bent
	Refused  Verdict = "refused"  // not done; nothing was written
)

// Cue is the sound the device plays for a step. Each is distinct.
type Cue string

// Cues.
const (
	CueOK     Cue = "ok"     // short high beep: accepted
	CueWarn   Cue = "warn"   // two mid beeps: accepted with a warning
	CueRefuse Cue = "refuse" // low buzz: refused
	CueAlert  Cue = "alert"  // siren: refused or quarantined because of a hold, recall or suspect code
	CueDone   Cue = "done"   // rising chord: a task finished (order complete, ASN closed in full)
)

// Step is the answer to one scan or command.
type Step struct {
	Verdict    Verdict     `json:"verdict"`
	Cue        Cue         `json:"cue"`
	Action     string      `json:"action"`
	Reason     string      `json:"reason,omitempty"`
	Subject    event.Key   `json:"subject,omitempty"`
	Events     []string    `json:"events,omitempty"` // ids of the events written
	Seq        uint64      `json:"seq,omitempty"`    // device sequence of the last event written
	Units      int         `json:"units,omitempty"`  // how many units and containers the step reached
	Exceptions []string    `json:"exceptions,omitempty"`
	Rules      []unit.Rule `json:"rules,omitempty"`
	Container  event.Key   `json:"container,omitempty"`
	Progress   []LineState `json:"progress,omitempty"`
	Info       *Info       `json:"info,omitempty"`
	Missing    []event.Key `json:"missing,omitempty"`
	Extra      []event.Key `json:"extra,omitempty"`
}

// Config configures an engine.
type Config struct {
	// DeviceNumber (0–999) is the device's SSCC serial range, assigned
	// when the device is enrolled: SSCCs the device creates embed it, so
	// two devices never number the same SSCC.
	DeviceNumber int
	Now          func() time.Time // wall clock (time.Now when nil)
	Rand         io.Reader        // randomness for event ids (crypto/rand when nil)
	Logger       *slog.Logger
	// MaxPINFailures consecutive wrong PINs lock sign-in for PINLockout
	// (defaults 5 and one minute).
	MaxPINFailures int
	PINLockout     time.Duration
}

// Engine runs workflows for one signed-in user at a time. It is safe for
// concurrent use; steps run one after another.
type Engine struct {
	mu    sync.Mutex
	st    *store.Store
	cfg   Config
	clock *hlc.Clock
	log   *slog.Logger

	user       *master.User
	task       task
	incomplete bool // a bulk load did not finish: the replica must be loaded again
	failures   int
	lockedTo   time.Time
}

// New returns an engine over an open store. The clock resumes after the
// latest timestamp the store recorded.
func New(st *store.Store, cfg Config) (*Engine, error) {
	if cfg.DeviceNumber < 0 || cfg.DeviceNumber > 999 {
		return nil, fmt.Errorf("%w: device number %d (want 0–999)", ErrConfig, cfg.DeviceNumber)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxPINFailures == 0 {
		cfg.MaxPINFailures = 5
	}
	if cfg.PINLockout == 0 {
		cfg.PINLockout = time.Minute
	}
	e := &Engine{st: st, cfg: cfg, clock: hlc.NewClock(cfg.Now, 0), log: cfg.Logger}
	err := st.View(func(tx *store.Tx) error {
		t, err := tx.HLC()
		e.clock.Restore(t)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	e.incomplete = st.Incomplete()
	return e, nil
}

// Store is the engine's store.
func (e *Engine) Store() *store.Store { return e.st }

// User is the signed-in user (nil when nobody is).
func (e *Engine) User() *master.User {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.user == nil {
		return nil
	}
	u := *e.user
	return &u
}

// Mode names the current task ("" when none).
func (e *Engine) Mode() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.task == nil {
		return ""
	}
	return e.task.name()
}

func refused(action, format string, a ...any) Step {
	return Step{Verdict: Refused, Cue: CueRefuse, Action: action, Reason: fmt.Sprintf(format, a...)}
}

func accepted(action, format string, a ...any) Step {
	return Step{Verdict: Accepted, Cue: CueOK, Action: action, Reason: fmt.Sprintf(format, a...)}
}

func failed(action string, err error) (Step, error) {
	return Step{Verdict: Refused, Cue: CueRefuse, Action: action, Reason: "the device could not save this: try again or call a lead"},
		fmt.Errorf("%w: %s: %v", ErrStorage, action, err)
}

// Login signs a user in with ID and PIN, checked offline against the
// replica's verifier.
func (e *Engine) Login(id, pin string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	if now.Before(e.lockedTo) {
		return refused("login", "too many wrong PINs: wait %s", e.lockedTo.Sub(now).Round(time.Second)), nil
	}
	var u master.User
	err := e.st.View(func(tx *store.Tx) error {
		var err error
		u, err = tx.User(id)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return failed("login", err)
	}
	if err != nil || u.PIN.Check(pin) != nil {
		e.failures++
		if e.failures >= e.cfg.MaxPINFailures {
			e.failures = 0
			e.lockedTo = now.Add(e.cfg.PINLockout)
		}
		return refused("login", "unknown user or wrong PIN"), nil
	}
	e.failures = 0
	e.user, e.task = &u, nil
	return accepted("login", "signed in as %s (%s)", u.Name, u.Role), nil
}

// Logout signs the user out and ends the current task.
func (e *Engine) Logout() Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.user, e.task = nil, nil
	return accepted("logout", "signed out")
}

// signedIn returns the user or a refusal.
func (e *Engine) signedIn(action string) (*master.User, *Step) {
	if e.incomplete {
		s := refused(action, "the device's data is incomplete: load the replica again before working")
		return nil, &s
	}
	if e.user == nil {
		s := refused(action, "sign in first")
		return nil, &s
	}
	return e.user, nil
}

func (e *Engine) lead(action string) (*master.User, *Step) {
	u, s := e.signedIn(action)
	if s != nil {
		return nil, s
	}
	if !u.Role.CanRelease() {
		st := refused(action, "only a shift lead may do this")
		return nil, &st
	}
	return u, nil
}

func (e *Engine) today() time.Time {
	y, m, d := e.cfg.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// expired reports whether a YYMMDD expiry is before today.
func (e *Engine) expired(yymmdd string) bool {
	t, ok := unit.ExpiryDate(yymmdd, e.today())
	return ok && t.Before(e.today())
}
