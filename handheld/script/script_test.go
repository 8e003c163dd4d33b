package script

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/demo"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		cmd  string
		args []string
		data string
		err  bool
	}{
		{in: "", ok: false},
		{in: "   # a comment", ok: false},
		{in: "login op1 1111", ok: true, cmd: "login", args: []string{"op1", "1111"}},
		{in: "login op1", err: true},
		{in: "close now", err: true},
		{in: "short 2 bin empty, asked lead\r", ok: true, cmd: "short", args: []string{"2", "bin", "empty,", "asked", "lead"}},
		{in: "]d20100350123456780172703011" + "0US01A<GS>21KHN000001", ok: true, cmd: "scan", data: "]d20100350123456780172703011" + "0US01A\x1d21KHN000001"},
		{in: "]d2010035012345678010US01A\x1d21X", ok: true, cmd: "scan", data: "]d2010035012345678010US01A\x1d21X"},
		{in: "scan (01)00350123456780(21)A", ok: true, cmd: "scan", data: "(01)00350123456780(21)A"},
		{in: "pack new", ok: true, cmd: "pack", args: []string{"new"}},
		{in: "hold-lot 00350123456780 US01B recall manufacturer notice", ok: true, cmd: "hold-lot", args: []string{"00350123456780", "US01B", "recall", "manufacturer", "notice"}},
		{in: strings.Repeat("x", MaxLine+1), err: true},
	}
	for _, c := range cases {
		l, ok, err := Parse([]byte(c.in))
		if c.err {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("%q: err %v", c.in, err)
			}
			continue
		}
		if err != nil || ok != c.ok {
			t.Fatalf("%q: ok %v err %v", c.in, ok, err)
		}
		if !ok {
			continue
		}
		if l.Cmd != c.cmd || string(l.Data) != c.data || strings.Join(l.Args, "|") != strings.Join(c.args, "|") {
			t.Fatalf("%q: %+v", c.in, l)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"login op1 1111", "receive ASN-1", "]d20100350123456780<GS>21A", "hold recall x", "scan ", "# c", "short 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, ok, err := Parse(b)
		if err != nil || !ok {
			return
		}
		if l.Cmd == "scan" && len(l.Data) == 0 && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("scan")) {
			t.Fatalf("empty scan from %q", b)
		}
		if lo, hi, isCmd := arity(l.Cmd); isCmd && l.Cmd != "scan" && (len(l.Args) < lo || hi >= 0 && len(l.Args) > hi) {
			t.Fatalf("%q: %d args for %s", b, len(l.Args), l.Cmd)
		}
	})
}

// A whole shift from a script: sign in, receive a pallet by its label,
// pick an order with a FEFO refusal, pack, ship, look up, and a bad line.
func TestRunScript(t *testing.T) {
	fx, err := demo.Build(demo.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), store.Options{Device: "hh-s", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := engine.New(st, engine.Config{DeviceNumber: 2, Now: func() time.Time { return time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Load(&fx.Snapshot); err != nil {
		t.Fatal(err)
	}
	pallet := fx.ASN(demo.ASNUS).Items[0].Key
	early := fx.Stock(fx.Product(3))[0]
	late := fx.Stock(fx.Product(3))[1]
	gs := func(b []byte) string { return strings.ReplaceAll(string(b), "\x1d", "<GS>") }
	lines := []string{
		"# receiving",
		"login op2 2222",
		"receive " + demo.ASNUS,
		string(demo.SSCCScan(pallet.SSCCValue())),
		"close",
		"pick " + demo.OrderEU,
		gs(fx.ScanOf(late.Units[0])), // FEFO warns for this client
		string(fx.ScanOf(early.Units[0])),
		"pack new",
		gs(fx.ScanOf(early.Units[0])),
		"lookup " + string(early.Units[0]),
		"frobnicate",
		"login op2",
		"logout",
	}
	var out bytes.Buffer
	sum, err := Run(e, strings.NewReader(strings.Join(lines, "\n")), &out)
	if err != nil {
		t.Fatal(err)
	}
	var got []Result
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	want := []engine.Verdict{engine.Accepted, engine.Accepted, engine.Accepted, engine.Accepted, engine.Accepted, engine.Warning,
		engine.Accepted, engine.Accepted, engine.Accepted, engine.Accepted, engine.Refused, engine.Refused, engine.Accepted}
	if len(got) != len(want) || sum.Steps != len(want) {
		t.Fatalf("%d results, %+v", len(got), sum)
	}
	for i, r := range got {
		if r.Verdict != want[i] {
			t.Fatalf("line %d %q: %s (%s), want %s", r.Line, r.Input, r.Verdict, r.Reason, want[i])
		}
	}
	if got[0].Input != "login op2 ****" || got[2].Units != 205 || got[3].Cue != engine.CueDone || got[9].Info == nil {
		t.Fatalf("details: %+v / %+v / %+v", got[0], got[2], got[3])
	}
	if sum.Refused != 2 || sum.Warnings != 1 {
		t.Fatalf("summary %+v", sum)
	}
}
