// Package client is the handheld's end of the sync protocol: it keeps a
// connection to the site, pushes the outbox in contiguous batches (at most
// two in flight), hands verdicts back, follows the down-feed and rebuilds
// the replica when the site says RESYNC. It is written against the Device
// interface the handheld engine implements.
package client

import (
	"errors"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/protocol"
)

// Errors the client reports (in State.Problem and from Serve).
var (
	// ErrEpochReused reports a site that already holds sequence numbers
	// of this epoch beyond what the outbox ever wrote: the device's data
	// was wiped without starting a new epoch. Pushing would have new
	// events taken for duplicates, so the client stops pushing; the
	// device must start a new epoch.
	ErrEpochReused = errors.New("sync client: the site already holds this epoch's sequence numbers")
	// ErrSiteBehind reports a site missing events the outbox has already
	// pruned (acknowledged by a site whose state was later lost). The
	// client stops pushing; starting a new epoch resumes.
	ErrSiteBehind = errors.New("sync client: the site is missing events the outbox no longer holds")
	// ErrOutbox reports an outbox that did not return a contiguous run.
	ErrOutbox = errors.New("sync client: outbox is not contiguous")
	// ErrProtocol reports a site that broke the protocol.
	ErrProtocol = errors.New("sync client: protocol violation by the site")
	// ErrRefused reports a site that closed the session with ERROR or
	// answered the upgrade with an error status.
	ErrRefused = errors.New("sync client: refused by the site")
	// ErrDenied, with ErrRefused, reports a refusal that reconnecting
	// does not cure: the device's identity (certificate missing, unknown,
	// revoked, or not the one HELLO named), a site that does not serve it,
	// or a protocol version it does not speak. An operator has to act.
	ErrDenied = errors.New("sync client: the site denies this device")
	// ErrConfig reports a Config New cannot work with.
	ErrConfig = errors.New("sync client: bad config")
)

// Device is what the client needs from the handheld. All methods are
// called from the client's own goroutine, one at a time.
type Device interface {
	// Identity is the device id (as in its certificate) and its current
	// outbox epoch. A device whose data was wiped starts a new epoch.
	Identity() (device string, epoch uint32)
	// User is the person signed in ("" when nobody is); the down-feed
	// follows the user's clients and exceptions.
	User() string
	// Outbox reports the first unacknowledged seq and the last seq
	// written in the current epoch (first = last+1 when all are
	// acknowledged; 1 and 0 for a new epoch).
	Outbox() (first, last uint64, err error)
	// Pending returns up to max outbox events with seq > after, in seq
	// order and contiguous.
	Pending(after uint64, max int) ([]event.Event, error)
	// Ack records the site's verdicts durably and prunes the acknowledged
	// events from the outbox; conflicts and rejections go to the person
	// holding the device. Verdicts for seqs already pruned (a resend
	// after a lost ack) must be accepted and may be ignored.
	Ack(verdicts []protocol.Verdict) error
	// Cursor is the down-feed position the replica reflects (zero for an
	// empty replica).
	Cursor() (protocol.Cursor, error)
	// ApplyChanges applies a change set to the replica and stores cs.To,
	// in one transaction.
	ApplyChanges(cs protocol.ChangeSet) error
	// Resync replaces the replica with snap and stores cur. It must
	// never touch the outbox: unsent events survive every resync.
	Resync(snap master.Snapshot, cur protocol.Cursor) error
}
