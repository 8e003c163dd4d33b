package state

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func enrollSamples() ([]EnrollToken, []RevokedDevice) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	toks := []EnrollToken{
		{Hash: "aa01", Label: "goods-in 1", By: "admin", CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		{Hash: "bb02", Label: "goods-in 2", By: "admin", CreatedAt: at, ExpiresAt: at.Add(time.Hour),
			UsedAt: at.Add(time.Minute), Device: "DEVICE-A"},
	}
	revs := []RevokedDevice{{Device: "DEVICE-A", By: "admin", Reason: "lost", At: at.Add(2 * time.Minute)}}
	return toks, revs
}

func TestEnrollRecords(t *testing.T) {
	st := openTest(t)
	toks, revs := enrollSamples()
	tx := st.Begin()
	for _, tok := range toks {
		if err := tx.PutEnrollToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range revs {
		if err := tx.PutRevokedDevice(r); err != nil {
			t.Fatal(err)
		}
	}
	// The transaction reads its own writes.
	if got, err := tx.EnrollToken("bb02"); err != nil || !got.Used() || got.Device != "DEVICE-A" {
		t.Fatalf("in transaction: %+v, %v", got, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	err := st.View(func(r *Reader) error {
		gotToks, err := r.EnrollTokens()
		if err != nil || !reflect.DeepEqual(gotToks, toks) {
			t.Errorf("tokens %+v, %v", gotToks, err)
		}
		if _, err := r.EnrollToken("cc03"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		gotRevs, err := r.RevokedDevices()
		if err != nil || !reflect.DeepEqual(gotRevs, revs) {
			t.Errorf("revoked %+v, %v", gotRevs, err)
		}
		for dev, want := range map[string]bool{"DEVICE-A": true, "DEVICE-B": false} {
			if got, err := r.IsDeviceRevoked(dev); err != nil || got != want {
				t.Errorf("%s revoked %t, %v", dev, got, err)
			}
		}
		if d, err := r.RevokedDevice("DEVICE-A"); err != nil || d.Reason != "lost" {
			t.Errorf("revocation %+v, %v", d, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tx = st.Begin()
	if err := tx.DeleteEnrollToken("aa01"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = st.View(func(r *Reader) error {
		if got, err := r.EnrollTokens(); err != nil || len(got) != 1 || got[0].Hash != "bb02" {
			t.Errorf("after delete: %+v, %v", got, err)
		}
		return nil
	})
}

// TestEnrollRecordsSurviveSnapshot: tokens and revocations are part of
// the snapshot, and a restored replica hashes and reads alike.
func TestEnrollRecordsSurviveSnapshot(t *testing.T) {
	src := openTest(t)
	toks, revs := enrollSamples()
	tx := src.Begin()
	for _, tok := range toks {
		if err := tx.PutEnrollToken(tok); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range revs {
		if err := tx.PutRevokedDevice(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.SetApplied(7); err != nil {
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
	dst := openTest(t)
	if err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	hash := func(st *Store) string {
		var h string
		if err := st.View(func(r *Reader) error { var err error; h, err = r.Hash(); return err }); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if hash(src) != hash(dst) {
		t.Fatal("restored state hashes differently")
	}
	_ = dst.View(func(r *Reader) error {
		gotToks, err1 := r.EnrollTokens()
		gotRevs, err2 := r.RevokedDevices()
		if err1 != nil || err2 != nil || !reflect.DeepEqual(gotToks, toks) || !reflect.DeepEqual(gotRevs, revs) {
			t.Errorf("restored %+v %+v (%v, %v)", gotToks, gotRevs, err1, err2)
		}
		return nil
	})
}
