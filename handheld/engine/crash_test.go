package engine

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

const crashEnv = "CUSTODY_CRASH_DIR"

// crashFixture is the small site the crash test works on: an order
// that takes any of the US ASN's product, FEFO off and mixing allowed,
// so picks and packs mostly succeed.
func crashFixture(t *testing.T) *demo.Fixture {
	p := demo.DefaultParams()
	p.CasesPerPallet, p.UnitsPerCase = 4, 10
	fx, err := demo.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	s := &fx.Snapshot
	s.Clients[0].Policy.FEFO, s.Clients[0].Policy.Mixing = master.FEFOOff, master.MixAny
	s.Orders = append(s.Orders, master.Order{ID: "ORD-BIG", Client: demo.ClientUS, Customer: "CUST-1",
		Lines: []master.OrderLine{{ID: "1", GTIN: fx.Product(0), Qty: 1000}}})
	return fx
}

// TestCrashChild is the child process of TestCrashSafety: it scans
// forever, printing "ACK seq id" once each step's transaction committed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("runs as the child of TestCrashSafety")
	}
	fx := crashFixture(t)
	st, err := store.Open(dir, store.Options{Device: "hh-crash", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(st, Config{DeviceNumber: 1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	e.user = &fx.Snapshot.Users[2] // lead1: may do everything; skips the PIN's work factor
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	_, cases, units := asn1(fx)
	var all []event.Key
	for _, c := range cases {
		all = append(all, c)
		for _, it := range units[c] {
			all = append(all, it.Key)
		}
	}
	for _, u := range fx.Snapshot.Units {
		all = append(all, u.Key)
	}
	reasons := []string{"suspect", "damaged", "investigation"}
	for {
		var s Step
		pick := all[rng.IntN(len(all))]
		switch n := rng.IntN(12); {
		case n < 4:
			_, err = e.StartReceive(demo.ASNUS)
			if err == nil {
				s, err = e.ScanItem(Item{Key: pick})
			}
		case n < 6:
			e.StartHold(reasons[rng.IntN(len(reasons))], "crash test")
			s, err = e.ScanItem(Item{Key: pick})
		case n < 8:
			e.StartRelease("")
			s, err = e.ScanItem(Item{Key: pick})
		case n < 10:
			_, err = e.StartPick("ORD-BIG")
			if err == nil {
				s, err = e.ScanItem(Item{Key: pick})
			}
		default:
			if _, ok := e.task.(*packTask); !ok || rng.IntN(4) == 0 {
				_, err = e.NewContainer()
			}
			if err == nil {
				s, err = e.ScanItem(Item{Key: pick})
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range s.Events {
			fmt.Printf("ACK %d %s\n", s.Seq-uint64(len(s.Events)-1-i), id)
		}
	}
}

// TestCrashSafety kills a child writing scans with SIGKILL at random
// points, then checks after each restart that the outbox is contiguous,
// holds every event the child reported accepted, and that the replica
// equals the snapshot with the outbox's events evaluated on it.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("child")
	}
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	if v, err := strconv.Atoi(os.Getenv("CUSTODY_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	fx := crashFixture(t)
	dir := t.TempDir()
	{
		st, err := store.Open(dir, store.Options{Device: "hh-crash", Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(&fx.Snapshot); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	acked := map[uint64]string{}
	start := time.Now()
	var verifyTime time.Duration
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of acknowledged steps, a random
		// moment later: before, during or after a commit.
		want := rng.IntN(8)
		sc := bufio.NewScanner(out)
		got := 0
		for got < want && sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ACK" {
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				acked[seq] = f[2]
				got++
			}
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		_ = cmd.Process.Kill()
		for sc.Scan() { // what was printed before the kill
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ACK" {
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				acked[seq] = f[2]
			}
		}
		_ = cmd.Wait()
		t1 := time.Now()
		verifyCrash(t, fx, dir, acked, round)
		verifyTime += time.Since(t1)
	}
	kinds := map[event.Kind]int{}
	if st, err := store.Open(dir, store.Options{Device: "hh-crash", Logger: quiet()}); err == nil {
		evs, _ := st.Pending(0)
		for _, ev := range evs {
			kinds[ev.Kind]++
		}
		st.Close()
	}
	for _, k := range []event.Kind{event.KindReceive, event.KindHold, event.KindRelease, event.KindPick, event.KindPack} {
		if kinds[k] == 0 && rounds >= 100 {
			t.Errorf("no %s event in %d rounds: the workload does not exercise it", k, rounds)
		}
	}
	t.Logf("events by kind: %v", kinds)
	t.Logf("%d rounds, %d events acknowledged, %s (verifying %s)", rounds, len(acked), time.Since(start).Round(time.Millisecond), verifyTime.Round(time.Millisecond))
}

func verifyCrash(t *testing.T, fx *demo.Fixture, dir string, acked map[uint64]string, round int) {
	t.Helper()
	st, err := store.Open(dir, store.Options{Device: "hh-crash", Logger: quiet()})
	if err != nil {
		t.Fatalf("round %d: reopen: %v", round, err)
	}
	defer st.Close()
	pending, err := st.Pending(0)
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	for i, ev := range pending {
		if ev.Seq != uint64(i+1) || ev.Epoch != st.Epoch() {
			t.Fatalf("round %d: outbox position %d holds %d/%d", round, i, ev.Epoch, ev.Seq)
		}
	}
	for seq, id := range acked {
		if seq > uint64(len(pending)) || pending[seq-1].ID.String() != id {
			t.Fatalf("round %d: accepted event %d (%s) lost; outbox has %d", round, seq, id, len(pending))
		}
	}
	// Rebuild the replica from the snapshot and the outbox.
	ref := unit.NewMemStore()
	for _, u := range fx.Snapshot.Units {
		ref.Units[u.Key] = u
	}
	for i := range fx.Snapshot.ASNs {
		a := &fx.Snapshot.ASNs[i]
		for _, it := range a.Items {
			if _, ok := ref.Units[it.Key]; !ok {
				ref.Units[it.Key] = store.ExpectedState(a, it)
			}
		}
	}
	for _, h := range fx.Snapshot.Holds {
		if h.Active {
			k := h.GTIN + "|" + h.Lot
			ref.LotHolds[k] = ref.LotHolds[k].With(h.Reason)
		}
	}
	roles := map[string]bool{}
	for _, u := range fx.Snapshot.Users {
		roles[u.ID] = u.Role.CanRelease()
	}
	for i := range pending {
		if _, err := unit.Evaluate(ref, &pending[i], unit.Env{Authorized: roles[pending[i].User]}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err = st.View(func(tx *store.Tx) error {
		if err := tx.EachUnit(func(s unit.State) error {
			n++
			if want := ref.Units[s.Key]; want != s {
				return fmt.Errorf("unit %s:\n device %+v\n replay %+v", s.Key, s, want)
			}
			return nil
		}); err != nil {
			return err
		}
		for id, x := range ref.Exceptions {
			got, err := tx.Exception(id)
			if err != nil {
				return fmt.Errorf("exception %s of the replay: %w", id, err)
			}
			if len(got.Events) != len(x.Events) || got.Rule != x.Rule {
				return fmt.Errorf("exception %s: device %+v replay %+v", id, got, x)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if n != len(ref.Units) {
		t.Fatalf("round %d: device has %d units, replay %d", round, n, len(ref.Units))
	}
}
