package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custodyhq/custody/shared/master"
)

// ASN imports in parts. A large ASN arrives as several raft entries of a
// bounded number of items (server/command/asn.go). The parts of an
// import are staged here until they cover the whole ASN; the entry that
// completes them stores the ASN record (PutASN) once, with its digest,
// and drops the staging. Keys, all under the master table with kind
// mASNImport (the id and digest length-prefixed, so no id can run into
// another):
//
//	M I len id 'd'                     → digest of the stored ASN record
//	M I len id 'c' len digest          → uvarint: items covered from the first on
//	M I len id 'p' len digest start(8) → uvarint end, JSON of items [start, end)
//
// Staged records are state like any other: hashed, in snapshots, the
// same on every replica.

// mASNImport is the master kind of ASN import records. It sits next to
// the kinds in keys.go; never reuse the byte.
const mASNImport byte = 'I'

func asnImportKey(id string, sub byte, digest string) []byte {
	b := []byte{tMaster, mASNImport}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = append(b, sub)
	if sub != 'd' {
		b = binary.AppendUvarint(b, uint64(len(digest)))
		b = append(b, digest...)
	}
	return b
}

func asnPartKey(id, digest string, start int) []byte {
	return binary.BigEndian.AppendUint64(asnImportKey(id, 'p', digest), uint64(start))
}

// ASNDigest is the digest the import that stored ASN record id gave it
// ("" when none is kept: no record, or one stored before digests were).
func (r *Reader) ASNDigest(id string) (string, error) {
	b, err := r.get(asnImportKey(id, 'd', ""))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return string(b), err
}

// SetASNDigest keeps the digest of the ASN record id just stored.
func (t *Tx) SetASNDigest(id, digest string) error {
	return t.set(asnImportKey(id, 'd', ""), []byte(digest))
}

// PutASNPart stages items as positions [start, start+len(items)) of the
// ASN id whose digest is digest, and returns how many items from the
// first on the staged parts of that digest now cover without a gap. A
// part staged again replaces itself; parts may come in any order.
func (t *Tx) PutASNPart(id, digest string, start int, items []master.ASNItem) (int, error) {
	if start < 0 {
		return 0, fmt.Errorf("%w: ASN %s part at %d", ErrCorrupt, id, start)
	}
	end := start + len(items)
	js, err := json.Marshal(items)
	if err != nil {
		return 0, fmt.Errorf("state encode: %w", err)
	}
	v := binary.AppendUvarint(make([]byte, 0, len(js)+binary.MaxVarintLen64), uint64(end))
	if err := t.set(asnPartKey(id, digest, start), append(v, js...)); err != nil {
		return 0, err
	}
	covered, err := t.asnCovered(id, digest)
	if err != nil {
		return 0, err
	}
	if start > covered || end <= covered {
		return covered, nil
	}
	covered = end
	// Parts staged out of order after this one now join the run.
	for {
		next, _, err := t.asnPart(id, digest, covered, false)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return 0, err
		}
		if next <= covered {
			break
		}
		covered = next
	}
	return covered, t.set(asnImportKey(id, 'c', digest), binary.AppendUvarint(nil, uint64(covered)))
}

func (r *Reader) asnCovered(id, digest string) (int, error) {
	b, err := r.get(asnImportKey(id, 'c', digest))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, w := binary.Uvarint(b)
	if w <= 0 || w != len(b) || n > 1<<40 {
		return 0, corrupt(asnImportKey(id, 'c', digest), errors.New("bad count"))
	}
	return int(n), nil
}

// asnPart reads the part staged at start: its end and, when items is
// set, its items.
func (r *Reader) asnPart(id, digest string, start int, items bool) (int, []master.ASNItem, error) {
	k := asnPartKey(id, digest, start)
	b, err := r.get(k)
	if err != nil {
		return 0, nil, err
	}
	end, w := binary.Uvarint(b)
	if w <= 0 || end <= uint64(start) || end > 1<<40 {
		return 0, nil, corrupt(k, errors.New("bad part end"))
	}
	if !items {
		return int(end), nil, nil
	}
	var out []master.ASNItem
	if err := json.Unmarshal(b[w:], &out); err != nil {
		return 0, nil, corrupt(k, err)
	}
	if uint64(len(out)) != end-uint64(start) {
		return 0, nil, corrupt(k, fmt.Errorf("%d items for [%d, %d)", len(out), start, end))
	}
	return int(end), out, nil
}

// ASNPartItems joins the staged parts of digest into the ASN's total
// items, in order. ok is false when they do not run from the first item
// to the last without a gap (parts cut differently by two proposers).
func (t *Tx) ASNPartItems(id, digest string, total int) (items []master.ASNItem, ok bool, err error) {
	items = make([]master.ASNItem, 0, total)
	for pos := 0; pos < total; {
		end, part, err := t.asnPart(id, digest, pos, true)
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		items = append(items, part...)
		pos = end
	}
	if len(items) != total {
		return nil, false, nil
	}
	return items, true, nil
}

// DropASNParts deletes what imports of the ASN id staged, of every
// digest: the import that completes the record ends the others too.
func (t *Tx) DropASNParts(id string) error {
	var keys [][]byte
	for _, sub := range []byte{'c', 'p'} {
		prefix := asnImportKey(id, sub, "")
		prefix = prefix[:len(prefix)-1] // without the empty digest's length
		err := t.scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
			keys = append(keys, append([]byte(nil), k...))
			return true, nil
		})
		if err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := t.del(k); err != nil {
			return err
		}
	}
	return nil
}

// ASNStaged reports how many items of the ASN id of digest are staged
// from the first on, for an import not complete yet (0 when none).
func (r *Reader) ASNStaged(id, digest string) (int, error) { return r.asnCovered(id, digest) }
