package gs1

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/custodyhq/custody/shared/refdata"
)

// TestDictionaryMatchesSyntaxDictionary compares the compiled-in table with
// GS1's syntax dictionary, line by line, when the reference file is present.
func TestDictionaryMatchesSyntaxDictionary(t *testing.T) {
	path := refdata.Require(t, "gs1", "gs1-syntax-dictionary.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flagTok := regexp.MustCompile(`^[*!?"$%&'()+,\-./:;<=>@\[\\\]^_` + "`" + `{|}~]+$`)
	attrTok := regexp.MustCompile(`^(req|ex|dlpkey)(=|$)`)
	var want []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		body, title, _ := strings.Cut(line, "#")
		toks := strings.Fields(body)
		r := row{title: strings.TrimSpace(title)}
		r.lo, r.hi, _ = strings.Cut(toks[0], "-")
		if r.hi == "" {
			r.hi = r.lo
		}
		toks = toks[1:]
		if len(toks) > 0 && flagTok.MatchString(toks[0]) {
			r.flags, toks = toks[0], toks[1:]
		}
		var spec, attrs []string
		for _, tok := range toks {
			if attrTok.MatchString(tok) {
				attrs = append(attrs, tok)
			} else {
				spec = append(spec, tok)
			}
		}
		r.spec, r.attrs = strings.Join(spec, " "), strings.Join(attrs, " ")
		want = append(want, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	got := dictionary()
	if len(got) != len(want) {
		t.Fatalf("table has %d rows, dictionary %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, dictionary %+v", i, got[i], want[i])
		}
	}
}
