package sound

import (
	"bytes"
	"testing"

	"github.com/custodyhq/custody/handheld/engine"
)

// Every cue has a sound of its own, short enough not to hold up the next
// scan.
func TestCuesAreDistinct(t *testing.T) {
	cues := []engine.Cue{engine.CueOK, engine.CueWarn, engine.CueRefuse, engine.CueAlert, engine.CueDone}
	seen := map[string]engine.Cue{}
	for _, c := range cues {
		p := PCM(c)
		if len(p) == 0 || len(p) > 2*Rate*2 {
			t.Fatalf("%s: %d bytes", c, len(p))
		}
		if !bytes.ContainsFunc(p, func(r rune) bool { return r != 0 }) {
			t.Fatalf("%s is silence", c)
		}
		if o, dup := seen[string(p)]; dup {
			t.Fatalf("%s sounds like %s", c, o)
		}
		seen[string(p)] = c
	}
	if PCM("nope") != nil {
		t.Fatal("unknown cue has a sound")
	}
}

// Opening the player never fails: without a device it is silent and says why.
func TestOpenNeverFails(t *testing.T) {
	p := Open()
	if p == nil || p.Name() == "" {
		t.Fatalf("player %v", p)
	}
	p.Play(engine.CueOK)
}
