package refdata

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "gs1"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, dir)
	if got := Find("gs1"); got != filepath.Join(dir, "gs1") {
		t.Fatalf("Find(gs1) = %q, want %q", got, filepath.Join(dir, "gs1"))
	}
	if got := Find("absent"); got != "" {
		t.Fatalf("Find(absent) = %q, want empty", got)
	}
}
