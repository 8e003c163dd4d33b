// Package shared_test holds the dependency rules of the domain module:
// shared is pure Go and imports no framework, storage, consensus, UI or
// transport package, so it can run anywhere, including on a handheld.
package shared_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are import-path prefixes the domain must never depend on.
var forbidden = []string{
	"github.com/gofiber/",
	"github.com/valyala/fasthttp",
	"github.com/fasthttp/",
	"github.com/dgraph-io/badger",
	"github.com/hashicorp/raft",
	"fyne.io/",
	"github.com/gorilla/websocket",
	"github.com/makiuchi-d/gozxing",
	"github.com/custodyhq/custody/sync",
	"github.com/custodyhq/custody/server",
	"github.com/custodyhq/custody/handheld",
	"github.com/custodyhq/custody/certs",
	"net/http",
	"os/exec",
}

// allowedIO lists packages of this module that may do I/O: test support
// only, never imported by domain code.
var allowedIO = map[string]bool{
	"github.com/custodyhq/custody/shared/refdata": true,
}

func TestDomainImportsNoFrameworks(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("go list found only %d packages:\n%s", len(lines), out)
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		if allowedIO[pkg] {
			continue
		}
		for _, d := range deps {
			if allowedIO[d] {
				t.Errorf("%s imports the test-support package %s", pkg, d)
			}
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s: the domain module must stay pure", pkg, d)
				}
			}
		}
	}
}
