package fake

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
	"github.com/custodyhq/custody/sync/protocol"
)

// Device is an in-memory handheld: an outbox pruned only by acks and a
// replica of products and unit states.
type Device struct {
	ID    string
	Epoch uint32

	mu       sync.Mutex
	user     string
	outbox   []event.Event // seq order; outbox[0] is the first unacknowledged
	lastSeq  uint64
	verdicts map[uint64]protocol.Verdict
	acks     int // Ack calls
	cursor   protocol.Cursor
	products map[string]master.Product
	units    map[event.Key]unit.State
	site     master.Site
	resyncs  int
	applies  int
	// firstAck, when set, pretends seqs below it were acknowledged and
	// pruned already.
	firstAck uint64
}

// NewDevice returns a device with an empty outbox and replica.
func NewDevice(id string, epoch uint32) *Device {
	return &Device{ID: id, Epoch: epoch, user: "u1", verdicts: map[uint64]protocol.Verdict{},
		products: map[string]master.Product{}, units: map[event.Key]unit.State{}}
}

// Write appends n new events to the outbox and returns them.
func (d *Device) Write(n int) []event.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	evs := Events(d.ID, d.Epoch, d.lastSeq+1, n)
	d.outbox = append(d.outbox, evs...)
	d.lastSeq += uint64(n)
	return evs
}

// Load appends events already made (contiguous from the next seq).
func (d *Device) Load(evs []event.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.outbox = append(d.outbox, evs...)
	d.lastSeq += uint64(len(evs))
}

// Prune drops events up to seq as if acknowledged before this test.
func (d *Device) Prune(seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.outbox) > 0 && d.outbox[0].Seq <= seq {
		d.outbox = d.outbox[1:]
	}
	d.firstAck = seq + 1
}

// SetUser changes the signed-in user.
func (d *Device) SetUser(u string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.user = u
}

// Identity implements client.Device.
func (d *Device) Identity() (string, uint32) { return d.ID, d.Epoch }

// User implements client.Device.
func (d *Device) User() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.user
}

// Outbox implements client.Device.
func (d *Device) Outbox() (first, last uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.outbox) > 0 {
		return d.outbox[0].Seq, d.lastSeq, nil
	}
	return d.lastSeq + 1, d.lastSeq, nil
}

// Pending implements client.Device.
func (d *Device) Pending(after uint64, max int) ([]event.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := sort.Search(len(d.outbox), func(i int) bool { return d.outbox[i].Seq > after })
	j := min(i+max, len(d.outbox))
	return append([]event.Event(nil), d.outbox[i:j]...), nil
}

// Ack implements client.Device.
func (d *Device) Ack(vs []protocol.Verdict) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acks++
	for _, v := range vs {
		if v.Outcome == protocol.OutcomeUnknown {
			return errors.New("fake device: verdict without outcome")
		}
		d.verdicts[v.Seq] = v
	}
	for len(d.outbox) > 0 {
		if _, ok := d.verdicts[d.outbox[0].Seq]; !ok {
			break
		}
		d.outbox = d.outbox[1:]
	}
	return nil
}

// Queued is the number of events in the outbox.
func (d *Device) Queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.outbox)
}

// OutboxSeqs lists the seqs in the outbox.
func (d *Device) OutboxSeqs() []uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]uint64, len(d.outbox))
	for i, e := range d.outbox {
		out[i] = e.Seq
	}
	return out
}

// Verdict returns the verdict recorded for seq.
func (d *Device) Verdict(seq uint64) (protocol.Verdict, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.verdicts[seq]
	return v, ok
}

// Outcomes counts the recorded verdicts by outcome.
func (d *Device) Outcomes() map[protocol.Outcome]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[protocol.Outcome]int{}
	for _, v := range d.verdicts {
		out[v.Outcome]++
	}
	return out
}

// Verdicts is how many distinct seqs have a verdict.
func (d *Device) Verdicts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.verdicts)
}

// Cursor implements client.Device.
func (d *Device) Cursor() (protocol.Cursor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cursor, nil
}

// SetCursor sets the replica's cursor.
func (d *Device) SetCursor(c protocol.Cursor) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cursor = c
}

// ApplyChanges implements client.Device.
func (d *Device) ApplyChanges(cs protocol.ChangeSet) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.applies++
	for _, p := range cs.Put.Products {
		d.products[p.GTIN] = p
	}
	for _, u := range cs.Put.Units {
		d.units[u.Key] = u
	}
	for _, r := range cs.Removed {
		switch r.Kind {
		case protocol.KindProduct:
			delete(d.products, r.ID)
		case protocol.KindUnit:
			delete(d.units, event.Key(r.ID))
		}
	}
	d.cursor = cs.To
	return nil
}

// Resync implements client.Device: it replaces the replica only.
func (d *Device) Resync(snap master.Snapshot, cur protocol.Cursor) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.resyncs++
	d.site = snap.Site
	d.products = map[string]master.Product{}
	d.units = map[event.Key]unit.State{}
	for _, p := range snap.Products {
		d.products[p.GTIN] = p
	}
	for _, u := range snap.Units {
		d.units[u.Key] = u
	}
	d.cursor = cur
	return nil
}

// Replica reports the replica's size and how it was built.
func (d *Device) Replica() (products, units, resyncs, applies int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.products), len(d.units), d.resyncs, d.applies
}

// Product returns a product of the replica.
func (d *Device) Product(gtin string) (master.Product, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.products[gtin]
	return p, ok
}

// Events returns n valid receive events of device and epoch from seq
// first on, with ids derived from their place so runs are reproducible.
func Events(device string, epoch uint32, first uint64, n int) []event.Event {
	out := make([]event.Event, n)
	base := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for i := range out {
		seq := first + uint64(i)
		seed := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", device, epoch, seq))
		id, _ := event.NewID(base.Add(time.Duration(seq)*time.Millisecond), bytes.NewReader(seed[:]))
		out[i] = event.Event{
			ID: id, Device: device, Epoch: epoch, Seq: seq,
			HLC:  hlc.FromTime(base.Add(time.Duration(seq) * time.Millisecond)),
			User: "u1", Site: "site-1", Client: "c1", Kind: event.KindReceive,
			Subjects: []event.Subject{{Key: event.SGTIN("00614141000012", fmt.Sprintf("SN%08d", seq))}},
			Ctx:      event.Context{ASN: "ASN-1", To: "A-01-01", Lot: "L1", Expiry: "281231"},
		}
	}
	return out
}
