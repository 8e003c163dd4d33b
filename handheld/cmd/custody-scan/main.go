// Command custody-scan decodes GS1 DataMatrix images, prints labels and
// runs the scanner benchmark.
//
//	custody-scan decode FILE…
//	custody-scan label --gs1 '(01)…(17)…(10)…(21)…' -o out.png|out.pdf
//	custody-scan sscc-label --sscc N [--gtin … --count … --lot … --expiry … --from … --to …] -o out.png|pdf
//	custody-scan synth -o DIR [--seed N --count N --sizes 640x480,1280x720]
//	custody-scan bench [--json FILE] [--no-baseline] [--list] DIR
//	custody-scan test-card -o card.png|pdf
//	custody-scan selftest [FILE]
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"decode":     cmdDecode,
		"label":      cmdLabel,
		"sscc-label": cmdSSCC,
		"synth":      cmdSynth,
		"bench":      cmdBench,
		"samples":    cmdSamples,
		"test-card":  cmdTestCard,
		"selftest":   cmdSelfTest,
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "custody-scan: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return f(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  custody-scan decode FILE…
  custody-scan label --gs1 '(01)…(17)…(10)…(21)…' -o out.png|out.pdf
  custody-scan sscc-label --sscc N [--gtin G --count N --lot L --expiry YYMMDD --from S --to S] -o out.png|out.pdf
  custody-scan synth -o DIR [--seed N --count N --sizes 640x480,1280x720,1920x1080]
  custody-scan bench [--json FILE] [--no-baseline] [--list] DIR
  custody-scan samples [--pgm DIR] [--budget D] SETDIR…   (public sample folders, 4 rotations)
  custody-scan test-card -o card.png|card.pdf
  custody-scan selftest [FILE]   (lines typed by a wedge scanner reading the test card)
`)
}
