package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/handheld/scan/wedge"
)

// cmdTestCard prints the wedge self-test card.
func cmdTestCard(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test-card", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (.png or .pdf)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return writeLabel(label.Product{Element: wedge.CardElement}, *out, stderr)
}

// cmdSelfTest reads lines typed by a keyboard-wedge scanner scanning the
// test card (stdin, or the file given) and prints the report as JSON.
func cmdSelfTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	in := io.Reader(os.Stdin)
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "custody-scan selftest:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	var lines []string
	br := bufio.NewReaderSize(in, wedge.MaxLine+2)
	for {
		l, err := br.ReadString('\n')
		if l != "" && l != "\n" && l != "\r\n" {
			lines = append(lines, l)
		}
		if err != nil {
			break
		}
	}
	rep := wedge.SelfTest(lines)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(rep); err != nil {
		return 1
	}
	if !rep.OK {
		return 1
	}
	return 0
}
