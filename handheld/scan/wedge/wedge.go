// Package wedge reads scanners that type their data as keystrokes
// (keyboard wedge): it restores group separators from the configured
// substitute, handles the symbology identifier, and notices the ways a
// wedge mangles GS1 data (GS dropped, case flipped by Caps Lock, ']'
// lost to a keyboard layout, terminators appended). A self-test against
// a printed test card says how a scanner is configured.
package wedge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
)

var (
	// ErrEmpty reports a line with no data.
	ErrEmpty = errors.New("wedge: empty scan")
	// ErrTooLong reports a line longer than any barcode.
	ErrTooLong = errors.New("wedge: line too long")
)

// MaxLine bounds one scan; a DataMatrix holds at most 3116 characters.
const MaxLine = 4096

// Config describes how the scanner is set up.
type Config struct {
	// GS lists the strings the scanner sends for FNC1/GS, e.g. "<GS>",
	// "^]", "~" or a chosen character. ASCII 29 is always accepted.
	GS []string
}

// DefaultConfig accepts the common GS substitutes.
func DefaultConfig() Config {
	return Config{GS: []string{"<GS>", "{GS}", "[GS]", "^]", "\u241d"}}
}

// symbologies that GS1 data may arrive with.
func symbologies() []string {
	return []string{"]d2", "]d1", "]C1", "]Q3", "]Q1", "]e0", "]E0", "]I1"}
}

// Result is one parsed wedge line.
type Result struct {
	Scan       scan.Scan
	Terminator string // what followed the data ("\r\n", "\n", "\t", "")
}

// Parse turns one typed line into a scan, restoring GS and noting
// mangling in Scan.Issues.
func Parse(line string, cfg Config) (Result, error) {
	if len(line) > MaxLine {
		return Result{}, fmt.Errorf("%w: %d bytes", ErrTooLong, len(line))
	}
	var res Result
	body := line
	for _, t := range []string{"\r\n", "\n\r", "\r", "\n", "\t"} {
		if strings.HasSuffix(body, t) {
			res.Terminator = t
			body = strings.TrimSuffix(body, t)
			break
		}
	}
	var issues []string
	// symbology identifier
	sym := ""
	for _, s := range symbologies() {
		if strings.HasPrefix(body, s) {
			sym, body = s, body[len(s):]
			break
		}
		if len(body) >= 3 && strings.EqualFold(body[:3], s) && body[0] == ']' {
			sym, body = s, body[3:]
			issues = append(issues, fmt.Sprintf("symbology identifier arrives as %q (case flipped: Caps Lock or case conversion on)", s[:1]+s[1:2]))
			break
		}
	}
	if sym == "" && len(body) >= 5 {
		// ']' lost or replaced by the keyboard layout: "d201…", "+d201…"
		for _, s := range symbologies() {
			id := s[1:]
			if strings.HasPrefix(body, id) && looksLikeAI(body[2:]) {
				sym, body = s, body[2:]
				issues = append(issues, "symbology identifier without ']' (keyboard layout drops it)")
				break
			}
			if body[0] != ']' && body[1:3] == id && looksLikeAI(body[3:]) {
				issues = append(issues, fmt.Sprintf("symbology identifier starts with %q instead of ']' (keyboard layout)", body[:1]))
				sym, body = s, body[3:]
				break
			}
		}
	}
	// group separators
	for _, g := range cfg.GS {
		if g != "" {
			body = strings.ReplaceAll(body, g, "\x1d")
		}
	}
	// a leading GS is FNC1 in first position sent as data
	body = strings.TrimPrefix(body, "\x1d")
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x20 && c != 0x1d || c == 0x7f {
			issues = append(issues, fmt.Sprintf("control character 0x%02X in data", c))
			break
		}
	}
	if body == "" {
		return Result{}, ErrEmpty
	}
	res.Scan = scan.Scan{Text: body, Symbology: sym, Origin: "wedge", Issues: issues}
	return res, nil
}

// looksLikeAI reports whether s starts like GS1 data (a two-digit AI
// prefix that exists).
func looksLikeAI(s string) bool {
	if len(s) < 3 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return false
	}
	switch s[:2] {
	case "00", "01", "02", "10", "11", "13", "15", "17", "21", "24", "37", "71", "91", "92":
		return true
	}
	return false
}

// Reader reads wedge lines from In (a terminal, a HID event bridge) and
// emits each as a scan.
type Reader struct {
	In     io.Reader
	Config Config
	Emit   func(Result)
	// Errors receives lines that could not be parsed; may be nil.
	Errors func(error)
}

// Serve reads until In ends (nil) or ctx is done (ctx.Err()). Reading
// blocks in In; cancel by closing In.
func (r *Reader) Serve(ctx context.Context) error {
	br := bufio.NewReaderSize(r.In, MaxLine+2)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := br.ReadString('\n')
		if line != "" {
			res, perr := Parse(line, r.Config)
			if perr == nil {
				res.Scan.At = time.Now()
				r.Emit(res)
			} else if r.Errors != nil && !errors.Is(perr, ErrEmpty) {
				r.Errors(perr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wedge: read: %w", err)
		}
	}
}
