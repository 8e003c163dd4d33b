package syncsite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/sync/protocol"
)

// gather reads the endpoint's metrics: name{label=value} → value (a
// histogram gives its sample count).
func gather(t *testing.T, r *rig) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.ep.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			var labels []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "node" {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
			}
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[name] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[name] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestSyncMetrics: what a real session does over a real websocket shows
// in the node's custody_sync_* metrics: the device, its verdicts, the
// push→ack latency, the resync that filled its replica and a refused
// connection.
func TestSyncMetrics(t *testing.T) {
	r := newRig(t)
	keys := r.seed(t, 3)
	d := newDevice("dev-m", "op")
	c := r.run(t, d)
	waitFor(t, "the replica", func() bool { return d.unit(keys[0]).Known() })
	d.write(t, event.KindReceive, keys, event.Context{ASN: "A1", To: "DOCK"})
	d.write(t, event.KindMove, keys[:1], event.Context{From: "DOCK", To: "A-01"})
	c.Notify()
	waitFor(t, "both acknowledged", func() bool { _, ok := d.verdict(2); return ok })

	// A connection that speaks something else is refused.
	ws, _, err := websocket.DefaultDialer.DialContext(context.Background(), r.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte("hello?"))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	ws.Close()

	var m map[string]float64
	waitFor(t, "the refusal counted", func() bool {
		m = gather(t, r)
		return m[`custody_sync_refused_total{reason=version}`] == 1
	})
	v1, _ := d.verdict(1)
	v2, _ := d.verdict(2)
	want := map[string]float64{
		"custody_sync_devices":                         1,
		"custody_sync_sessions_opened_total":           1,
		"custody_sync_events_total{verdict=applied}":   0,
		"custody_sync_events_total{verdict=conflict}":  0,
		"custody_sync_events_total{verdict=rejected}":  0,
		"custody_sync_change_sets_total{kind=resync}":  1,
		"custody_sync_events_total{verdict=duplicate}": 0,
		"custody_sync_refused_total{reason=version}":   1,
		"custody_sync_busy_total":                      0,
		"custody_sync_gaps_total":                      0,
	}
	for _, v := range []protocol.Verdict{v1, v2} {
		want["custody_sync_events_total{verdict="+v.Outcome.String()+"}"]++
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %v, want %v", k, m[k], w)
		}
	}
	if n := m["custody_sync_push_ack_seconds"]; n < 1 || n > 2 {
		t.Errorf("push→ack samples %v, want one per PUSH (1 or 2)", n)
	}
	if m["custody_sync_change_records_total{kind=resync}"] < 3 {
		t.Errorf("resync carried %v records, want at least the 3 units", m["custody_sync_change_records_total{kind=resync}"])
	}
}
