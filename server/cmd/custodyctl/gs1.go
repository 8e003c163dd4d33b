package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/custodyhq/custody/shared/gs1"
)

const gs1Usage = `usage: custodyctl gs1 parse [--require unit|container|any] [--strict] (- | FILE)

Reads raw scanner output (GS as byte 0x1D, symbology identifier such as ]d2
optional), bracketed data "(01)...(21)..." or a GS1 Digital Link URI from
stdin (-) or FILE, trims one trailing newline, and prints one JSON object:
symbology, ais in order, and for product data gtin, serial, lot, expiry
(YYYY-MM-DD) or sscc. Exit 0 when valid; exit 1 with {"error": ...} when not.

  --require KIND  also check it is a usable identifier of that kind:
                  unit (GTIN + serial), container (SSCC, or case GTIN +
                  serial) or any
  --strict        refuse scanner data without a symbology identifier
`

// gs1Element is one AI in the output.
type gs1Element struct {
	AI    string `json:"ai"`
	Value string `json:"value"`
}

// gs1Result is the JSON printed for valid data.
type gs1Result struct {
	Symbology   string            `json:"symbology"`
	AIs         []gs1Element      `json:"ais"`
	Text        string            `json:"text,omitempty"` // payload of non-GS1 data (]d1 ...)
	Kind        string            `json:"kind,omitempty"` // with --require: unit or container
	GTIN        string            `json:"gtin,omitempty"`
	Serial      string            `json:"serial,omitempty"`
	Lot         string            `json:"lot,omitempty"`
	Expiry      string            `json:"expiry,omitempty"`
	SSCC        string            `json:"sscc,omitempty"`
	NHRN        map[string]string `json:"nhrn,omitempty"`
	Bracketed   string            `json:"bracketed,omitempty"`
	DigitalLink string            `json:"digital_link,omitempty"`
}

// gs1Failure is the JSON printed for invalid data.
type gs1Failure struct {
	Error string `json:"error"`
	AI    string `json:"ai,omitempty"`
}

func runGS1(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, gs1Usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "parse" {
		fmt.Fprintf(e.stderr, "custodyctl gs1: unknown subcommand %q\n%s", args[0], gs1Usage)
		return 2
	}
	var (
		want    gs1.Want
		require bool
		strict  bool
		input   string
		haveIn  bool
	)
	rest := args[1:]
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(e.stderr, gs1Usage)
			return 0
		case a == "--strict":
			strict = true
		case a == "--require" || strings.HasPrefix(a, "--require="):
			v, ok := strings.CutPrefix(a, "--require=")
			if !ok {
				if len(rest) == 0 {
					fmt.Fprintf(e.stderr, "custodyctl gs1: --require needs unit, container or any\n")
					return 2
				}
				v, rest = rest[0], rest[1:]
			}
			switch v {
			case "unit":
				want = gs1.WantUnit
			case "container":
				want = gs1.WantContainer
			case "any":
				want = gs1.WantAny
			default:
				fmt.Fprintf(e.stderr, "custodyctl gs1: --require %q: want unit, container or any\n", v)
				return 2
			}
			require = true
		case a == "-" || !strings.HasPrefix(a, "-"):
			if haveIn {
				fmt.Fprintf(e.stderr, "custodyctl gs1: more than one input given\n%s", gs1Usage)
				return 2
			}
			input, haveIn = a, true
		default:
			fmt.Fprintf(e.stderr, "custodyctl gs1: unknown flag %q\n%s", a, gs1Usage)
			return 2
		}
	}
	if !haveIn {
		fmt.Fprintf(e.stderr, "custodyctl gs1: no input: give - for stdin or a file\n%s", gs1Usage)
		return 2
	}

	var raw []byte
	var err error
	if input == "-" {
		raw, err = io.ReadAll(e.stdin)
	} else {
		raw, err = os.ReadFile(input)
	}
	if err != nil {
		return gs1Fail(e, fmt.Errorf("reading the input: %w", err))
	}
	raw = trimNewline(raw)

	d, err := gs1.ParseWith(raw, gs1.Options{RequireSymbology: strict})
	if err != nil {
		return gs1Fail(e, err)
	}
	out := gs1Result{Symbology: string(d.Symbology), AIs: make([]gs1Element, 0, len(d.Elements)), Text: d.Text}
	for _, el := range d.Elements {
		out.AIs = append(out.AIs, gs1Element{AI: el.AI, Value: el.Value})
	}
	now := time.Now()
	if require {
		p, err := gs1.Identify(d, want, gs1.Policy{Today: now})
		if err != nil {
			return gs1Fail(e, err)
		}
		out.Kind = p.Kind.String()
		out.GTIN, out.Serial, out.Lot, out.SSCC, out.NHRN = p.GTIN, p.Serial, p.Lot, p.SSCC, p.NHRN
		if !p.Expiry.IsZero() {
			out.Expiry = p.Expiry.Format(time.DateOnly)
		}
	} else {
		out.GTIN, _ = d.Value("01")
		out.Serial, _ = d.Value("21")
		out.Lot, _ = d.Value("10")
		out.SSCC, _ = d.Value("00")
		if raw, ok := d.Value("17"); ok {
			if t, err := gs1.Date(raw, now); err == nil {
				out.Expiry = t.Format(time.DateOnly)
			}
		}
	}
	if len(d.Elements) > 0 {
		out.Bracketed = d.Bracketed()
		if dl, err := d.DigitalLink(""); err == nil {
			out.DigitalLink = dl
		}
	}
	return gs1Print(e, out, 0)
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

func gs1Fail(e *env, err error) int {
	f := gs1Failure{Error: err.Error()}
	var ge *gs1.Error
	if errors.As(err, &ge) {
		f.AI = ge.AI
	}
	return gs1Print(e, f, 1)
}

func gs1Print(e *env, v any, code int) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(e.stderr, "custodyctl gs1: writing the result: %v\n", err)
		return 1
	}
	return code
}
