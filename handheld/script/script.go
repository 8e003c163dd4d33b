// Package script drives the engine from a text script: one command or
// scan per line, one JSON verdict per step. The handheld's command line
// tool, tests and demos use it to run workflows without a screen.
//
// A line is a command when its first word is one of the command names
// below; anything else is scanner data, taken byte for byte. Scanner data
// carries the group separator either as the real 0x1D byte or written
// "<GS>". Blank lines and lines starting with '#' are skipped.
//
//	login USER PIN              sign in (PIN checked offline)
//	logout
//	receive ASN                 receive against an ASN; scans receive pallets, cases, units
//	verify                      open a container: first scan its label, then what is inside
//	close                       close the ASN (shortages), the verification, or the container
//	pick ORDER                  pick an order; scans pick units or cases
//	short LINE REASON...        short-pick a line of the order being picked
//	pack new | pack SSCC        pack into a new SSCC (numbered by the device) or an existing one
//	unpack                      scans take things out of their containers
//	ship SHIPMENT [DEST]        ship scanned containers on a shipment
//	void SHIPMENT               void a shipment that has not departed
//	hold REASON [NOTE...]       hold scanned things (suspect, recall, damaged, expired, investigation)
//	hold-lot GTIN LOT REASON [NOTE...]
//	release [REASON]            release holds (lead)
//	release-lot GTIN LOT        release a lot hold made on this device (lead)
//	destroy REASON...           destroy scanned things
//	decommission REASON...      decommission scanned things
//	revert                      revert decommissioned packs (lead)
//	lookup [KEY]                look up a key, or make scans look things up
//	return                      scans are saleable returns
//	scan DATA                   scanner data, explicitly
package script

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/shared/event"
)

// Errors returned by this package.
var (
	// ErrSyntax reports a command line that does not parse.
	ErrSyntax = errors.New("script: syntax error")
)

// MaxLine is the longest line a script may hold.
const MaxLine = 4096

// Line is one parsed script line.
type Line struct {
	Cmd  string   // command name; "scan" for scanner data
	Args []string // command arguments
	Data []byte   // scanner data for "scan", with GS bytes
}

// arity is each command's minimum and maximum argument count (-1: any).
func arity(cmd string) (lo, hi int, ok bool) {
	switch cmd {
	case "logout", "verify", "close", "unpack", "revert", "return":
		return 0, 0, true
	case "login", "release-lot":
		return 2, 2, true
	case "receive", "pick", "void":
		return 1, 1, true
	case "pack":
		return 1, 1, true
	case "ship":
		return 1, 2, true
	case "short":
		return 2, -1, true
	case "hold", "destroy", "decommission":
		return 1, -1, true
	case "hold-lot":
		return 3, -1, true
	case "release", "lookup":
		return 0, 1, true
	case "scan":
		return 1, -1, true
	}
	return 0, 0, false
}

// Unescape turns "<GS>" into the 0x1D byte.
func Unescape(b []byte) []byte { return bytes.ReplaceAll(b, []byte("<GS>"), []byte{0x1d}) }

// Parse reads one line (without its terminator). ok is false for a
// blank or comment line.
func Parse(line []byte) (l Line, ok bool, err error) {
	line = bytes.TrimRight(line, "\r")
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] == '#' {
		return Line{}, false, nil
	}
	if len(line) > MaxLine {
		return Line{}, false, fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, MaxLine)
	}
	fields := strings.Fields(string(trimmed))
	lo, hi, isCmd := arity(fields[0])
	if !isCmd {
		return Line{Cmd: "scan", Data: Unescape(trimmed)}, true, nil
	}
	args := fields[1:]
	if len(args) < lo || hi >= 0 && len(args) > hi {
		return Line{}, false, fmt.Errorf("%w: %s takes %s", ErrSyntax, fields[0], argWords(lo, hi))
	}
	if fields[0] == "scan" {
		rest := bytes.TrimSpace(trimmed[len("scan"):])
		return Line{Cmd: "scan", Data: Unescape(rest)}, true, nil
	}
	return Line{Cmd: fields[0], Args: args}, true, nil
}

func argWords(lo, hi int) string {
	switch {
	case lo == hi:
		return fmt.Sprintf("%d arguments", lo)
	case hi < 0:
		return fmt.Sprintf("at least %d arguments", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// Result is one output line: the step and the script line it answers.
type Result struct {
	Line  int    `json:"line"`
	Input string `json:"input"`
	engine.Step
}

// Exec runs one parsed line.
func Exec(e *engine.Engine, l Line) (engine.Step, error) {
	a := l.Args
	rest := func(i int) string { return strings.Join(a[i:], " ") }
	switch l.Cmd {
	case "login":
		return e.Login(a[0], a[1])
	case "logout":
		return e.Logout(), nil
	case "receive":
		return e.StartReceive(a[0])
	case "verify":
		return e.StartVerify(), nil
	case "close":
		return e.Close()
	case "pick":
		return e.StartPick(a[0])
	case "short":
		return e.ShortPick(a[0], rest(1))
	case "pack":
		if a[0] == "new" {
			return e.NewContainer()
		}
		k, err := keyArg(a[0])
		if err != nil {
			return engine.Step{}, err
		}
		return e.PackInto(k)
	case "unpack":
		return e.StartUnpack(), nil
	case "ship":
		dest := ""
		if len(a) > 1 {
			dest = a[1]
		}
		return e.StartShip(a[0], dest)
	case "void":
		return e.VoidShipment(a[0])
	case "hold":
		return e.StartHold(a[0], rest(1)), nil
	case "hold-lot":
		return e.HoldLot(a[0], a[1], a[2], rest(3))
	case "release":
		r := ""
		if len(a) > 0 {
			r = a[0]
		}
		return e.StartRelease(r), nil
	case "release-lot":
		return e.ReleaseLot(a[0], a[1])
	case "destroy":
		return e.StartDestroy(rest(0)), nil
	case "decommission":
		return e.StartDecommission(rest(0)), nil
	case "revert":
		return e.StartRevert(), nil
	case "lookup":
		if len(a) == 0 {
			return e.StartLookup(), nil
		}
		k, err := keyArg(a[0])
		if err != nil {
			return engine.Step{}, err
		}
		return e.Lookup(k)
	case "return":
		return e.StartReturn(), nil
	case "scan":
		return e.Scan(l.Data)
	}
	return engine.Step{}, fmt.Errorf("%w: unknown command %q", ErrSyntax, l.Cmd)
}

// keyArg reads a key given as an element string ("00…", "01…21…") or as
// bare 18 SSCC digits.
func keyArg(s string) (event.Key, error) {
	if len(s) == 18 {
		s = "00" + s
	}
	k, err := event.ParseKey(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return k, nil
}

// Run executes a script, writing one JSON line per step to out. A line
// that does not parse is reported as a refused step and the script goes
// on; an engine error (storage) stops it.
func Run(e *engine.Engine, in io.Reader, out io.Writer) (Summary, error) {
	var sum Summary
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine+2)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Bytes()
		l, ok, err := Parse(raw)
		if !ok && err == nil {
			continue
		}
		input := strings.ReplaceAll(string(bytes.TrimSpace(raw)), "\x1d", "<GS>")
		if l.Cmd == "login" {
			input = "login " + l.Args[0] + " ****"
		}
		var st engine.Step
		if err != nil {
			st = engine.Step{Verdict: engine.Refused, Cue: engine.CueRefuse, Action: "script", Reason: err.Error()}
		} else if st, err = Exec(e, l); err != nil {
			if errors.Is(err, ErrSyntax) {
				st = engine.Step{Verdict: engine.Refused, Cue: engine.CueRefuse, Action: l.Cmd, Reason: err.Error()}
			} else {
				return sum, fmt.Errorf("line %d: %w", n, err)
			}
		}
		sum.add(st.Verdict)
		if err := enc.Encode(Result{Line: n, Input: input, Step: st}); err != nil {
			return sum, fmt.Errorf("write result: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return sum, fmt.Errorf("read script: %w", err)
	}
	return sum, nil
}

// Summary counts a script's verdicts.
type Summary struct {
	Steps, Accepted, Warnings, Refused int
}

func (s *Summary) add(v engine.Verdict) {
	s.Steps++
	switch v {
	case engine.Accepted:
		s.Accepted++
	case engine.Warning:
		s.Warnings++
	case engine.Refused:
		s.Refused++
	}
}
