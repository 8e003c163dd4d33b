package state

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// panicReader stands for a node killed part way through a restore: it
// panics once limit bytes were read, and nothing after it runs.
type panicReader struct {
	r     io.Reader
	limit int
}

func (p *panicReader) Read(b []byte) (int, error) {
	if p.limit <= 0 {
		panic("killed")
	}
	if len(b) > p.limit {
		b = b[:p.limit]
	}
	n, err := p.r.Read(b)
	p.limit -= n
	return n, err
}

// A restore cut short never leaves a state that claims the snapshot's
// applied index (the node would not restore it again and raft would
// replay only the entries after it). The applied index is written last.
func TestRestoreCutShortClaimsNoIndex(t *testing.T) {
	src := openTest(t)
	tx := src.Begin()
	v := bytes.Repeat([]byte("v"), 4096)
	for i := range 3000 { // about 12 MB: more than one internal write batch
		if err := tx.set([]byte(fmt.Sprintf("u%08d", i)), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.SetApplied(42); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	snap := src.Snapshot()
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Close()

	cut := openTest(t)
	func() {
		defer func() { _ = recover() }()
		_ = cut.Restore(&panicReader{r: bytes.NewReader(buf.Bytes()), limit: buf.Len() * 9 / 10})
		t.Fatal("the restore was not cut short")
	}()
	if idx, err := cut.Applied(); err != nil || idx != 0 {
		t.Fatalf("a restore cut short claims index %d (%v)", idx, err)
	}

	// A whole restore claims the index, and keeps it across a reopen.
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if idx, err := st.Applied(); err != nil || idx != 42 {
		t.Fatalf("restored index %d (%v), want 42", idx, err)
	}
}
