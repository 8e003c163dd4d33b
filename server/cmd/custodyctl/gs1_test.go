package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGS1Parse(t *testing.T) {
	const gtin = "00300010123455"
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		want   map[string]any // expected top-level fields (subset)
		ais    []gs1Element
		errHas string
	}{
		{
			name: "pack scan", args: []string{"gs1", "parse", "-"},
			stdin: "]d201" + gtin + "17270331" + "10A123\x1d21SN12345\n",
			want:  map[string]any{"symbology": "]d2", "gtin": gtin, "serial": "SN12345", "lot": "A123", "expiry": "2027-03-31"},
			ais:   []gs1Element{{"01", gtin}, {"17", "270331"}, {"10", "A123"}, {"21", "SN12345"}},
		},
		{
			name: "CRLF trimmed, DD=00", args: []string{"gs1", "parse", "-"},
			stdin: "]d201" + gtin + "17280200" + "21S\r\n",
			want:  map[string]any{"expiry": "2028-02-29", "serial": "S"},
			ais:   []gs1Element{{"01", gtin}, {"17", "280200"}, {"21", "S"}},
		},
		{
			name: "sscc", args: []string{"gs1", "parse", "--require", "container", "-"},
			stdin: "]C100006141411234567890",
			want:  map[string]any{"symbology": "]C1", "sscc": "006141411234567890", "kind": "container"},
			ais:   []gs1Element{{"00", "006141411234567890"}},
		},
		{
			name: "no symbology identifier", args: []string{"gs1", "parse", "-"},
			stdin: "01" + gtin + "21SN1\n",
			want:  map[string]any{"symbology": "", "serial": "SN1"},
			ais:   []gs1Element{{"01", gtin}, {"21", "SN1"}},
		},
		{
			name: "digital link", args: []string{"gs1", "parse", "--require=unit", "-"},
			stdin: "https://example.com/stem/01/" + gtin + "/10/L/21/S?17=270331\n",
			want:  map[string]any{"kind": "unit", "gtin": gtin, "lot": "L", "serial": "S", "expiry": "2027-03-31"},
			ais:   []gs1Element{{"01", gtin}, {"10", "L"}, {"21", "S"}, {"17", "270331"}},
		},
		{
			name: "plain datamatrix parses", args: []string{"gs1", "parse", "-"},
			stdin: "]d1010030001012345517270331",
			want:  map[string]any{"symbology": "]d1", "text": "010030001012345517270331"},
			ais:   []gs1Element{},
		},
		{
			name: "plain datamatrix refused as unit", args: []string{"gs1", "parse", "--require", "unit", "-"},
			stdin: "]d1010030001012345517270331", code: 1, errHas: "plain DataMatrix",
		},
		{
			name: "swallowed serial refused", args: []string{"gs1", "parse", "--require", "unit", "-"},
			stdin: "]d201" + gtin + "17270331" + "10A12321SN12345\n", code: 1,
			errHas: "the lot seems to contain the serial",
		},
		{
			name: "swallowed serial is syntax-valid", args: []string{"gs1", "parse", "-"},
			stdin: "]d201" + gtin + "17270331" + "10A12321SN12345\n",
			want:  map[string]any{"lot": "A12321SN12345"},
			ais:   []gs1Element{{"01", gtin}, {"17", "270331"}, {"10", "A12321SN12345"}},
		},
		{
			name: "unit without serial", args: []string{"gs1", "parse", "--require", "unit", "-"},
			stdin: "]d201" + gtin + "17270331", code: 1, errHas: "no serial number",
		},
		{
			name: "bad check digit", args: []string{"gs1", "parse", "-"},
			stdin: "]d201003000101234561727033110A123\x1d21SN12345", code: 1, errHas: "AI (01): check digit is wrong (expected 5)",
		},
		{
			name: "bad month", args: []string{"gs1", "parse", "-"},
			stdin: "]d201" + gtin + "17271331", code: 1, errHas: "AI (17): month 13 does not exist",
		},
		{
			name: "strict refuses missing identifier", args: []string{"gs1", "parse", "--strict", "-"},
			stdin: "01" + gtin + "21SN1", code: 1, errHas: "symbology identifier",
		},
		{
			name: "only one newline trimmed", args: []string{"gs1", "parse", "-"},
			stdin: "]d201" + gtin + "21SN1\n\n", code: 1, errHas: "AI (21)",
		},
		{
			name: "empty input", args: []string{"gs1", "parse", "-"},
			stdin: "\n", code: 1, errHas: "no data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tt.code, stdout.String(), stderr.String())
			}
			if strings.Count(strings.TrimSpace(stdout.String()), "\n") != 0 {
				t.Errorf("output is not one line: %q", stdout.String())
			}
			var got map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("output %q is not JSON: %v", stdout.String(), err)
			}
			if tt.code != 0 {
				msg, _ := got["error"].(string)
				if !strings.Contains(msg, tt.errHas) {
					t.Errorf("error %q does not say %q", msg, tt.errHas)
				}
				return
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			var typed gs1Result
			if err := json.Unmarshal(stdout.Bytes(), &typed); err != nil {
				t.Fatal(err)
			}
			if typed.AIs == nil || len(typed.AIs) != len(tt.ais) {
				t.Fatalf("ais = %v, want %v", typed.AIs, tt.ais)
			}
			for i := range tt.ais {
				if typed.AIs[i] != tt.ais[i] {
					t.Errorf("ais[%d] = %v, want %v", i, typed.AIs[i], tt.ais[i])
				}
			}
		})
	}
}

func TestGS1ParseFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "scan.bin")
	if err := os.WriteFile(p, []byte("]d20100300010123455\x1d21SN12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"gs1", "parse", p, "--require", "any"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	var got gs1Result
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Serial != "SN12345" || got.Kind != "unit" || got.Bracketed != "(01)00300010123455(21)SN12345" {
		t.Errorf("result = %+v", got)
	}

	stdout.Reset()
	if code := run(context.Background(), []string{"gs1", "parse", filepath.Join(dir, "missing")}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("missing file: exit %d", code)
	}
	if !strings.Contains(stdout.String(), `"error"`) {
		t.Errorf("missing file output %q", stdout.String())
	}
}

func TestGS1Usage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"gs1"}, 2},
		{[]string{"gs1", "--help"}, 0},
		{[]string{"gs1", "frobnicate"}, 2},
		{[]string{"gs1", "parse"}, 2},
		{[]string{"gs1", "parse", "-", "-"}, 2},
		{[]string{"gs1", "parse", "--require"}, 2},
		{[]string{"gs1", "parse", "--require", "pallet", "-"}, 2},
		{[]string{"gs1", "parse", "--bogus", "-"}, 2},
		{[]string{"gs1", "parse", "-h"}, 0},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, strings.NewReader("01003000101234552112\n"), &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, code, tt.code)
		}
		if !strings.Contains(stderr.String(), "usage: custodyctl gs1") && tt.code == 0 {
			t.Errorf("%v: no usage on stderr: %q", tt.args, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: wrote to stdout: %q", tt.args, stdout.String())
		}
	}
}
