package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/sitetest"
)

// hostileEPCIS is a 1.2 document of n empty ObjectEvents: about 14 bytes
// an event, every one of them breaking the rules.
func hostileEPCIS(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2026-01-01T00:00:00Z"><EPCISBody><EventList>`)
	for range n {
		b.WriteString("<ObjectEvent/>")
	}
	b.WriteString(`</EventList></EPCISBody></epcis:EPCISDocument>`)
	return b.Bytes()
}

type epcisErrorBody struct {
	Error        string `json:"error"`
	Code         string `json:"code"`
	Field        string `json:"field"`
	ProblemCount int    `json:"problemCount"`
	Problems     []struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"problems"`
}

func TestEPCISImportBounds(t *testing.T) {
	site := sitetest.Start(t, sitetest.Options{})
	adm := client{t: t, base: site.Members[0].URL(), user: "admin"}
	setupTenants(t, adm)

	// 7 MB, 500,000 events: refused at the 100,001st event, long before
	// the end of the file.
	huge := hostileEPCIS(500_000)
	if len(huge) < 7_000_000 {
		t.Fatalf("document of %d bytes", len(huge))
	}
	code, _, b := adm.do("POST", "/api/v1/asns/epcis?client=a", huge)
	var eb epcisErrorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatalf("%d %.300s: %v", code, b, err)
	}
	if code != http.StatusRequestEntityTooLarge || eb.Code != "too_large" || !strings.Contains(eb.Error, "more than 100000 events") {
		t.Fatalf("7 MB of empty events: %d %+v", code, eb)
	}

	// A user without the client's grant is refused before the document
	// is read: 403 whatever the body holds.
	code, _, b = adm.as("op-b").do("POST", "/api/v1/asns/epcis?client=a", huge)
	if code != http.StatusForbidden {
		t.Fatalf("op-b importing for client a: %d %.300s", code, b)
	}
	code, _, b = adm.as("op-b").do("POST", "/api/v1/asns/epcis?client=a", hostileEPCIS(10))
	if code != http.StatusForbidden {
		t.Fatalf("op-b importing a small document for client a: %d %.300s", code, b)
	}

	// 20,000 bad events (280 KB): 400 with the first 100 problems and
	// the count; the answer stays small.
	code, _, b = adm.do("POST", "/api/v1/asns/epcis?client=a", hostileEPCIS(20_000))
	eb = epcisErrorBody{}
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusBadRequest || eb.Field != "body" || eb.ProblemCount != 80_000 || len(eb.Problems) != 100 ||
		eb.Problems[0].Path != "EPCISBody/EventList/ObjectEvent[1]/eventTime" {
		t.Fatalf("20,000 bad events: %d, %d problems listed of %d: %.500s", code, len(eb.Problems), eb.ProblemCount, b)
	}
	if len(b) > 64<<10 {
		t.Errorf("error body of %d bytes", len(b))
	}

	// A compressed body would be inflated without bound: refused.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(hostileEPCIS(10))
	_ = w.Close()
	req, err := http.NewRequest("POST", adm.base+"/api/v1/asns/epcis?client=a", &gz)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Custody-User", "admin")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("gzip body: %d", resp.StatusCode)
	}
}

// BenchmarkEPCISHostileImport posts the 7 MB document of 500,000 empty
// ObjectEvents to a one-node site and reports the time to the answer
// and the heap the node grew by meanwhile (sampled every millisecond):
//
//	go test ./api -run XXX -bench EPCISHostileImport -benchtime 5x -count 1
func BenchmarkEPCISHostileImport(b *testing.B) {
	site := sitetest.Start(b, sitetest.Options{})
	base := site.Members[0].URL()
	doc := hostileEPCIS(500_000)
	do := func(method, path string, body []byte) int {
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("X-Custody-User", "admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("PUT", "/api/v1/clients/a", []byte(`{"name":"A"}`)); code != http.StatusOK {
		b.Fatalf("client: %d", code)
	}
	var peak atomic.Uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		if code := do("POST", "/api/v1/asns/epcis?client=a", doc); code != http.StatusRequestEntityTooLarge {
			b.Fatalf("status %d", code)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load()-min(before, peak.Load()))/(1<<20), "peak-extra-heap-MB")
}
