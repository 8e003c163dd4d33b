// Package session is the site's end of the sync protocol: one Session per
// device connection, written against the Site interface the cluster
// implements, and a Hub that tracks sessions, admits or refuses new ones
// and closes every socket at shutdown.
package session

import (
	"context"
	"errors"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/protocol"
)

// Errors returned by Serve and Handle.
var (
	// ErrFault reports a session ended on a protocol fault or a site
	// failure; the wrapped text carries the ERROR code sent.
	ErrFault = errors.New("session: ended on a fault")
	// ErrShutdown reports a connection refused or ended because the hub
	// is shutting down.
	ErrShutdown = errors.New("session: hub shutting down")
)

// Site is what a session needs from the site's cluster. The server
// implements it; every method may be called from several sessions at
// once.
type Site interface {
	// ClusterID names the cluster; a cursor from another cluster makes
	// the device resync.
	ClusterID() string
	// Now is the site's hybrid logical clock, sent in WELCOME.
	Now() hlc.Timestamp
	// HighWater is the highest seq of (device, epoch) the site has
	// committed and applied (0 for a new epoch). It may return
	// protocol.ErrForbidden for a device the site does not serve.
	HighWater(ctx context.Context, device string, epoch uint32) (uint64, error)
	// Submit proposes evs — a contiguous run of one device's epoch,
	// already checked for device, epoch and contiguity — and returns only
	// after they are committed and applied, with one verdict per event in
	// order. Events at or below the high-water mark are resends: answer
	// them OutcomeDuplicate with the original outcome when remembered.
	// Every event advances the mark, rejected ones too. Errors:
	// *protocol.GapError when evs[0].Seq is beyond the mark + 1 (NACK_GAP);
	// protocol.ErrBusy or *protocol.BusyError when overloaded or between
	// leaders (BUSY, the device retries); protocol.ErrForbidden (ERROR,
	// close); anything else closes the connection with ERROR internal,
	// and the device resends after reconnecting. One session submits one
	// push at a time, but a superseded session of the same device may
	// still be finishing a Submit while the new one starts: the site
	// orders them (the raft log does) and answers by its mark. Submit
	// should complete a proposal already made even when ctx ends.
	Submit(ctx context.Context, device string, epoch uint32, evs []event.Event) ([]protocol.Verdict, error)
	// Changes returns what the device (with the user signed in) must
	// learn after cursor after, about max records at most: master data,
	// ASNs, orders, shipments, holds and recalls, unit states and
	// exceptions of its site and its user's clients, and removals.
	// ChangeSet.To is the cursor after the set; an empty set with To ==
	// after means nothing new. protocol.ErrCursorTooOld makes the device
	// resync. The cursor's cluster is already checked.
	Changes(ctx context.Context, device, user string, after protocol.Cursor, max int) (protocol.ChangeSet, error)
	// Snapshot returns everything the device's replica should hold, and
	// the cursor it reflects, for a resync.
	Snapshot(ctx context.Context, device, user string) (master.Snapshot, protocol.Cursor, error)
	// Wait blocks until the feed may have moved past after, or ctx ends
	// (then it returns ctx.Err()). Early returns are harmless.
	Wait(ctx context.Context, after protocol.Cursor) error
}
