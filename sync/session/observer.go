package session

import (
	"time"

	"github.com/custodyhq/custody/sync/protocol"
)

// Observer hears what sessions do, for the site's metrics. Its methods
// are called from every session's goroutines at once and must return
// quickly; Config.Observer nil hears nothing. The protocol module stays
// free of any metrics library: the server implements Observer with its
// own.
type Observer interface {
	// Opened: a HELLO was admitted (WELCOME sent).
	Opened()
	// Ended: a session that was opened ended. code is the ERROR code the
	// site sent (wire.CodeText names it), 0 when the device went away or
	// the site's context ended it.
	Ended(code uint16)
	// Refused: a connection ended before it was admitted; code as for
	// Ended, or 0 with busy true when the hub was full.
	Refused(code uint16, busy bool)
	// Acked: a PUSH was answered with PUSH_ACK, took after it was read,
	// after the raft commit and apply.
	Acked(vs []protocol.Verdict, took time.Duration)
	// Busy: a PUSH was answered BUSY (the site was overloaded or between
	// leaders).
	Busy()
	// Gap: a PUSH was answered NACK_GAP.
	Gap()
	// Fed: a change set went out, as CHANGES or (resync) RESYNC parts,
	// with this many records.
	Fed(resync bool, records int)
}

// nopObserver hears nothing.
type nopObserver struct{}

func (nopObserver) Opened()                                 {}
func (nopObserver) Ended(uint16)                            {}
func (nopObserver) Refused(uint16, bool)                    {}
func (nopObserver) Acked([]protocol.Verdict, time.Duration) {}
func (nopObserver) Busy()                                   {}
func (nopObserver) Gap()                                    {}
func (nopObserver) Fed(bool, int)                           {}
