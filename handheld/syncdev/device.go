// Package syncdev is the handheld's side of sync: Device implements
// client.Device over the handheld's store and engine. The outbox and its
// acknowledgements live in the store; a resync rebuilds the replica
// through the engine (which replays what is still unsent on top) and
// never touches the outbox; conflicts and refusals the site reports are
// kept as messages for the person holding the device.
package syncdev

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/sync/protocol"
)

// Errors returned by this package.
var (
	// ErrChanges reports a change set the replica cannot apply; the
	// client drops the connection and asks again.
	ErrChanges = errors.New("syncdev: change set not applicable")
	// ErrMessages reports a failure keeping the site's messages.
	ErrMessages = errors.New("syncdev: messages")
	// ErrNoIdentity reports a data directory without a device
	// certificate: the device was never enrolled.
	ErrNoIdentity = errors.New("syncdev: device not enrolled")
	// ErrIdentity reports identity files that are damaged or do not
	// belong together.
	ErrIdentity = errors.New("syncdev: device identity")
	// ErrEnroll reports an enrollment that did not succeed; the site's
	// reason follows.
	ErrEnroll = errors.New("syncdev: enrollment failed")
	// ErrEnrolled reports a data directory that already holds an
	// identity: enrolling again would replace the device's key.
	ErrEnrolled = errors.New("syncdev: device already enrolled")
)

// Message is what the site said about one event this device sent: a
// conflict (with the exceptions it opened or joined) or a refusal.
type Message struct {
	Epoch      uint32           `json:"epoch"`
	Seq        uint64           `json:"seq"`
	Outcome    protocol.Outcome `json:"outcome"`
	Exceptions []string         `json:"exceptions,omitempty"`
	Text       string           `json:"text"`
	At         time.Time        `json:"at"`
}

// Kind names the outcome ("conflict", "rejected").
func (m Message) Kind() string { return m.Outcome.String() }

// MessagesFile is the name of the file, in the directory given to New,
// that keeps the messages across restarts.
const MessagesFile = "sync-messages.jsonl"

// Device is a handheld as the sync client sees it.
type Device struct {
	eng *engine.Engine
	st  *store.Store
	dir string
	now func() time.Time

	mu   sync.Mutex
	msgs []Message
	seen map[[2]uint64]bool
}

// New returns the device over eng. dir keeps the messages file (the
// store's data directory's parent, or any directory of the device's).
func New(eng *engine.Engine, dir string) (*Device, error) {
	d := &Device{eng: eng, st: eng.Store(), dir: dir, now: time.Now, seen: map[[2]uint64]bool{}}
	f, err := os.Open(filepath.Join(dir, MessagesFile))
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMessages, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m Message
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue // a torn last line after a crash: the resend brings it back
		}
		if k := [2]uint64{uint64(m.Epoch), m.Seq}; !d.seen[k] {
			d.seen[k] = true
			d.msgs = append(d.msgs, m)
		}
	}
	return d, nil
}

// Engine is the device's engine.
func (d *Device) Engine() *engine.Engine { return d.eng }

// Messages lists the site's messages for this device, oldest first.
func (d *Device) Messages() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.msgs)
}

// Identity is the store's device id and epoch.
func (d *Device) Identity() (string, uint32) { return d.st.Device(), d.st.Epoch() }

// User is the signed-in user's id.
func (d *Device) User() string {
	if u := d.eng.User(); u != nil {
		return u.ID
	}
	return ""
}

// Outbox is the first unacknowledged and the last written seq.
func (d *Device) Outbox() (first, last uint64, err error) {
	r, err := d.st.Outbox()
	if err != nil {
		return 0, 0, err
	}
	return r.First, r.Last, nil
}

// Pending returns up to max events after seq after. Acknowledged events
// are pruned, so the outbox starts at the first unacknowledged seq and
// the events wanted start after-first+1 entries in.
func (d *Device) Pending(after uint64, max int) ([]event.Event, error) {
	r, err := d.st.Outbox()
	if err != nil {
		return nil, err
	}
	skip := 0
	if after >= r.First {
		skip = int(after - r.First + 1)
	}
	evs, err := d.st.Pending(skip + max)
	if err != nil {
		return nil, err
	}
	if skip >= len(evs) {
		return nil, nil
	}
	evs = evs[skip:]
	for i := range evs {
		if evs[i].Seq != after+1+uint64(i) {
			return nil, fmt.Errorf("outbox: event %d has seq %d, want %d", i, evs[i].Seq, after+1+uint64(i))
		}
	}
	return evs, nil
}

// Ack keeps the conflicts and refusals among verdicts as messages, then
// prunes the acknowledged events from the outbox. A crash between the
// two only means the resent events' verdicts are seen again (and their
// messages are not kept twice).
func (d *Device) Ack(verdicts []protocol.Verdict) error {
	if len(verdicts) == 0 {
		return nil
	}
	_, epoch := d.Identity()
	var add []Message
	var through uint64
	d.mu.Lock()
	for i := range verdicts {
		v := &verdicts[i]
		through = max(through, v.Seq)
		out := v.Final()
		if out != protocol.OutcomeConflict && out != protocol.OutcomeRejected {
			continue
		}
		k := [2]uint64{uint64(epoch), v.Seq}
		if d.seen[k] {
			continue
		}
		add = append(add, Message{Epoch: epoch, Seq: v.Seq, Outcome: out, Exceptions: v.Exceptions, Text: v.Message, At: d.now()})
	}
	d.mu.Unlock()
	if len(add) > 0 {
		if err := d.keep(add); err != nil {
			return err
		}
	}
	_, err := d.st.AckThrough(epoch, through)
	return err
}

func (d *Device) keep(add []Message) error {
	f, err := os.OpenFile(filepath.Join(d.dir, MessagesFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMessages, err)
	}
	var buf []byte
	for _, m := range add {
		b, _ := json.Marshal(m)
		buf = append(append(buf, b...), '\n')
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMessages, err)
	}
	d.mu.Lock()
	for _, m := range add {
		k := [2]uint64{uint64(m.Epoch), m.Seq}
		if !d.seen[k] {
			d.seen[k] = true
			d.msgs = append(d.msgs, m)
		}
	}
	d.mu.Unlock()
	return nil
}

// Cursor is the replica's feed position. A replica loaded from a file
// (whose cursor is not a feed cursor) counts as empty: the site sends a
// snapshot.
func (d *Device) Cursor() (protocol.Cursor, error) {
	var s string
	if err := d.st.View(func(tx *store.Tx) error { s = tx.Cursor(); return nil }); err != nil {
		return protocol.Cursor{}, err
	}
	c, err := protocol.ParseCursor(s)
	if err != nil {
		return protocol.Cursor{}, nil
	}
	return c, nil
}

// ApplyChanges applies a change set to the replica and stores its
// cursor (see engine.ApplyChanges); the outbox is not touched.
func (d *Device) ApplyChanges(cs protocol.ChangeSet) error {
	removed := make([]store.Removal, 0, len(cs.Removed))
	for _, r := range cs.Removed {
		if !r.Kind.Valid() {
			return fmt.Errorf("%w: removal of kind %s", ErrChanges, r.Kind)
		}
		removed = append(removed, store.Removal{Kind: r.Kind.String(), ID: r.ID})
	}
	return d.eng.ApplyChanges(&cs.Put, removed, cs.To.String())
}

// Resync replaces the replica with snap at cursor cur. The engine
// replays the outbox on top; the outbox itself is never touched.
func (d *Device) Resync(snap master.Snapshot, cur protocol.Cursor) error {
	snap.Cursor = cur.String()
	_, err := d.eng.Load(&snap)
	return err
}
