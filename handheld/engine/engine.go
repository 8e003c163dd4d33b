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
	"github.com/custodyhq/custody/shared/signals"
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
	// DeviceNumber (1–999) is the device's SSCC serial range, assigned
	// when the device is enrolled: SSCCs the device creates embed it, so
	// two devices never number the same SSCC. The first one given is
	// stored in the data dir; later runs may leave it 0 (use the stored
	// one) but may not change it. A device without one cannot pack into
	// new containers.
	DeviceNumber int
	Now          func() time.Time // wall clock (time.Now when nil)
	Rand         io.Reader        // randomness for event ids (crypto/rand when nil)
	Logger       *slog.Logger
	// MaxPINFailures wrong PINs for one user lock that user's sign-in
	// for PINLockout (defaults 5 and one minute); only that user's own
	// sign-in resets the count. MaxDevicePINFailures wrong PINs on the
	// device, for any users, known or not, lock every sign-in for
	// PINLockout (default three times MaxPINFailures); that count is
	// forgotten only after a quiet PINWindow (default ten times
	// PINLockout). The counts are kept in the store.
	MaxPINFailures       int
	MaxDevicePINFailures int
	PINLockout           time.Duration
	PINWindow            time.Duration
	// ProgressUnits is the largest ASN (in items) whose units
	// ASNProgress counts one by one (default 20,000); a larger one is
	// counted by its pallets and cases only, so a screen can ask after
	// every scan.
	ProgressUnits int
	// SerialModels are the site's per-product serial format models: a
	// unit received with a serial unlike its product's is flagged at the
	// scan with the alert cue (nil: no such check until SetSerialModels).
	SerialModels *signals.SerialModels
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
	devnum     int  // the device number (0: none assigned)
	serials    *signals.SerialModels
	// dummy is checked for unknown users, so a wrong user id costs the
	// same PBKDF2 work as a wrong PIN.
	dummy *master.PINVerifier
}

// New returns an engine over an open store. The clock resumes after the
// latest timestamp the store recorded.
func New(st *store.Store, cfg Config) (*Engine, error) {
	if cfg.DeviceNumber < 0 || cfg.DeviceNumber > 999 {
		return nil, fmt.Errorf("%w: device number %d (want 1–999)", ErrConfig, cfg.DeviceNumber)
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
	if cfg.MaxDevicePINFailures == 0 {
		cfg.MaxDevicePINFailures = 3 * cfg.MaxPINFailures
	}
	if cfg.PINLockout == 0 {
		cfg.PINLockout = time.Minute
	}
	if cfg.PINWindow == 0 {
		cfg.PINWindow = 10 * cfg.PINLockout
	}
	if cfg.ProgressUnits == 0 {
		cfg.ProgressUnits = 20_000
	}
	e := &Engine{st: st, cfg: cfg, clock: hlc.NewClock(cfg.Now, 0), log: cfg.Logger, serials: cfg.SerialModels}
	e.dummy = &master.PINVerifier{Salt: make([]byte, 16), Iter: master.PINIterations, Hash: make([]byte, 32)}
	if _, err := io.ReadFull(cfg.Rand, e.dummy.Salt); err != nil {
		return nil, fmt.Errorf("%w: randomness: %v", ErrConfig, err)
	}
	if cfg.DeviceNumber != 0 {
		if err := st.SetDeviceNumber(cfg.DeviceNumber); errors.Is(err, store.ErrDevice) {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		} else if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	err := st.View(func(tx *store.Tx) error {
		t, err := tx.HLC()
		if err != nil {
			return err
		}
		e.clock.Restore(t)
		e.devnum, _, err = tx.DeviceNumber()
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
// replica's verifier. Wrong PINs are counted per user and for the device
// in the store (see Config.MaxPINFailures), so neither another user's
// sign-in nor a restart lifts a lockout. An unknown user costs the same
// PBKDF2 work as a known one.
func (e *Engine) Login(id, pin string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	var u master.User
	var known bool
	var mine, dev store.PINFailures
	err := e.st.View(func(tx *store.Tx) error {
		var err error
		u, err = tx.User(id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			known = true
			if mine, err = tx.PINFailures(id); err != nil {
				return err
			}
		}
		dev, err = tx.PINFailures("")
		return err
	})
	if err != nil {
		return failed("login", err)
	}
	if wait := max(e.lockedFor(id, &mine, now), e.lockedFor("", &dev, now)); wait > 0 {
		return refused("login", "too many wrong PINs: wait %s", wait.Round(time.Second)), nil
	}
	v := e.dummy
	if known && u.PIN != nil {
		v = u.PIN
	}
	if v.Check(pin) != nil || !known {
		err := e.st.Update(func(tx *store.Tx) error {
			if known {
				if err := tx.PutPINFailures(id, e.failure(mine, now, e.cfg.MaxPINFailures)); err != nil {
					return err
				}
			}
			if now.Sub(dev.Last) > e.cfg.PINWindow {
				dev.Count = 0
			}
			return tx.PutPINFailures("", e.failure(dev, now, e.cfg.MaxDevicePINFailures))
		})
		if err != nil {
			return failed("login", err)
		}
		return refused("login", "unknown user or wrong PIN"), nil
	}
	if mine != (store.PINFailures{}) {
		if err := e.st.Update(func(tx *store.Tx) error { return tx.PutPINFailures(id, store.PINFailures{}) }); err != nil {
			return failed("login", err)
		}
	}
	e.user, e.task = &u, nil
	return accepted("login", "signed in as %s (%s)", u.Name, u.Role), nil
}

// failure counts one more wrong PIN; the max-th locks sign-in.
func (e *Engine) failure(f store.PINFailures, now time.Time, max int) store.PINFailures {
	f.Count++
	f.Last = now
	if f.Count >= max {
		f.Count = 0
		f.Locked = now.Add(e.cfg.PINLockout)
	}
	return f
}

// lockedFor is how long sign-in stays locked by the record f of user
// ("" for the device). A lockout never lasts longer than PINLockout from
// now: a clock set back shortens it to that (and the record says so),
// so it does not lock the device for good.
func (e *Engine) lockedFor(user string, f *store.PINFailures, now time.Time) time.Duration {
	if !now.Before(f.Locked) {
		return 0
	}
	if f.Locked.Sub(now) > e.cfg.PINLockout {
		f.Locked = now.Add(e.cfg.PINLockout)
		if err := e.st.Update(func(tx *store.Tx) error { return tx.PutPINFailures(user, *f) }); err != nil {
			e.log.Warn("lockout not shortened", "err", err)
		}
	}
	return f.Locked.Sub(now)
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

// suspectSerial judges the serial of k by the serial model the site
// published for its product to the replica (the down-feed keeps it
// current), or, for a product the replica holds none of, by the models
// the engine was given (Config.SerialModels, SetSerialModels).
func (e *Engine) suspectSerial(tx *store.Tx, k event.Key) (words string, suspect bool, err error) {
	if k.IsContainer() {
		return "", false, nil
	}
	m, err := tx.SerialModel(k.GTIN())
	switch {
	case errors.Is(err, store.ErrNotFound):
		_, words, suspect = e.serials.Suspect(k)
		return words, suspect, nil
	case err != nil:
		return "", false, err
	}
	_, words, suspect = signals.SuspectPublished(&m, k)
	return words, suspect, nil
}

// SetSerialModels replaces the serial format models the engine judges
// received serials by (the site retrains them from its own data).
func (e *Engine) SetSerialModels(m *signals.SerialModels) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.serials = m
}
