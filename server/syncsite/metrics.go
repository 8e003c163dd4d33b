package syncsite

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/sync/protocol"
	"github.com/custodyhq/custody/sync/session"
	"github.com/custodyhq/custody/sync/wire"
)

// metrics counts what this node's sync sessions do, for /metrics. It is
// the sessions' Observer; the endpoint adds what happens before a
// session exists (connections refused at the upgrade).
type metrics struct {
	opened   prometheus.Counter
	ended    *prometheus.CounterVec // by reason
	refused  *prometheus.CounterVec // by reason
	events   *prometheus.CounterVec // by verdict
	ack      prometheus.Histogram
	busy     prometheus.Counter
	gaps     prometheus.Counter
	feeds    *prometheus.CounterVec // by kind: changes, resync
	records  *prometheus.CounterVec // by kind
	sessions prometheus.Collector
}

func newMetrics(node string, hub func() *session.Hub) *metrics {
	labels := prometheus.Labels{"node": node}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "custody", Subsystem: "sync", Name: name, Help: help, ConstLabels: labels})
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "custody", Subsystem: "sync", Name: name, Help: help, ConstLabels: labels}, []string{label})
	}
	m := &metrics{
		opened:  counter("sessions_opened_total", "Device sessions admitted (WELCOME sent)."),
		ended:   vec("sessions_ended_total", "Admitted sessions that ended, by reason: the ERROR code the site sent, or \"closed\" when the device went away.", "reason"),
		refused: vec("refused_total", "Connections refused before a session began, by reason: no or a refused certificate, a full hub (busy), or the ERROR code sent.", "reason"),
		events:  vec("events_total", "Pushed events acknowledged, by verdict.", "verdict"),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "custody", Subsystem: "sync", Name: "push_ack_seconds",
			Help:        "From reading a PUSH to its PUSH_ACK, which waits for the raft commit and apply.",
			ConstLabels: labels, Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		busy:    counter("busy_total", "PUSHes answered BUSY (overload, or no leader)."),
		gaps:    counter("gaps_total", "PUSHes answered NACK_GAP."),
		feeds:   vec("change_sets_total", "Change sets sent to devices, by kind: changes, or resync (a whole replica).", "kind"),
		records: vec("change_records_total", "Records sent to devices in change sets, by kind of set.", "kind"),
		sessions: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "custody", Subsystem: "sync", Name: "devices",
			Help: "Devices with an admitted session on this node.", ConstLabels: labels},
			func() float64 { return float64(hub().Devices()) }),
	}
	// Every verdict and kind shows from the start, at zero.
	for _, o := range []protocol.Outcome{protocol.OutcomeApplied, protocol.OutcomeDuplicate, protocol.OutcomeConflict, protocol.OutcomeRejected} {
		m.events.WithLabelValues(o.String())
	}
	for _, k := range []string{"changes", "resync"} {
		m.feeds.WithLabelValues(k)
		m.records.WithLabelValues(k)
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.opened, m.ended, m.refused, m.events, m.ack, m.busy, m.gaps, m.feeds, m.records, m.sessions}
}

// reason names an ending for a label: the code's name ("too_large"),
// or "closed" when no ERROR was sent.
func reason(code uint16) string {
	if code == 0 {
		return "closed"
	}
	return strings.ReplaceAll(wire.CodeText(code), " ", "_")
}

func (m *metrics) Opened()           { m.opened.Inc() }
func (m *metrics) Ended(code uint16) { m.ended.WithLabelValues(reason(code)).Inc() }
func (m *metrics) Refused(code uint16, busy bool) {
	if busy {
		m.refused.WithLabelValues("busy").Inc()
		return
	}
	m.refused.WithLabelValues(reason(code)).Inc()
}

func (m *metrics) Acked(vs []protocol.Verdict, took time.Duration) {
	var n [4]int
	for _, v := range vs {
		if i := int(v.Outcome) - 1; i >= 0 && i < len(n) {
			n[i]++
		}
	}
	for i, c := range n {
		if c > 0 {
			m.events.WithLabelValues(protocol.Outcome(i + 1).String()).Add(float64(c))
		}
	}
	m.ack.Observe(took.Seconds())
}

func (m *metrics) Busy() { m.busy.Inc() }
func (m *metrics) Gap()  { m.gaps.Inc() }

func (m *metrics) Fed(resync bool, records int) {
	kind := "changes"
	if resync {
		kind = "resync"
	}
	m.feeds.WithLabelValues(kind).Inc()
	m.records.WithLabelValues(kind).Add(float64(records))
}

var _ session.Observer = (*metrics)(nil)
