package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLabelAndDecode(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "l.png")
	var out, errb bytes.Buffer
	if code := run([]string{"label", "--gs1", "(01)09506000134352(17)291231(10)ABC123(21)SN0001", "-o", png}, &out, &errb); code != 0 {
		t.Fatalf("label: %d %s", code, errb.String())
	}
	pdf := filepath.Join(dir, "s.pdf")
	if code := run([]string{"sscc-label", "--sscc", "106141411234567897", "--gtin", "09506000134352", "--count", "12", "-o", pdf}, &out, &errb); code != 0 {
		t.Fatalf("sscc-label: %d %s", code, errb.String())
	}
	if b, _ := os.ReadFile(pdf); !bytes.HasPrefix(b, []byte("%PDF")) {
		t.Error("not a PDF")
	}
	blank := filepath.Join(dir, "blank.png")
	if code := run([]string{"label", "--gs1", "(01)1", "-o", blank}, &out, &errb); code != 0 {
		t.Fatalf("short label: %s", errb.String())
	}
	out.Reset()
	code := run([]string{"decode", png, filepath.Join(dir, "missing.png")}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1 (one file missing)", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %s", len(lines), out.String())
	}
	var first struct {
		File, Text, Symbology string
		OK                    bool
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if !first.OK || first.Symbology != "]d2" || first.Text != "01095060001343521729123110ABC123\x1d21SN0001" {
		t.Errorf("decode: %+v", first)
	}
	if !strings.Contains(lines[0], `\u001d`) {
		t.Errorf("GS not escaped as \\u001d: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"ok":false`) || !strings.Contains(lines[1], `"error"`) {
		t.Errorf("missing file line: %s", lines[1])
	}
	out.Reset()
	if code := run([]string{"decode", png}, &out, &errb); code != 0 {
		t.Errorf("all read: exit %d", code)
	}
}

func TestSynthAndBench(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"synth", "-o", dir, "--count", "1", "--sizes", "320x240"}, &out, &errb); code != 0 {
		t.Fatalf("synth: %s", errb.String())
	}
	out.Reset()
	js := filepath.Join(dir, "r.json")
	if code := run([]string{"bench", "--group", "clean", "--json", js, dir}, &out, &errb); code != 0 {
		t.Fatalf("bench: %s", errb.String())
	}
	var rep benchReport
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) == 0 || rep.Rows[0].Group != "clean" || rep.Rows[0].Frames != 1 {
		t.Errorf("report %+v", rep)
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 {
		t.Errorf("unknown command exit %d", code)
	}
}

func TestSelfTestCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	card := filepath.Join(dir, "card.png")
	if code := run([]string{"test-card", "-o", card}, &out, &errb); code != 0 {
		t.Fatalf("test-card: %s", errb.String())
	}
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("]d2010950600013435210AbC12x\x1d21Sn9-Q\x1d17291231\r\n"), 0o644)
	out.Reset()
	if code := run([]string{"selftest", good}, &out, &errb); code != 0 {
		t.Errorf("good scanner: %s", out.String())
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("010950600013435210AbC12x21Sn9-Q17291231\n"), 0o644)
	out.Reset()
	if code := run([]string{"selftest", bad}, &out, &errb); code != 1 || !strings.Contains(out.String(), "group separator dropped") {
		t.Errorf("bad scanner: %d %s", code, out.String())
	}
	// the printed card reads back as exactly what a good scanner sends
	out.Reset()
	run([]string{"decode", card}, &out, &errb)
	if !strings.Contains(out.String(), `"text":"010950600013435210AbC12x\u001d21Sn9-Q\u001d17291231"`) {
		t.Errorf("card decode: %s", out.String())
	}
}
