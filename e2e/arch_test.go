package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const modPrefix = "github.com/custodyhq/custody/"

// deps lists each package of module m with its dependencies.
func deps(t *testing.T, m string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", m)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list in %s: %v\n%s", m, err, out)
	}
	res := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			res[f[0]] = f[1:]
		}
	}
	return res
}

// TestLayering enforces DESIGN.md §3: dependencies point inward. Each
// module may import only the sibling modules its row allows, and certs
// only the standard library and x/crypto.
func TestLayering(t *testing.T) {
	allowed := map[string][]string{
		"shared":   {"shared"},
		"certs":    {"certs"},
		"sync":     {"sync", "shared"},
		"server":   {"server", "shared", "sync", "certs"},
		"handheld": {"handheld", "shared", "sync", "certs"},
	}
	for m, ok := range allowed {
		for pkg, ds := range deps(t, m) {
			for _, d := range ds {
				if !strings.HasPrefix(d, modPrefix) {
					continue
				}
				target := strings.SplitN(strings.TrimPrefix(d, modPrefix), "/", 2)[0]
				permitted := false
				for _, a := range ok {
					permitted = permitted || a == target
				}
				if !permitted {
					t.Errorf("%s imports %s: module %s may not depend on %s", pkg, d, m, target)
				}
			}
		}
	}
	for pkg, ds := range deps(t, "certs") {
		for _, d := range ds {
			host := strings.SplitN(d, "/", 2)[0]
			if strings.Contains(host, ".") && !strings.HasPrefix(d, modPrefix+"certs") &&
				!strings.HasPrefix(d, "golang.org/x/crypto") && !strings.HasPrefix(d, "golang.org/x/sys") {
				t.Errorf("%s depends on %s: certs may use only the standard library and x/crypto", pkg, d)
			}
		}
	}
}
