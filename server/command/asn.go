package command

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// MaxASNChunk bounds the items of one ASN import entry (ASNChunk). An
// item is an expect event: its record, a history entry, the unit and its
// lot, status and child indexes, six writes, so a full chunk writes
// about 6,000 keys. A transaction stays inside Badger's limit (9.6 MB of
// entries with the default 64 MB memtable) with commitEvery writes and a
// chunk more, the most the processor gathers before it commits
// (TestASNChunkTransactionIsSmall). A 30,000-item ASN in one entry wrote
// 180,000 keys and split its transaction (TestWholeLargeASNSplits).
const MaxASNChunk = 1000

// maxASNChunkBytes bounds the JSON of one chunk's items and its ASN
// header where SplitASN cuts, inside the raft entry budget
// (event.MaxEntry, 128 KiB) with room for the rest of the entry (user,
// digest, positions). A typical item is about 100 bytes, so most chunks
// are cut by count; long serials and lots cut one sooner.
const maxASNChunkBytes = event.MaxEntry - 16<<10

// ASNChunkResult is what one ASN import entry did: a verdict per item of
// the chunk, in order, and whether the ASN record now holds the whole
// ASN the chunk belongs to (the chunk's digest).
type ASNChunkResult struct {
	Verdicts []Verdict `json:"verdicts"`
	Complete bool      `json:"complete"`
}

// ASNDigest names an ASN's content: SHA-256 over its header and every
// item, in order, each field length-prefixed. Chunks carry the digest of
// the ASN they belong to; the record is stored only when the staged
// items make an ASN of that digest.
func ASNDigest(a *master.ASN) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	field := func(s string) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	closed := "open"
	if a.Closed {
		closed = "closed"
	}
	for _, f := range []string{"custody/asn/v1", a.ID, a.Client, a.Supplier, closed} {
		field(f)
	}
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(a.Items)))])
	for _, it := range a.Items {
		for _, f := range []string{string(it.Key), string(it.Parent), it.Lot, it.Expiry} {
			field(f)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SplitASN cuts an ASN import into entries of at most MaxASNChunk items
// (fewer when their JSON and the header every chunk repeats pass
// maxASNChunkBytes), in order; an ASN without items is one chunk. The
// cut depends on the ASN alone, so a retried import proposes the same
// chunks. The header is bounded by CheckASN; one that alone took the
// whole budget would leave one item per chunk.
func SplitASN(a master.ASN, user string, at hlc.Timestamp) []ASNChunk {
	digest := ASNDigest(&a)
	head := a
	head.Items = nil
	mk := func(start, end int) ASNChunk {
		c := ASNChunk{ASN: head, Start: start, Total: len(a.Items), Digest: digest, User: user, At: at}
		c.ASN.Items = a.Items[start:end:end]
		return c
	}
	budget := maxASNChunkBytes - headerSize(&head)
	var out []ASNChunk
	start, size := 0, 0
	for i := range a.Items {
		js, err := json.Marshal(&a.Items[i])
		if err != nil {
			panic(fmt.Sprintf("encode ASN item: %v", err)) // strings only: cannot fail
		}
		n := len(js) + 1
		if i > start && (i-start >= MaxASNChunk || size+n > budget) {
			out = append(out, mk(start, i))
			start, size = i, 0
		}
		size += n
	}
	return append(out, mk(start, len(a.Items)))
}

// headerSize is the encoded size of what every chunk of an ASN repeats:
// its header (id, client, supplier, closed), as JSON.
func headerSize(head *master.ASN) int {
	js, err := json.Marshal(head)
	if err != nil {
		panic(fmt.Sprintf("encode ASN header: %v", err)) // strings only: cannot fail
	}
	return len(js)
}

// noteSplit logs, loudly, an entry during whose apply the state
// transaction had to be committed early (state.Tx.Splits): the entry is
// then not atomic, and a crash between the parts leaves a replica that
// replays it over a half-applied state. Bounded entries keep this from
// happening; the log says so when it did all the same.
func (b *batch) noteSplit(index uint64, before int) {
	if n := b.tx.Splits(); n > before {
		b.p.log.Error("state transaction split inside one raft entry: the entry was not applied atomically",
			"index", index, "splits", n-before)
	}
}

// asn applies a whole ASN in one entry (TypeASN, no longer proposed;
// replayed from older logs).
func (b *batch) asn(index uint64, c *ASN) any {
	defer b.noteSplit(index, b.tx.Splits())
	if err := c.ASN.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if len(c.IDs) != len(c.ASN.Items) {
		return fmt.Errorf("%w: ASN %s: %d items but %d event ids", ErrRejected, c.ASN.ID, len(c.ASN.Items), len(c.IDs))
	}
	old, oldErr := b.tx.ASN(c.ASN.ID)
	if err := sameOwner("ASN", c.ASN.ID, c.ASN.Client, old.Client, oldErr); err != nil {
		return err
	}
	if err := b.asnOwned(&c.ASN, 0); err != nil {
		return err
	}
	// Items already expected under their ids (the same ASN proposed again
	// after a retried request: ASNEventIDs derives the ids from the
	// content) are answered from their records. Everything is checked
	// before anything is written: a refused ASN changes nothing.
	prevs := make([]*state.Record, len(c.IDs))
	ids := make(map[event.ID]bool, len(c.IDs))
	for i, it := range c.ASN.Items {
		if ids[c.IDs[i]] {
			return fmt.Errorf("%w: ASN %s: event id %s twice", ErrRejected, c.ASN.ID, c.IDs[i])
		}
		ids[c.IDs[i]] = true
		prev, err := b.tx.Event(c.IDs[i])
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		must(err, "event")
		pe := &prev.Event
		if pe.Kind != event.KindExpect || pe.Ctx.ASN != c.ASN.ID || pe.Client != c.ASN.Client ||
			len(pe.Subjects) != 1 || pe.Subjects[0].Key != it.Key {
			// Ids are derived, so another event may have been sent under
			// one: refuse the import rather than answer for that event.
			return fmt.Errorf("%w: ASN %s item %d: event id %s is already used by another event", ErrRejected, c.ASN.ID, i, c.IDs[i])
		}
		prevs[i] = &prev
	}
	site, err := b.tx.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "site")
	}
	if oldErr != nil || !sameJSON(old, c.ASN) {
		must(b.tx.PutASN(c.ASN), "asn")
	}
	// No digest record here: this path replays logs written before ASN
	// imports came in chunks, and a replica that applied those entries
	// then stored none, so writing one now would make its state differ
	// from a replica replaying the same entries (chunks treat a record
	// without a digest as stored by this path).
	res := ASNResult{Verdicts: make([]Verdict, len(c.ASN.Items))}
	for i, it := range c.ASN.Items {
		if prev := prevs[i]; prev != nil {
			res.Verdicts[i] = Verdict{ID: prev.Event.ID, Device: prev.Event.Device, Seq: prev.Event.Seq, Status: StatusDuplicate,
				Index: prev.Index, Result: prev.Result, Reason: prev.Reason}
			continue
		}
		ev := event.Event{ID: c.IDs[i], Device: "site", Seq: uint64(i + 1), HLC: c.At, User: c.User,
			Site: site.ID, Client: c.ASN.Client, Kind: event.KindExpect, Subjects: []event.Subject{{Key: it.Key}},
			Ctx: event.Context{ASN: c.ASN.ID, Parent: it.Parent, Lot: it.Lot, Expiry: it.Expiry}}
		r, err := unit.Evaluate(b.tx, &ev, unit.Env{Received: c.At, MaxSkew: b.p.maxSkew})
		must(err, "evaluate")
		must(b.tx.PutEvent(&state.Record{Event: ev, Index: index, Result: &r}, uint32(i)), "event")
		res.Verdicts[i] = Verdict{ID: ev.ID, Device: ev.Device, Seq: ev.Seq, Status: StatusApplied, Index: index, Result: &r}
	}
	return res
}

// asnChunk applies one ASN import entry: the expect events of its items,
// then the ASN record once the chunks of its digest cover the whole ASN.
func (b *batch) asnChunk(index uint64, c *ASNChunk) any {
	defer b.noteSplit(index, b.tx.Splits())
	return b.applyASNChunk(index, c)
}

func (b *batch) applyASNChunk(index uint64, c *ASNChunk) any {
	a := &c.ASN
	if err := checkChunk(c); err != nil {
		return err
	}
	if err := b.asnOwned(a, c.Start); err != nil {
		return err
	}
	stored, err := b.tx.ASNDigest(a.ID)
	must(err, "asn digest")
	// A record of the chunk's digest is this ASN already, of this client
	// (the digest covers it): the chunk is proposed again, and the large
	// record need not be read.
	complete := stored == c.Digest
	var old master.ASN
	var oldErr error
	if !complete {
		old, oldErr = b.tx.ASN(a.ID)
		if err := sameOwner("ASN", a.ID, a.Client, old.Client, oldErr); err != nil {
			return err
		}
		if stored == "" && oldErr == nil {
			complete = ASNDigest(&old) == c.Digest // a record from before digests were kept
		}
	}
	// As for a whole ASN: items already expected under their ids (the
	// same chunk proposed again) are answered from their records, and
	// everything is checked before anything is written.
	ids := make([]event.ID, len(a.Items))
	prevs := make([]*state.Record, len(a.Items))
	for i := range a.Items {
		it := &a.Items[i]
		ids[i] = asnEventID(a.Client, a.ID, c.Start+i, it)
		prev, err := b.tx.Event(ids[i])
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		must(err, "event")
		pe := &prev.Event
		if pe.Kind != event.KindExpect || pe.Ctx.ASN != a.ID || pe.Client != a.Client ||
			len(pe.Subjects) != 1 || pe.Subjects[0].Key != it.Key {
			return fmt.Errorf("%w: ASN %s item %d: event id %s is already used by another event", ErrRejected, a.ID, c.Start+i, ids[i])
		}
		prevs[i] = &prev
	}
	site, err := b.tx.Site()
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		must(err, "site")
	}
	res := ASNChunkResult{Verdicts: make([]Verdict, len(a.Items))}
	for i, it := range a.Items {
		if prev := prevs[i]; prev != nil {
			res.Verdicts[i] = Verdict{ID: prev.Event.ID, Device: prev.Event.Device, Seq: prev.Event.Seq, Status: StatusDuplicate,
				Index: prev.Index, Result: prev.Result, Reason: prev.Reason}
			continue
		}
		ev := event.Event{ID: ids[i], Device: "site", Seq: uint64(c.Start + i + 1), HLC: c.At, User: c.User,
			Site: site.ID, Client: a.Client, Kind: event.KindExpect, Subjects: []event.Subject{{Key: it.Key}},
			Ctx: event.Context{ASN: a.ID, Parent: it.Parent, Lot: it.Lot, Expiry: it.Expiry}}
		r, err := unit.Evaluate(b.tx, &ev, unit.Env{Received: c.At, MaxSkew: b.p.maxSkew})
		must(err, "evaluate")
		must(b.tx.PutEvent(&state.Record{Event: ev, Index: index, Result: &r}, uint32(i)), "event")
		res.Verdicts[i] = Verdict{ID: ev.ID, Device: ev.Device, Seq: ev.Seq, Status: StatusApplied, Index: index, Result: &r}
	}
	if !complete {
		if complete, err = b.asnRecord(c, old, oldErr); err != nil {
			return err
		}
	}
	res.Complete = complete
	return res
}

// CheckASN checks an ASN for import: master.ASN.Validate, and fields
// short enough for the expect events they become (event.MaxField): an
// event record the event codec cannot read back would stop every
// replica that reads it. The supplier is held to the same bound: every
// chunk of the import carries the whole header (SplitASN).
func CheckASN(a *master.ASN) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := checkFields(a.ID, a.Client, a.Supplier); err != nil {
		return fmt.Errorf("%w: ASN %.40s: header: %v", master.ErrInvalid, a.ID, err)
	}
	for i, it := range a.Items {
		if err := checkFields(it.Lot, it.Expiry); err != nil {
			return fmt.Errorf("%w: ASN %s item %d: %v", master.ErrInvalid, a.ID, i, err)
		}
	}
	return nil
}

func checkFields(fs ...string) error {
	for _, f := range fs {
		if err := event.CheckText(f); err != nil {
			return err
		}
	}
	return nil
}

// checkChunk refuses a chunk that cannot be part of a valid ASN. What
// needs the other chunks (a key listed twice across chunks, a parent in
// an earlier chunk) is checked when the record is assembled.
func checkChunk(c *ASNChunk) error {
	a := &c.ASN
	n := len(a.Items)
	if err := checkFields(a.ID, a.Client, a.Supplier, c.User); err != nil {
		return fmt.Errorf("%w: ASN %.40s: %v", ErrRejected, a.ID, err)
	}
	switch {
	case a.ID == "" || a.Client == "":
		return fmt.Errorf("%w: ASN without id or client", ErrRejected)
	case n > MaxASNChunk:
		return fmt.Errorf("%w: ASN %s: %d items in one entry, at most %d", ErrRejected, a.ID, n, MaxASNChunk)
	case c.Start < 0 || c.Total < 0 || c.Start > c.Total-n:
		return fmt.Errorf("%w: ASN %s: items [%d, %d) of %d", ErrRejected, a.ID, c.Start, c.Start+n, c.Total)
	case n == 0 && c.Total != 0:
		return fmt.Errorf("%w: ASN %s: a chunk without items", ErrRejected, a.ID)
	}
	if d, err := hex.DecodeString(c.Digest); err != nil || len(d) != sha256.Size {
		return fmt.Errorf("%w: ASN %s: digest %q is not a hex SHA-256", ErrRejected, a.ID, c.Digest)
	}
	in := make(map[event.Key]bool, n)
	for _, it := range a.Items {
		in[it.Key] = true
	}
	seen := make(map[event.Key]bool, n)
	for i, it := range a.Items {
		pos := c.Start + i
		if err := it.Validate(); err != nil {
			return fmt.Errorf("%w: ASN %s item %d: %v", ErrRejected, a.ID, pos, err)
		}
		if err := checkFields(it.Lot, it.Expiry); err != nil {
			return fmt.Errorf("%w: ASN %s item %d: %v", ErrRejected, a.ID, pos, err)
		}
		if seen[it.Key] {
			return fmt.Errorf("%w: ASN %s lists %s twice", ErrRejected, a.ID, it.Key)
		}
		if it.Parent != "" && !seen[it.Parent] && (in[it.Parent] || c.Start == 0) {
			return fmt.Errorf("%w: ASN %s: %s is inside %s, which is not listed before it", ErrRejected, a.ID, it.Key, it.Parent)
		}
		seen[it.Key] = true
	}
	return nil
}

// asnRecord stages c's items for a record that is not c's ASN yet and,
// once the chunks of c's digest cover the whole ASN, stores the record
// and drops the staging. It reports whether the record is now c's ASN.
// old is the stored record (oldErr: reading it).
func (b *batch) asnRecord(c *ASNChunk, old master.ASN, oldErr error) (bool, error) {
	a := &c.ASN
	covered := 0
	var err error
	if len(a.Items) > 0 {
		covered, err = b.tx.PutASNPart(a.ID, c.Digest, c.Start, a.Items)
		must(err, "asn part")
	}
	if covered < c.Total {
		return false, nil
	}
	items, ok, err := b.tx.ASNPartItems(a.ID, c.Digest, c.Total)
	must(err, "asn parts")
	if !ok {
		return false, nil
	}
	full := *a
	full.Items = items
	if full.Items == nil {
		full.Items = []master.ASNItem{}
	}
	refuse := func(why error) (bool, error) {
		must(b.tx.DropASNParts(a.ID), "asn parts")
		return false, fmt.Errorf("%w: ASN %s: the imported items %v; the record was not stored", ErrRejected, a.ID, why)
	}
	if d := ASNDigest(&full); d != c.Digest {
		return refuse(fmt.Errorf("make digest %s, not %s", d, c.Digest))
	}
	if err := full.Validate(); err != nil {
		return refuse(err)
	}
	if oldErr != nil || !sameJSON(old, full) {
		must(b.tx.PutASN(full), "asn")
	}
	must(b.tx.SetASNDigest(a.ID, c.Digest), "asn digest")
	must(b.tx.DropASNParts(a.ID), "asn parts")
	return true, nil
}
