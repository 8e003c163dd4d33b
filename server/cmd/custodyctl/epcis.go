package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/custodyhq/custody/shared/epcis"
)

const epcisUsage = `usage:
  custodyctl epcis validate FILE...             check EPCIS documents (JSON-LD or 1.2 XML)
  custodyctl epcis convert --to jsonld|xml12 FILE  convert a document; "-" reads stdin`

func runEPCIS(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, epcisUsage)
		return 2
	}
	switch args[0] {
	case "validate":
		return epcisValidate(ctx, e, args[1:])
	case "convert":
		return epcisConvert(e, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(e.stdout, epcisUsage)
		return 0
	}
	fmt.Fprintf(e.stderr, "custodyctl epcis: unknown subcommand %q\n%s\n", args[0], epcisUsage)
	return 2
}

// readInput reads a document, at most epcis.DefaultMaxBytes of it: a
// larger file is refused before it is read whole.
func readInput(e *env, name string) ([]byte, error) {
	r := e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, epcis.DefaultMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > epcis.DefaultMaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", epcis.ErrTooLarge, epcis.DefaultMaxBytes)
	}
	return b, nil
}

// epcisValidate prints one verdict per file and every problem of the
// invalid ones; it exits 0 only when every file is valid.
func epcisValidate(ctx context.Context, e *env, files []string) int {
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, epcisUsage)
		return 2
	}
	code := 0
	for _, name := range files {
		if ctx.Err() != nil {
			return 1
		}
		data, err := readInput(e, name)
		if err != nil {
			fmt.Fprintf(e.stdout, "%s: ERROR %v\n", name, err)
			code = 1
			continue
		}
		doc, format, err := epcis.Decode(data)
		var ve *epcis.ValidationError
		switch {
		case err == nil:
			fmt.Fprintf(e.stdout, "%s: OK (%s, %s, %d events)\n", name, format, doc.Type, len(doc.Events))
		case errors.As(err, &ve):
			code = 1
			fmt.Fprintf(e.stdout, "%s: INVALID (%s, %d problems)\n", name, format, ve.Total)
			for _, p := range ve.Problems {
				fmt.Fprintf(e.stdout, "  %s: %s\n", p.Path, p.Reason)
			}
			if more := ve.Total - len(ve.Problems); more > 0 {
				fmt.Fprintf(e.stdout, "  ... and %d more (the first %d are listed)\n", more, len(ve.Problems))
			}
		default:
			code = 1
			fmt.Fprintf(e.stdout, "%s: ERROR %v\n", name, err)
		}
	}
	return code
}

// epcisConvert writes the document converted to the requested format on
// stdout. An invalid document is not converted: its problems go to
// stderr.
func epcisConvert(e *env, args []string) int {
	fs := flag.NewFlagSet("epcis convert", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	to := fs.String("to", "", "target format: jsonld (EPCIS 2.0 JSON-LD) or xml12 (EPCIS 1.2 XML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *to == "" {
		fmt.Fprintln(e.stderr, epcisUsage)
		return 2
	}
	format, err := epcis.ParseFormat(*to)
	if err != nil {
		fmt.Fprintf(e.stderr, "custodyctl epcis convert: %v\n", err)
		return 2
	}
	name := fs.Arg(0)
	data, err := readInput(e, name)
	if err != nil {
		fmt.Fprintf(e.stderr, "custodyctl epcis convert: %v\n", err)
		return 1
	}
	doc, _, err := epcis.Decode(data)
	if err != nil {
		var ve *epcis.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(e.stderr, "%s: INVALID (%d problems), not converted\n", name, len(ve.Problems))
			for _, p := range ve.Problems {
				fmt.Fprintf(e.stderr, "  %s: %s\n", p.Path, p.Reason)
			}
		} else {
			fmt.Fprintf(e.stderr, "%s: ERROR %v\n", name, err)
		}
		return 1
	}
	out, err := epcis.Encode(doc, format)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: cannot convert to %s: %v\n", name, format, err)
		return 1
	}
	if _, err := e.stdout.Write(out); err != nil {
		fmt.Fprintf(e.stderr, "custodyctl epcis convert: %v\n", err)
		return 1
	}
	return 0
}
