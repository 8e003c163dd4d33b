package state

import (
	"errors"
	"testing"
)

// A transaction too large for Badger commits in parts. The state is
// marked partial before the first part and cleared by the final commit,
// which also writes the applied index last; a view taken between the
// parts refuses to become a snapshot.
func TestSplitTransactionMarksThePartialState(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{MemTableSize: 8 << 20}) // transactions of about 13,000 keys
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// A whole entry: split, marked, cleared, applied.
	tx := st.Begin()
	if err := tx.FeedAt(1); err != nil {
		t.Fatal(err)
	}
	if err := changeUnits(0, 20000)(tx); err != nil {
		t.Fatal(err)
	}
	if tx.Splits() == 0 {
		t.Fatal("20,000 units in an 8 MiB memtable did not split the transaction")
	}
	if p, _ := st.Partial(); !p {
		t.Fatal("a committed part left no mark")
	}
	if err := tx.SetApplied(1); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.Applied(); a != 0 {
		t.Fatalf("applied index %d committed with a part", a)
	}
	snap := st.Snapshot()
	if _, err := snap.WriteTo(errWriter{}); !errors.Is(err, ErrPartial) {
		t.Fatalf("snapshot between the parts: %v, want ErrPartial", err)
	}
	snap.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.Partial(); p {
		t.Fatal("the final commit left the mark")
	}
	if a, _ := st.Applied(); a != 1 {
		t.Fatalf("applied index %d, want 1", a)
	}

	// A crash between the parts: the mark stays, the index does not move.
	tx = st.Begin()
	if err := tx.FeedAt(2); err != nil {
		t.Fatal(err)
	}
	if err := changeUnits(30000, 20000)(tx); err != nil {
		t.Fatal(err)
	}
	_ = tx.SetApplied(2)
	tx.Discard()
	if p, _ := st.Partial(); !p {
		t.Fatal("no mark after a crash between the parts")
	}
	if a, _ := st.Applied(); a != 1 {
		t.Fatalf("applied index %d after a crash in entry 2, want 1", a)
	}
	if err := st.Clear(); err != nil {
		t.Fatal(err)
	}
	if p, _ := st.Partial(); p {
		t.Fatal("Clear kept the mark")
	}
}

// errWriter discards what it is given.
type errWriter struct{}

func (errWriter) Write(p []byte) (int, error) { return len(p), nil }
