package ui

import (
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/sync/client"
)

// Link is the Sync of a device: its sync client (nil when no site is
// set) over its syncdev.Device. The events waiting are counted from the
// outbox itself, so they are right offline too.
type Link struct {
	Dev    *syncdev.Device
	Client *client.Client
}

var _ Sync = (*Link)(nil)

// State implements Sync.
func (l *Link) State() client.State {
	var st client.State
	if l.Client != nil {
		st = l.Client.State()
	}
	if first, last, err := l.Dev.Outbox(); err == nil {
		st.Queued = 0
		if last >= first {
			st.Queued = last - first + 1
		}
	}
	return st
}

// Messages implements Sync.
func (l *Link) Messages() []syncdev.Message { return l.Dev.Messages() }

// Now implements Sync: the outbox changed, or the person asked to sync.
func (l *Link) Now() {
	if l.Client != nil {
		l.Client.Notify()
	}
}

// HasSite reports whether a site is set.
func (l *Link) HasSite() bool { return l.Client != nil }
