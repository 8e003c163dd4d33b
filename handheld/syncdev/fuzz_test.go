package syncdev_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/handheld/syncdev"
)

// FuzzMessagesFile: whatever a crash or a bad disk leaves in the
// messages file, opening the device never fails on it or panics, and
// keeps at most one message per (epoch, seq).
func FuzzMessagesFile(f *testing.F) {
	f.Add([]byte(`{"epoch":1,"seq":2,"outcome":3,"exceptions":["X1"],"text":"put it back","at":"2026-11-21T08:00:00Z"}` + "\n"))
	f.Add([]byte(`{"epoch":1,"seq":2,"outcome":3}` + "\n" + `{"epoch":1,"seq":2,"outcome":4}` + "\n" + `{"epoch":1,"se`))
	f.Add([]byte("\n\n{}\nnot json\n"))
	st, err := store.Open(f.TempDir(), store.Options{Device: "hh-f", Logger: quiet()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	eng, err := engine.New(st, engine.Config{Logger: quiet()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, syncdev.MessagesFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := syncdev.New(eng, dir)
		if err != nil {
			t.Fatalf("a damaged messages file made the device unusable: %v", err)
		}
		seen := map[[2]uint64]bool{}
		for _, m := range d.Messages() {
			k := [2]uint64{uint64(m.Epoch), m.Seq}
			if seen[k] {
				t.Fatalf("message %d/%d kept twice", m.Epoch, m.Seq)
			}
			seen[k] = true
		}
	})
}
