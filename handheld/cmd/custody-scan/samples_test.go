package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSamples reads a sample folder (an image with its .txt, one without)
// at four rotations and writes the rotated images for external readers.
func TestSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"label", "--gs1", "(01)09506000134352(21)SN0001", "-o", filepath.Join(dir, "a.png")}, &out, &errb); code != 0 {
		t.Fatalf("label: %s", errb.String())
	}
	if code := run([]string{"label", "--gs1", "(01)09506000134352(21)SN0002", "-o", filepath.Join(dir, "b.png")}, &out, &errb); code != 0 {
		t.Fatalf("label: %s", errb.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("0109506000134352"+"21SN0001"), 0o644); err != nil {
		t.Fatal(err)
	}
	pgm := filepath.Join(t.TempDir(), "pgm")
	out.Reset()
	if code := run([]string{"samples", "--pgm", pgm, dir}, &out, &errb); code != 0 {
		t.Fatalf("samples: %d %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(strings.Join(strings.Fields(lines[1])[:6], " "), "set 1 1 1 1 1") {
		t.Fatalf("output:\n%s", out.String())
	}
	list, err := os.ReadFile(filepath.Join(pgm, "list.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(list), "\n"); n != 4 {
		t.Fatalf("list has %d lines:\n%s", n, list)
	}
	if _, err := os.Stat(filepath.Join(pgm, "set-270-a.pgm")); err != nil {
		t.Fatal(err)
	}
}
