// Package sync_test holds the dependency rules of the sync module: the
// protocol depends on the domain and a websocket library, never on the
// site's or the handheld's frameworks, so both sides can import it.
package sync_test

import (
	"os/exec"
	"strings"
	"testing"
)

var forbidden = []string{
	"github.com/gofiber/",
	"github.com/valyala/fasthttp",
	"github.com/fasthttp/",
	"github.com/dgraph-io/badger",
	"github.com/hashicorp/raft",
	"fyne.io/",
	"github.com/custodyhq/custody/server",
	"github.com/custodyhq/custody/handheld",
}

func TestSyncImportsNoFrameworks(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("the sync module depends on %s", d)
			}
		}
	}
}
