package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custodyhq/custody/server/sitetest"
)

// put sends a JSON request as the admin and fails the test unless the
// site takes it.
func put(t *testing.T, method, url string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("X-Custody-User", "admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
}

func TestRecall(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	url := site.Members[0].URL()
	put(t, "PUT", url+"/api/v1/clients/acme", map[string]any{"name": "Acme"})
	put(t, "PUT", url+"/api/v1/products/00300010123455", map[string]any{"client": "acme", "name": "Pill", "companyPrefixLen": 7})
	put(t, "POST", url+"/api/v1/asns", map[string]any{"id": "ASN-1", "client": "acme", "items": []map[string]any{
		{"key": "010030001012345521A1", "lot": "L1"}, {"key": "010030001012345521A2", "lot": "L1"}, {"key": "010030001012345521A3", "lot": "L2"}}})
	for _, tc := range []struct {
		name string
		args []string
		code int
		errs string
	}{
		{"no lot", []string{"recall", "00300010123455"}, 2, "usage"},
		{"a stray argument", []string{"recall", "00300010123455", "L1", "x"}, 2, "usage"},
		{"an unknown product", []string{"recall", "00300010999994", "L1"}, 1, "400"},
		{"a bad GTIN", []string{"recall", "123", "L1"}, 1, "gtin"},
	} {
		if code, _, errs := ctl(t, append([]string{"--server", url}, tc.args...)...); code != tc.code || !strings.Contains(errs, tc.errs) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, errs, tc.code, tc.errs)
		}
	}
	code, out, errs := ctl(t, "--server", url, "recall", "00300010123455", "L1", "--note", "class II")
	var rep struct {
		Recall      struct{ ID, Note string }
		Found, Held int
		ByStatus    map[string]int
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatalf("recall: %d %s %s", code, out, errs)
	}
	if rep.Recall.Note != "class II" || rep.Found != 2 || rep.ByStatus["expected"] != 2 {
		t.Fatalf("report %+v", rep)
	}
	code, out, errs = ctl(t, "--server", url, "recall", "00300010123455", "L1", "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[1][3] != "L1" {
		t.Fatalf("recall --csv: %d %v %v %s", code, rows, err, errs)
	}
}
