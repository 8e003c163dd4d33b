package workload

import (
	"testing"

	"github.com/custodyhq/custody/shared/event"
)

// TestKnow: known units take their numbers without events, so the next
// event is each device's first and receives the next number.
func TestKnow(t *testing.T) {
	built := New(Options{Seed: 1, Devices: 1})
	built.Receive(3)
	g := New(Options{Seed: 2, Devices: 1, Epoch: 2})
	g.Know(3)
	if len(g.Units()) != 3 || g.Units()[2] != built.Units()[2] {
		t.Fatalf("known units %v, built %v", g.Units(), built.Units())
	}
	ev := g.Receive(1)[0]
	if ev.Seq != 1 || ev.Epoch != 2 {
		t.Fatalf("first event after Know: epoch %d seq %d, want epoch 2 seq 1", ev.Epoch, ev.Seq)
	}
	if want := event.SGTIN("00300010123455", "S000000004"); ev.Subjects[0].Key != want {
		t.Fatalf("received %s, want %s", ev.Subjects[0].Key, want)
	}
}
