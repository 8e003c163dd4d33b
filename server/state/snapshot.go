package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"

	"github.com/dgraph-io/badger/v4"
)

// Snapshot stream format: a magic line, then one typed record per key in
// key order — table byte, uvarint key length, key (without the table
// byte), uvarint value length, value — then a 0 byte, the uvarint record
// count and the SHA-256 of everything after the magic. The same stream is
// a raft snapshot and a backup file.

var snapMagic = []byte("CUSTODY-STATE 1\n")

// maxRecord bounds one record's key or value in a stream, so a damaged
// length never makes a restore allocate gigabytes.
const maxRecord = 64 << 20

// Snap is a point-in-time view being written out.
type Snap struct {
	txn *badger.Txn
}

// Snapshot takes a consistent view of the state now. Close it when done.
func (s *Store) Snapshot() *Snap { return &Snap{txn: s.db.NewTransaction(false)} }

// Close releases the view.
func (p *Snap) Close() { p.txn.Discard() }

// Applied is the raft index the view reflects.
func (p *Snap) Applied() (uint64, error) { r := Reader{txn: p.txn}; return r.Applied() }

// WriteTo streams the view.
func (p *Snap) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	if _, err := bw.Write(snapMagic); err != nil {
		return cw.n, err
	}
	h := sha256.New()
	out := io.MultiWriter(bw, h)
	var n [binary.MaxVarintLen64]byte
	var count uint64
	r := Reader{txn: p.txn}
	err := r.scan(nil, nil, true, func(k, v []byte) (bool, error) {
		if bytes.Equal(k, keyPartial) {
			return false, fmt.Errorf("%w: the view holds part of an entry; take it again", ErrPartial)
		}
		rec := make([]byte, 0, len(k)+len(v)+12)
		rec = append(rec, k[0])
		rec = append(rec, n[:binary.PutUvarint(n[:], uint64(len(k)-1))]...)
		rec = append(rec, k[1:]...)
		rec = append(rec, n[:binary.PutUvarint(n[:], uint64(len(v)))]...)
		rec = append(rec, v...)
		count++
		_, err := out.Write(rec)
		return err == nil, err
	})
	if err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	trailer := append([]byte{0}, n[:binary.PutUvarint(n[:], count)]...)
	if _, err := out.Write(trailer); err != nil {
		return cw.n, err
	}
	if _, err := bw.Write(h.Sum(nil)); err != nil {
		return cw.n, err
	}
	err = bw.Flush()
	return cw.n, err
}

// Restore replaces the whole state with a snapshot stream. The stream is
// checked as it is loaded; on any error the state is left empty rather
// than half-restored. The applied index is held back and written last,
// after everything else is flushed and synced, then synced itself: a
// restore cut short (a crash, a power loss) leaves a state that claims
// no index, which the node restores again on start.
func (s *Store) Restore(r io.Reader) error {
	s.units.clear()
	if err := s.db.DropAll(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	wb := s.db.NewWriteBatch()
	var applied []byte
	err := ReadSnapshot(r, func(k, v []byte) error {
		if bytes.Equal(k, keyApplied) {
			applied = append([]byte(nil), v...)
			return nil
		}
		return wb.Set(append([]byte(nil), k...), append([]byte(nil), v...))
	})
	if err != nil {
		wb.Cancel()
		_ = s.db.DropAll()
		return err
	}
	err = wb.Flush()
	if err == nil {
		err = s.ensureDerived() // a snapshot from before the lot counters or the activity index
	}
	if err == nil {
		err = s.db.Sync()
	}
	if err == nil && applied != nil {
		err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyApplied, applied) })
		if err == nil {
			err = s.db.Sync()
		}
	}
	if err != nil {
		_ = s.db.DropAll()
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// ReadSnapshot checks a snapshot stream and calls fn with each record's
// full key and value (valid only during the call).
func ReadSnapshot(r io.Reader, fn func(k, v []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, snapMagic) {
		return fmt.Errorf("%w: not a state snapshot", ErrCorrupt)
	}
	h := sha256.New()
	hr := &hashReader{r: br, h: h}
	var count uint64
	var k, v []byte
	for {
		table, err := hr.ReadByte()
		if err != nil {
			return fmt.Errorf("%w: truncated snapshot", ErrCorrupt)
		}
		if table == 0 {
			break
		}
		if !knownTable(table) {
			return fmt.Errorf("%w: table 0x%02x", ErrUnknownTable, table)
		}
		k, err = readChunk(hr, append(k[:0], table))
		if err != nil {
			return err
		}
		v, err = readChunk(hr, v[:0])
		if err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return fmt.Errorf("restore record: %w", err)
		}
		count++
	}
	n, err := binary.ReadUvarint(hr)
	if err != nil || n != count {
		return fmt.Errorf("%w: record count %d, trailer says %d", ErrCorrupt, count, n)
	}
	sum := h.Sum(nil)
	want := make([]byte, len(sum))
	if _, err := io.ReadFull(br, want); err != nil || !bytes.Equal(sum, want) {
		return fmt.Errorf("%w: snapshot checksum mismatch", ErrCorrupt)
	}
	return nil
}

func readChunk(r *hashReader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > maxRecord {
		return nil, fmt.Errorf("%w: bad record length", ErrCorrupt)
	}
	start := len(buf)
	buf = append(buf, make([]byte, n)...)
	if _, err := io.ReadFull(r, buf[start:]); err != nil {
		return nil, fmt.Errorf("%w: truncated record", ErrCorrupt)
	}
	return buf, nil
}

type hashReader struct {
	r *bufio.Reader
	h hash.Hash
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashReader) ReadByte() (byte, error) {
	b, err := h.r.ReadByte()
	if err == nil {
		h.h.Write([]byte{b})
	}
	return b, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
