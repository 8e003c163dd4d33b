// Package refdata locates the reference test data that sits beside a
// checkout (../shared/testdata). Conformance tests read it when it is there
// and skip cleanly when it is not; nothing from it is ever copied into the
// repository.
package refdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the reference data is looked for.
const EnvVar = "CUSTODY_REFDATA"

// Find returns the reference data directory joined with elem, or "" when
// it is absent. It looks at $CUSTODY_REFDATA, then walks up from the
// working directory to the checkout root (the folder holding go.work) and
// looks for ../shared/testdata beside it.
func Find(elem ...string) string {
	if dir := os.Getenv(EnvVar); dir != "" {
		p := filepath.Join(append([]string{dir}, elem...)...)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			p := filepath.Join(append([]string{dir, "..", "shared", "testdata"}, elem...)...)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Require returns the reference path like Find, and skips the test when it
// is absent.
func Require(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := Find(elem...)
	if p == "" {
		tb.Skipf("reference data %s not present beside the checkout", filepath.Join(elem...))
	}
	return p
}
