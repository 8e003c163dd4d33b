package gs1

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/refdata"
)

var (
	refElement = regexp.MustCompile(`\((\d{2,4})\) `)
	refAI      = regexp.MustCompile(`AI \((\d{2,4})\)`)
)

// parseRefElements reads the reference engine's "(01) 0030...(17) 270331" rendering.
func parseRefElements(s string) []Element {
	idx := refElement.FindAllStringSubmatchIndex(s, -1)
	var out []Element
	for i, m := range idx {
		end := len(s)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		out = append(out, Element{AI: s[m[2]:m[3]], Value: s[m[1]:end]})
	}
	return out
}

// TestConformanceScanVectors checks every verdict of the GS1 reference
// syntax engine in scan-vectors.tsv: the same elements for OK, an error
// (naming the same AI when the reference does) for ERR.
func TestConformanceScanVectors(t *testing.T) {
	path := refdata.Require(t, "gs1", "scan-vectors.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 3 {
			t.Fatalf("malformed vector line %q", line)
		}
		for len(cols) < 4 {
			cols = append(cols, "")
		}
		mode, input, verdict, ref := cols[0], strings.ReplaceAll(cols[1], "<GS>", "\x1d"), cols[2], cols[3]
		n++
		t.Run(strings.ReplaceAll(cols[1], "/", "|"), func(t *testing.T) {
			var d Data
			var err error
			switch mode {
			case "SCAN":
				d, err = ParseWith([]byte(input), Options{RequireSymbology: true})
			case "DATA":
				d, err = ParseDigitalLink(input)
			case "AI":
				d, err = ParseBracketed(input)
			default:
				t.Fatalf("unknown mode %q", mode)
			}
			switch verdict {
			case "OK":
				if err != nil {
					t.Fatalf("reference accepts, we refuse: %v", err)
				}
				want := parseRefElements(ref)
				if len(want) != len(d.Elements) {
					t.Fatalf("elements = %q, reference %q", d.Elements, want)
				}
				for i := range want {
					if want[i] != d.Elements[i] {
						t.Errorf("element %d = %q, reference %q", i, d.Elements[i], want[i])
					}
				}
			case "ERR":
				if err == nil {
					t.Fatalf("reference refuses (%s), we accept %q", ref, d.Elements)
				}
				var ge *Error
				if !errors.As(err, &ge) {
					t.Fatalf("error %v is not a *gs1.Error", err)
				}
				if m := refAI.FindStringSubmatch(ref); m != nil && ge.AI != m[1] {
					t.Errorf("error %q names AI %q, reference %q names AI (%s)", err, ge.AI, ref, m[1])
				}
				t.Logf("reference: %s; we: %v", ref, err)
			default:
				t.Fatalf("unknown verdict %q", verdict)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 40 {
		t.Fatalf("read %d vectors, expected at least 40", n)
	}
}
