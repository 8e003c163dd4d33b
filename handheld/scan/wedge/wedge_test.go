package wedge

import (
	"context"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	card := CardData()
	tests := []struct {
		name, line, text, sym string
		issues                int
		term                  string
	}{
		{"clean", "]d2" + card + "\r\n", card, "]d2", 0, "\r\n"},
		{"substitute", "]d2" + strings.ReplaceAll(card, "\x1d", "<GS>") + "\n", card, "]d2", 0, "\n"},
		{"caret", "]d2" + strings.ReplaceAll(card, "\x1d", "^]"), card, "]d2", 0, ""},
		{"no symbology", card + "\t", card, "", 0, "\t"},
		{"upper symbology", "]D2" + card, card, "]d2", 1, ""},
		{"bracket dropped", "d2" + card, card, "]d2", 1, ""},
		{"layout bracket", "+d2" + card, card, "]d2", 1, ""},
		{"leading fnc1", "]d2\x1d" + card, card, "]d2", 0, ""},
		{"control char", "]d2" + card + "\x07", card + "\x07", "]d2", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.line, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if r.Scan.Text != tc.text || r.Scan.Symbology != tc.sym || len(r.Scan.Issues) != tc.issues || r.Terminator != tc.term {
				t.Errorf("got text %q sym %q issues %v term %q", r.Scan.Text, r.Scan.Symbology, r.Scan.Issues, r.Terminator)
			}
		})
	}
	if _, err := Parse("\r\n", DefaultConfig()); err == nil {
		t.Error("empty line accepted")
	}
	if _, err := Parse(strings.Repeat("1", MaxLine+1), DefaultConfig()); err == nil {
		t.Error("overlong line accepted")
	}
}

func TestSelfTest(t *testing.T) {
	card := CardData()
	tests := []struct {
		name  string
		lines []string
		ok    bool
		check func(Report) bool
	}{
		{"good", []string{"]d2" + card + "\r\n", "]d2" + card + "\r\n"}, true, func(r Report) bool { return r.Terminator == "\r\n" }},
		{"no symbology", []string{card + "\n"}, false, func(r Report) bool { return !r.SymbologyOK && r.GSOK }},
		{"gs dropped", []string{"]d2" + strings.ReplaceAll(card, "\x1d", "")}, false, func(r Report) bool { return !r.GSOK && r.GSSeen == "" }},
		{"gs substitute", []string{"]d2" + strings.ReplaceAll(card, "\x1d", "<GS>")}, false, func(r Report) bool { return r.GSSeen == "<GS>" }},
		{"caps lock", []string{swapCase("]d2" + card)}, false, func(r Report) bool { return r.CaseFlipped && !r.SymbologyOK }},
		{"layout", []string{"+d2" + card}, false, func(r Report) bool { return r.SymbologySeen == "+d2" }},
		{"inconsistent", []string{"]d2" + card, "]d2" + card[:10]}, false, func(r Report) bool { return !r.Consistent }},
		{"not the card", []string{"]d2010950600013435221X"}, false, func(r Report) bool { return len(r.Problems) > 0 }},
		{"none", nil, false, func(r Report) bool { return len(r.Problems) == 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := SelfTest(tc.lines)
			if r.OK != tc.ok || !tc.check(r) {
				t.Errorf("report %+v", r)
			}
			if !r.OK && len(r.Problems) == 0 {
				t.Error("not OK but no problem named")
			}
		})
	}
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

func TestReaderServe(t *testing.T) {
	in := strings.NewReader("]d2" + CardData() + "\r\n\r\n]d2" + strings.ReplaceAll(CardData(), "\x1d", "^]") + "\n")
	var got []Result
	r := &Reader{In: in, Config: DefaultConfig(), Emit: func(res Result) { got = append(got, res) }}
	if err := r.Serve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Scan.Text != CardData() || got[1].Scan.Text != CardData() {
		t.Fatalf("got %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("]d2" + CardData() + "\r\n")
	f.Add("d201")
	f.Add("]D2<GS>")
	f.Fuzz(func(t *testing.T, line string) {
		r, err := Parse(line, DefaultConfig())
		if err != nil {
			return
		}
		if r.Scan.Text == "" {
			t.Fatal("empty text without error")
		}
		if strings.HasPrefix(r.Scan.Text, "\x1d") && !strings.HasPrefix(line, "\x1d\x1d") && !strings.Contains(line, "\x1d\x1d") {
			// a leading separator is stripped once; only doubled ones remain
			if !strings.Contains(line, "<GS>") && !strings.Contains(line, "^]") && !strings.Contains(line, "{GS}") && !strings.Contains(line, "[GS]") && !strings.Contains(line, "\u241d") {
				t.Fatalf("leading GS kept for %q", line)
			}
		}
		_ = SelfTest([]string{line})
	})
}
